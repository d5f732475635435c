"""Our recognition (stages/asr: faster-whisper, streamed) as a LiveKit STT.

LiveKit streams a session's audio into one recognition stream for as long as the session
runs; our streaming ASR takes one stream per utterance. So each LiveKit stream cuts the
audio into utterances with a VAD of ours, and for each: START_OF_SPEECH, INTERIM_TRANSCRIPT
for every partial pass that ran (words confirmed and pending, `[asr] stream_every_s`), then at
the end of speech the final pass over the unconfirmed tail as FINAL_TRANSCRIPT and
END_OF_SPEECH. A flush, or the end of the input, ends the utterance under way the same way.

Decoding runs on the App's inference scheduler (its threads), never on the event loop. Each
utterance is recognized with what the dialogue expects next (`CallContext.hint`: digits get
the digit prompt) unless the stream was opened for a fixed language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Never

from livekit import rtc
from livekit.agents import stt as lk_stt
from livekit.agents.language import LanguageCode
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import AudioBuffer, is_given, shortuuid

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.resample import StreamResampler, resample
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.integrations.livekit.frames import from_rtc
from voice_agent.integrations.livekit.vad import SpeechTrack, VadFactory
from voice_agent.stages.asr import (
    Asr,
    AsrHint,
    AsrStream,
    Interim,
    StreamingAsr,
    Transcript,
    WholeUtterance,
)
from voice_agent.stages.vad import Vad, VadEventKind

logger = logging.getLogger(__name__)


class VoiceAgentSTT(lk_stt.STT[Never]):  # no events of its own
    """LiveKit's STT interface over our ASR: whole buffers (`recognize`) and streams."""

    def __init__(
        self,
        asr: Asr,
        new_vad: VadFactory,
        streaming: StreamingAsr | None = None,
        context: CallContext | None = None,
        model: str = "whisper",
    ) -> None:
        """``streaming``: recognition while the caller speaks (App.asr_streaming); without
        it each utterance is decoded whole at its end. ``context``: the session's, for the
        hint and to hand the dialogue the transcript."""
        super().__init__(
            capabilities=lk_stt.STTCapabilities(
                streaming=True, interim_results=streaming is not None, offline_recognize=True
            )
        )
        self._asr = asr
        self._new_vad = new_vad
        self._streaming = streaming
        self._context = context if context is not None else CallContext()
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return "voice_agent"

    def hint(self, language: NotGivenOr[str] = NOT_GIVEN) -> AsrHint:
        hint = self._context.hint()
        if is_given(language):
            return AsrHint(expect=hint.expect, language=language)
        return hint

    def open_utterance(self, hint: AsrHint) -> AsrStream:
        if self._streaming is None:
            return WholeUtterance(self._asr, hint)
        return self._streaming.stream(hint)

    def heard(self, transcript: Transcript) -> None:
        self._context.last_heard = transcript

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> lk_stt.SpeechEvent:
        frames = buffer if isinstance(buffer, list) else [buffer]
        audio = resample(AudioFrame.concat([from_rtc(frame) for frame in frames]), PIPELINE_RATE)
        transcript = await self._asr.transcribe(audio, self.hint(language))
        self.heard(transcript)
        return _final(shortuuid(), transcript, 0.0, audio.duration)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> VoiceAgentRecognizeStream:
        return VoiceAgentRecognizeStream(self, language, conn_options)


def _final(
    request_id: str, transcript: Transcript, start_s: float, end_s: float
) -> lk_stt.SpeechEvent:
    return lk_stt.SpeechEvent(
        type=lk_stt.SpeechEventType.FINAL_TRANSCRIPT,
        request_id=request_id,
        alternatives=[
            lk_stt.SpeechData(
                language=LanguageCode(transcript.language),
                text=transcript.text,
                start_time=start_s,
                end_time=end_s,
                confidence=transcript.confidence,
            )
        ],
    )


class _Utterance:
    """One utterance under way: its recognition stream and the partial pass in flight."""

    def __init__(self, stream: AsrStream, started: float, language: str | None) -> None:
        self.id = shortuuid()
        self.stream = stream
        self.started = started
        self.language = language or "en"
        self.partial_running = False


class VoiceAgentRecognizeStream(lk_stt.RecognizeStream):
    def __init__(
        self, owner: VoiceAgentSTT, language: NotGivenOr[str], conn_options: APIConnectOptions
    ) -> None:
        self._owner = owner
        self._language = language
        self._detector: Vad | None = None
        self._to_pipeline: StreamResampler | None = None
        """From the input's rate to 16 kHz; the base class's own `_resampler` stays unused."""
        self._in_rate = 0
        self._heard_s = 0.0
        """Seconds of audio pushed so far: the stream's clock (16 kHz frames are stamped by it)."""
        self._track = SpeechTrack()
        self._utterance: _Utterance | None = None
        super().__init__(stt=owner, conn_options=conn_options)

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as partials:
            async for item in self._input_ch:
                if isinstance(item, rtc.AudioFrame):
                    await self._push(item, partials)
                else:  # a flush ends the utterance under way; the next one starts afresh
                    await self._finish(self._heard_s)
                    if self._detector is not None:
                        self._detector.reset()
            await self._finish(self._heard_s)

    async def _push(self, item: rtc.AudioFrame, partials: asyncio.TaskGroup) -> None:
        frame = self._pipeline_frame(item)
        if len(frame.samples) == 0:
            return
        self._track.heard(frame)
        assert self._detector is not None
        event = self._detector.process(frame)
        utterance = self._utterance
        if utterance is not None:
            utterance.stream.append(frame)
            self._maybe_partial(utterance, partials)
        if event is None:
            return
        if event.kind is VadEventKind.SPEECH_START and utterance is None:
            self._start(event.timestamp)
        elif event.kind is VadEventKind.SPEECH_END:
            await self._finish(event.timestamp)

    def _pipeline_frame(self, item: rtc.AudioFrame) -> AudioFrame:
        """The frame at 16 kHz, stamped with the stream's clock; a new input rate starts the
        VAD and the resampler afresh."""
        if self._detector is None or item.sample_rate != self._in_rate:
            self._in_rate = item.sample_rate
            self._to_pipeline = StreamResampler(item.sample_rate, PIPELINE_RATE)
            self._detector = self._owner._new_vad(PIPELINE_RATE)
        assert self._to_pipeline is not None
        converted = self._to_pipeline.process(from_rtc(item, 0.0))
        frame = AudioFrame(converted.samples, PIPELINE_RATE, self._heard_s)
        self._heard_s = frame.end
        return frame

    def _start(self, at: float) -> None:
        hint = self._owner.hint(self._language)
        self._track.start(at)
        stream = self._owner.open_utterance(hint)
        for frame in self._track.audio:
            stream.append(frame)
        self._utterance = _Utterance(stream, at, hint.language)
        self._event_ch.send_nowait(
            lk_stt.SpeechEvent(
                type=lk_stt.SpeechEventType.START_OF_SPEECH, request_id=self._utterance.id
            )
        )

    def _maybe_partial(self, utterance: _Utterance, partials: asyncio.TaskGroup) -> None:
        if utterance.partial_running:
            return
        due = utterance.stream.partial()
        if due is not None:
            utterance.partial_running = True
            partials.create_task(self._interim(utterance, due))

    async def _interim(self, utterance: _Utterance, due: Awaitable[Interim]) -> None:
        try:
            interim = await due
        except Exception:
            logger.exception("a partial recognition pass failed")  # the final pass still runs
            return
        finally:
            utterance.partial_running = False
        text = " ".join(part for part in (interim.confirmed, interim.pending) if part)
        if utterance is not self._utterance or not text:
            return  # the utterance ended meanwhile: its final transcript says it all
        self._event_ch.send_nowait(
            lk_stt.SpeechEvent(
                type=lk_stt.SpeechEventType.INTERIM_TRANSCRIPT,
                request_id=utterance.id,
                alternatives=[
                    lk_stt.SpeechData(
                        language=LanguageCode(utterance.language),
                        text=text,
                        start_time=utterance.started + self.start_time_offset,
                        end_time=self._heard_s + self.start_time_offset,
                    )
                ],
            )
        )

    async def _finish(self, ended: float) -> None:
        """The utterance under way (if any) is over: its final transcript, then its end."""
        utterance, self._utterance = self._utterance, None
        if utterance is None:
            return
        self._track.end(ended)
        transcript = await utterance.stream.transcript()
        if transcript.text.strip():
            self._owner.heard(transcript)
            offset = self.start_time_offset
            self._event_ch.send_nowait(
                _final(utterance.id, transcript, utterance.started + offset, ended + offset)
            )
        self._event_ch.send_nowait(
            lk_stt.SpeechEvent(type=lk_stt.SpeechEventType.END_OF_SPEECH, request_id=utterance.id)
        )
