"""G.711 mu-law and A-law in numpy (audioop left the standard library in Python 3.13)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voice_agent.audio.frame import Int16Array

_BIAS = 0x84


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    # The reference algorithm (CCITT, as in Sun's g711.c) works on 14-bit values.
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), 8159) + (_BIAS >> 2)
    segment_ends = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    segment = np.searchsorted(segment_ends, magnitude)
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)  # beyond the last segment: the largest code
    return ((code ^ mask) & 0xFF).astype(np.uint8)


def _ulaw_decode_table() -> Int16Array:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int32)
    sign = np.where(pcm >= 0, 0x80, 0x00)
    magnitude = np.minimum(np.where(pcm >= 0, pcm, -pcm - 1), 32767) >> 3
    exponent = np.zeros_like(magnitude)
    for bit in range(1, 8):
        exponent = np.where(magnitude >= (0x10 << bit), bit, exponent)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    code = np.asarray((sign | (exponent << 4) | mantissa) ^ 0x55)
    return code.astype(np.uint8)


def _alaw_decode_table() -> Int16Array:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


_ULAW_ENCODE = _ulaw_encode_table()
_ULAW_DECODE = _ulaw_decode_table()
_ALAW_ENCODE = _alaw_encode_table()
_ALAW_DECODE = _alaw_decode_table()


def ulaw_encode(samples: Int16Array) -> bytes:
    return _ULAW_ENCODE[samples.astype(np.int32) + 32768].tobytes()


def ulaw_decode(payload: bytes) -> Int16Array:
    return _ULAW_DECODE[np.frombuffer(payload, dtype=np.uint8)]


def alaw_encode(samples: Int16Array) -> bytes:
    return _ALAW_ENCODE[samples.astype(np.int32) + 32768].tobytes()


def alaw_decode(payload: bytes) -> Int16Array:
    return _ALAW_DECODE[np.frombuffer(payload, dtype=np.uint8)]
