"""Our VAD (stages/vad: webrtcvad or Silero, boundaries refined on energy) as a LiveKit VAD.

Each LiveKit stream gets a fresh VAD of ours (it is stateful) for the rate of the first frame
it is pushed. Our SPEECH_START and SPEECH_END become LiveKit's START_OF_SPEECH and
END_OF_SPEECH; every pushed frame also yields an INFERENCE_DONE, which LiveKit reads for
interruptions and for the user's silence. Our tentative PAUSE still counts as speech (LiveKit
has no such event) but starts the silence count; RESUME ends it. The frames of START_OF_SPEECH
begin at the boundary our VAD found (kept from just before the report), those of
END_OF_SPEECH hold the whole utterance.

The VAD runs on the event loop, as in our own call session: a window costs microseconds with
webrtcvad and well under a millisecond with Silero, less than handing it to a thread.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from livekit import rtc
from livekit.agents import vad as lk_vad

from voice_agent.audio import AudioFrame
from voice_agent.integrations.livekit.frames import from_rtc, to_rtc
from voice_agent.stages.vad import Vad, VadEvent, VadEventKind

VadFactory = Callable[[int], Vad]
"""A fresh VAD of ours for frames at this rate (App.new_vad)."""

PRE_ROLL_S = 1.0
"""Audio kept from before a SPEECH_START: the boundary it reports lies up to the minimum
speech length plus the energy look-back before the report."""

UPDATE_INTERVAL_S = 0.02
"""LiveKit's metrics count INFERENCE_DONE events per second by this interval: one per frame,
and frames from a room are 10-20 ms."""


@dataclass(slots=True)
class SpeechTrack:
    """Sans-I/O: where the speech under way began and where its quiet began, in stream time
    (seconds of audio pushed), and the audio that belongs to it."""

    started: float | None = None
    silent_since: float = 0.0
    """Where the last speech ended (or the stream began)."""
    quiet_since: float | None = None
    """The tentative PAUSE's boundary, until RESUME or SPEECH_END."""
    audio: list[AudioFrame] = field(default_factory=list)
    pre_roll: deque[AudioFrame] = field(default_factory=deque)

    @property
    def speaking(self) -> bool:
        return self.started is not None

    def heard(self, frame: AudioFrame) -> None:
        if self.speaking:
            self.audio.append(frame)
            return
        self.pre_roll.append(frame)
        while self.pre_roll and frame.end - self.pre_roll[0].end > PRE_ROLL_S:
            self.pre_roll.popleft()

    def start(self, at: float) -> None:
        """Speech began at `at`: its audio is what the pre-roll holds from there on."""
        self.started, self.quiet_since = at, None
        self.audio = [
            kept.slice(max(0.0, at - kept.timestamp)) for kept in self.pre_roll if kept.end > at
        ]
        self.pre_roll.clear()

    def end(self, at: float) -> list[AudioFrame]:
        """The utterance ended at `at`: its audio; the track is silent again."""
        audio, self.audio = self.audio, []
        self.started = self.quiet_since = None
        self.silent_since = at
        return audio

    def reset(self, at: float) -> None:
        self.end(at)
        self.pre_roll.clear()


class VoiceAgentVAD(lk_vad.VAD):
    """LiveKit's VAD interface over ours."""

    def __init__(self, new_vad: VadFactory, engine: str = "webrtc") -> None:
        super().__init__(capabilities=lk_vad.VADCapabilities(update_interval=UPDATE_INTERVAL_S))
        self._new_vad = new_vad
        self._engine = engine

    @property
    def model(self) -> str:
        return self._engine

    @property
    def provider(self) -> str:
        return "voice_agent"

    def stream(self) -> VoiceAgentVADStream:
        return VoiceAgentVADStream(self, self._new_vad)


class VoiceAgentVADStream(lk_vad.VADStream):
    def __init__(self, owner: VoiceAgentVAD, new_vad: VadFactory) -> None:
        self._new_vad = new_vad
        self._detector: Vad | None = None
        self._rate = 0
        self._pushed = 0
        """Samples pushed so far: the stream's clock."""
        self._track = SpeechTrack()
        super().__init__(owner)  # starts _main_task: everything it reads is set above

    async def _main_task(self) -> None:
        async for item in self._input_ch:
            if isinstance(item, rtc.AudioFrame):
                self._push(item)
            else:  # a flush: a hard segment boundary, the next frame starts afresh
                if self._detector is not None:
                    self._detector.reset()
                self._track.reset(self._pushed / max(self._rate, 1))

    def _push(self, item: rtc.AudioFrame) -> None:
        if self._detector is None or item.sample_rate != self._rate:
            # a new rate (or the first frame): a VAD for it, the stream's clock from zero
            self._detector, self._rate = self._new_vad(item.sample_rate), item.sample_rate
            self._pushed = 0
            self._track.reset(0.0)
        frame = from_rtc(item, self._pushed / self._rate)
        self._pushed += len(frame.samples)
        self._track.heard(frame)
        began = time.perf_counter()
        event = self._detector.process(frame)
        inference_s = time.perf_counter() - began
        if event is not None:
            self._on_event(event, frame.end)
        self._event_ch.send_nowait(self._inference_done(item, frame.end, inference_s))

    def _on_event(self, event: VadEvent, now: float) -> None:
        track = self._track
        if event.kind is VadEventKind.SPEECH_START:
            track.start(event.timestamp)
            self._started_speech(now)
        elif event.kind is VadEventKind.PAUSE and track.speaking:
            track.quiet_since = event.timestamp
        elif event.kind is VadEventKind.RESUME:
            track.quiet_since = None
        elif event.kind is VadEventKind.SPEECH_END and track.started is not None:
            speech_s = max(0.0, event.timestamp - track.started)
            audio = track.end(event.timestamp)
            self._event_ch.send_nowait(
                lk_vad.VADEvent(
                    type=lk_vad.VADEventType.END_OF_SPEECH,
                    samples_index=self._pushed,
                    timestamp=now,
                    speech_duration=speech_s,
                    silence_duration=max(0.0, now - event.timestamp),
                    frames=[to_rtc(frame) for frame in audio],
                    speaking=False,
                )
            )

    def _started_speech(self, now: float) -> None:
        track = self._track
        assert track.started is not None
        self._event_ch.send_nowait(
            lk_vad.VADEvent(
                type=lk_vad.VADEventType.START_OF_SPEECH,
                samples_index=self._pushed,
                timestamp=now,
                speech_duration=max(0.0, now - track.started),
                silence_duration=0.0,
                frames=[to_rtc(frame) for frame in track.audio],
                speaking=True,
            )
        )

    def _inference_done(
        self, item: rtc.AudioFrame, now: float, inference_s: float
    ) -> lk_vad.VADEvent:
        track = self._track
        speech_s = 0.0 if track.started is None else max(0.0, now - track.started)
        if track.started is None:
            silence_s = max(0.0, now - track.silent_since)
        else:
            silence_s = 0.0 if track.quiet_since is None else max(0.0, now - track.quiet_since)
        return lk_vad.VADEvent(
            type=lk_vad.VADEventType.INFERENCE_DONE,
            samples_index=self._pushed,
            timestamp=now,
            speech_duration=speech_s,
            silence_duration=silence_s,
            frames=[item],
            probability=1.0 if track.speaking and track.quiet_since is None else 0.0,
            inference_duration=inference_s,
            speaking=track.speaking,
            raw_accumulated_speech=speech_s if track.quiet_since is None else 0.0,
            raw_accumulated_silence=silence_s,
        )
