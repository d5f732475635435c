"""create_vad: the engine the settings name, a fresh instance each call."""

from __future__ import annotations

import pytest

from tests.stages.vad.clips import boundary_errors, listen, noisy_clip
from voice_agent.models import ModelStore
from voice_agent.settings import ModelsSettings, PathsSettings, VadSettings
from voice_agent.stages.vad.factory import create_vad
from voice_agent.stages.vad.framed import FramedVad


@pytest.mark.parametrize("engine", ["webrtc", "silero"])
def test_each_engine_is_built_and_hears_speech(engine: str) -> None:
    settings = VadSettings.model_validate({"engine": engine})
    models = ModelStore(ModelsSettings(), PathsSettings())
    vad = create_vad(settings, models, 8000)
    assert isinstance(vad, FramedVad)
    assert create_vad(settings, models, 8000) is not vad
    clip = noisy_clip("en-us+m7", 8000, "white")
    assert not boundary_errors(clip, [heard.event for heard in listen(vad, clip.audio)])


def test_a_silero_end_threshold_above_the_start_one_is_capped() -> None:
    settings = VadSettings(engine="silero", silero_threshold=0.5, silero_end_threshold=0.8)
    models = ModelStore(ModelsSettings(), PathsSettings())
    clip = noisy_clip("en-gb+f3", 16000, "pink")
    vad = create_vad(settings, models, 16000)
    assert not boundary_errors(clip, [heard.event for heard in listen(vad, clip.audio)])
