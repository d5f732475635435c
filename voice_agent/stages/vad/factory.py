"""Picks the VAD engine named in the settings; one fresh, stateful instance per call."""

from __future__ import annotations

from voice_agent.models import ModelStore
from voice_agent.settings import VadSettings
from voice_agent.stages.vad import Vad


def create_vad(settings: VadSettings, models: ModelStore, rate: int) -> Vad:
    """A VAD for frames at `rate` Hz (other rates are resampled to the engine's)."""
    if settings.engine == "silero":
        from voice_agent.stages.vad.silero import silero_vad

        return silero_vad(settings, models, rate)
    from voice_agent.stages.vad.webrtc import webrtc_vad

    return webrtc_vad(settings, rate)
