"""Recorded calls end to end: the real models, the demo shop, a caller speaking with the
bundled Piper voice, over the WAV transport in stepped time (deterministic)."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from voice_agent.agent.observe import ObservedRecorder
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.app import App
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.bench.caller import Line
from voice_agent.bench.simulate import SimulatedCall, simulate_call
from voice_agent.bench.voices import piper_speaker
from voice_agent.dialogue.replies import language
from voice_agent.settings import load_settings
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.views import ConversationView


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data = tmp_path_factory.mktemp("recorded")
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(data),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{data / 'calls.sqlite3'}",
            "VOICE_AGENT_RECORDINGS__ENABLED": "true",
            "VOICE_AGENT_RECORDINGS__DIR": str(data / "recordings"),
        }
    )
    app = App(settings)
    import_document(app.database, demo_document(datetime.now(UTC)), "demo")
    asyncio.run(app.warm_up())
    yield app
    app.close()


def _lines(app: App, *sentences: str) -> list[Line]:
    speak = piper_speaker(app.models)
    return [Line(resample(speak(text, 1.0), PIPELINE_RATE), text) for text in sentences]


def _conversation(app: App, call: SimulatedCall) -> ConversationView:
    recorder = call.session.parts.recorder
    assert isinstance(recorder, ObservedRecorder) and isinstance(recorder.inner, StoreRecorder)
    conversation_id = recorder.inner.conversation_id
    return next(c for c in app.repository.conversations() if c.id == conversation_id)


def _agent_turns(app: App, conversation: ConversationView) -> list[str]:
    return [t.text for t in app.repository.turns(conversation.id) if t.speaker == "agent"]


def _read_stereo(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(io.BytesIO(path.read_bytes()), "rb") as handle:
        assert (handle.getnchannels(), handle.getsampwidth()) == (2, 2)
        rate = handle.getframerate()
        raw = handle.readframes(handle.getnframes())
    return rate, np.frombuffer(raw, "<i2").reshape(-1, 2)


def test_a_recorded_call_opens_with_the_notice_and_keeps_both_sides(app: App) -> None:
    lines = _lines(app, "Hello. Where is my order?", "I don't have it. Thanks, goodbye.")
    call = asyncio.run(simulate_call(app, lines))
    conversation = _conversation(app, call)
    assert conversation.recording_consent is True and conversation.recording_path
    path = app.settings.paths.resolve(app.settings.recordings.dir) / conversation.recording_path
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    rate, stereo = _read_stereo(path)
    assert rate == PIPELINE_RATE
    caller, agent = call.call.caller(), call.call.agent()
    assert abs(len(stereo) / rate - caller.duration) < 0.1  # the whole call
    # the caller's audio, as received, on the left; what the line played on the right
    length = min(len(stereo), len(caller.samples))
    assert np.array_equal(stereo[:length, 0], caller.samples[:length])
    assert np.array_equal(stereo[:length, 1], agent.samples[:length])
    assert np.abs(stereo[:, 0]).max() > 1000 and np.abs(stereo[:, 1]).max() > 1000
    # and the first words the agent said were the notice
    opening = AudioFrame(np.ascontiguousarray(stereo[: 5 * rate, 1]), rate)
    heard = asyncio.run(app.asr.transcribe(opening)).text.lower()
    # (the words, not the exact transcript: Whisper tiny hears "how he did" now and then)
    assert "recorded" in heard and "check how" in heard, heard
    assert _agent_turns(app, conversation)[0].startswith(language("en").say("recording.notice"))


def test_a_caller_who_objects_is_not_recorded(app: App) -> None:
    folder = app.settings.paths.resolve(app.settings.recordings.dir)
    before = set(folder.iterdir())
    lines = _lines(app, "Please don't record this call.", "Thank you. Goodbye.")
    call = asyncio.run(simulate_call(app, lines))
    conversation = _conversation(app, call)
    assert conversation.recording_consent is False and conversation.recording_path is None
    assert set(folder.iterdir()) == before
    said = _agent_turns(app, conversation)
    assert any("this call won't be recorded" in text for text in said), said
