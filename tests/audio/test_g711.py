from pathlib import Path

import numpy as np
import pytest

from voice_agent.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

DATA = Path(__file__).parent.parent / "data" / "g711"
ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)


@pytest.mark.parametrize(("law", "encode"), [("ulaw", ulaw_encode), ("alaw", alaw_encode)])
def test_encoding_matches_reference_for_every_sample(law: str, encode: object) -> None:
    reference = (DATA / f"{law}_encode.bin").read_bytes()
    assert callable(encode)
    assert encode(ALL_SAMPLES) == reference


@pytest.mark.parametrize(("law", "decode"), [("ulaw", ulaw_decode), ("alaw", alaw_decode)])
def test_decoding_matches_reference_for_every_code(law: str, decode: object) -> None:
    reference = np.frombuffer((DATA / f"{law}_decode.bin").read_bytes(), dtype="<i2")
    assert callable(decode)
    np.testing.assert_array_equal(decode(bytes(range(256))), reference)


def test_round_trip_error_is_within_quantisation() -> None:
    speechlike = np.linspace(-20000, 20000, 4001).astype(np.int16)
    for encode, decode in [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)]:
        restored = decode(encode(speechlike)).astype(np.int32)
        relative = np.abs(restored - speechlike) / np.maximum(
            np.abs(speechlike.astype(np.int32)), 256
        )
        assert relative.max() < 0.07
