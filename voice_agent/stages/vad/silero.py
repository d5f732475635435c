"""Silero VAD v5 (ONNX): 512-sample windows at 16 kHz or 256 at 8 kHz, recurrent state per stream.

The model expects each window prefixed with the last 64 (16 kHz) or 32 (8 kHz) samples of the one
before it, and its recurrent state carried over; both belong to one stream, so each VAD instance
keeps its own while every instance in the process shares one ONNX session.
"""

from __future__ import annotations

import logging
from pathlib import Path
from threading import Lock
from typing import Any

import numpy as np
import onnxruntime

from voice_agent.audio import PIPELINE_RATE
from voice_agent.audio.frame import Float32Array, Int16Array
from voice_agent.models import ModelStore
from voice_agent.settings import VadSettings
from voice_agent.stages.vad.framed import FramedVad
from voice_agent.stages.vad.segmenter import SegmenterSettings

logger = logging.getLogger(__name__)

MODEL_ID = "silero-vad"
MODEL_FILE = "silero_vad.onnx"
WINDOW_SIZES = {8000: 256, 16000: 512}
CONTEXT_SIZES = {8000: 32, 16000: 64}
_STATE_SHAPE = (2, 1, 128)
END_LOOKBACK_S = 0.2
"""Silero's probability fades over a few windows after the voice stops (measured: 0-200 ms)."""

_sessions: dict[Path, Any] = {}
_sessions_lock = Lock()


def shared_session(path: Path) -> Any:
    """One inference session per model file and process; sessions are safe to share."""
    with _sessions_lock:
        session = _sessions.get(path)
        if session is None:
            options = onnxruntime.SessionOptions()
            # One thread: a 32 ms window is too small to split; concurrent calls run side by side.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.add_session_config_entry("session.inter_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            logger.info("loaded Silero VAD from %s", path)
            _sessions[path] = session
        return session


class SileroClassifier:
    def __init__(self, session: Any, rate: int) -> None:
        if rate not in WINDOW_SIZES:
            raise ValueError(f"Silero VAD runs at {sorted(WINDOW_SIZES)} Hz, not {rate}")
        self._session = session
        self._rate = rate
        self._window_size = WINDOW_SIZES[rate]
        self._context_size = CONTEXT_SIZES[rate]
        self._rate_input = np.array(rate, dtype=np.int64)
        self._input: Float32Array = np.zeros(
            (1, self._context_size + self._window_size), dtype=np.float32
        )
        self._state: Float32Array = np.zeros(_STATE_SHAPE, dtype=np.float32)

    @property
    def rate(self) -> int:
        return self._rate

    @property
    def window_size(self) -> int:
        return self._window_size

    def speech_probability(self, window: Int16Array) -> float:
        if len(window) != self._window_size:
            raise ValueError(f"Silero VAD needs {self._window_size} samples, got {len(window)}")
        # The previous window's tail becomes this one's context, then the new samples follow.
        self._input[0, : self._context_size] = self._input[0, -self._context_size :]
        self._input[0, self._context_size :] = window.astype(np.float32) / 32768.0
        probability, self._state = self._session.run(
            None, {"input": self._input, "state": self._state, "sr": self._rate_input}
        )
        return float(probability.item())

    def reset(self) -> None:
        self._input.fill(0.0)
        self._state = np.zeros(_STATE_SHAPE, dtype=np.float32)


def engine_rate(input_rate: int) -> int:
    """8 kHz stays 8 kHz (phone lines); anything else runs at 16 kHz."""
    return input_rate if input_rate in WINDOW_SIZES else PIPELINE_RATE


def silero_vad(settings: VadSettings, models: ModelStore, rate: int) -> FramedVad:
    session = shared_session(models.file(MODEL_ID, MODEL_FILE))
    segments = SegmenterSettings(
        start_threshold=settings.silero_threshold,
        end_threshold=min(settings.silero_end_threshold, settings.silero_threshold),
        start_s=settings.start_ms / 1000,
        hangover_s=settings.hangover_ms / 1000,
        pause_s=settings.pause_ms / 1000 if settings.pause_ms else None,
        end_lookback_s=END_LOOKBACK_S,
    )
    return FramedVad(SileroClassifier(session, engine_rate(rate)), segments)
