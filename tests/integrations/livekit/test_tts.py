"""Our Piper TTS through LiveKit's TTS interface: 16 kHz speech, clause by clause."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import tts as lk_tts

from voice_agent.app import App
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.levels import rms_dbfs
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.integrations.livekit.frames import from_rtc
from voice_agent.integrations.livekit.tts import VoiceAgentTTS

pytestmark = pytest.mark.slow

TEXT = "Your parcel left the warehouse on Monday, and it should arrive in Berlin on Friday."


async def _synthesize(tts: VoiceAgentTTS, text: str) -> list[lk_tts.SynthesizedAudio]:
    async with tts.synthesize(text) as stream:
        return [audio async for audio in stream]


def test_speech_comes_at_16khz_in_frames_loud_and_as_long_as_the_words(app: App) -> None:
    tts = VoiceAgentTTS(app.tts, CallContext())
    synthesized = asyncio.run(_synthesize(tts, TEXT))

    frames = [audio.frame for audio in synthesized]
    assert len(frames) > 10  # streamed in pieces, not one block
    assert {(f.sample_rate, f.num_channels) for f in frames} == {(PIPELINE_RATE, 1)}
    assert synthesized[-1].is_final
    audio = from_rtc(rtc.combine_audio_frames(frames))
    words_per_second = len(TEXT.split()) / audio.duration
    assert 1.5 < words_per_second < 5.0, audio.duration
    assert rms_dbfs(audio.samples) > -35.0
    assert np.abs(audio.samples).max() > 3000


def test_the_words_can_be_heard_back(app: App) -> None:
    synthesized = asyncio.run(_synthesize(VoiceAgentTTS(app.tts), TEXT))
    audio = from_rtc(rtc.combine_audio_frames([s.frame for s in synthesized]))
    heard = asyncio.run(app.asr.transcribe(audio)).text.lower()
    assert "parcel" in heard and "berlin" in heard, heard


def test_the_reply_language_picks_the_voice(app: App) -> None:
    text = "Ihr Paket ist unterwegs."

    async def direct() -> list[AudioFrame]:
        return [frame async for frame in app.tts.synthesize(text, "de")]

    german_voice = AudioFrame.concat(asyncio.run(direct())).samples
    context = CallContext(speaking="de")
    german = asyncio.run(_synthesize(VoiceAgentTTS(app.tts, context), text))
    english = asyncio.run(_synthesize(VoiceAgentTTS(app.tts), text))
    as_german = from_rtc(rtc.combine_audio_frames([s.frame for s in german])).samples
    as_english = from_rtc(rtc.combine_audio_frames([s.frame for s in english])).samples
    # the same audio, LiveKit's emitter adding at most a 10 ms silent marker at the end
    assert np.array_equal(as_german[: len(german_voice)], german_voice)
    assert len(as_german) - len(german_voice) <= PIPELINE_RATE // 100
    assert not as_german[len(german_voice) :].any()
    assert not np.array_equal(as_english[: len(german_voice)], german_voice)
