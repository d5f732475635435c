"""CallSession: one call, wired from audio in to audio out.

audio in -> VAD (+ echo guard while the agent speaks) -> streaming ASR -> endpointing ->
dialogue -> TTS -> Playout -> transport. Everything time-related reads the injected Clock, and
frame timestamps are Clock times, so the same code runs in real time and in stepped time.

Recognition streams: while the caller speaks, partial passes decode the utterance as it grows
(interim captions go out as `CallerHeard`), so at a pause only its unconfirmed tail is left.

Speculation: at the first pause (the VAD's tentative PAUSE, ~60 ms into the quiet, before its
hangover confirms the end) the utterance is transcribed, the reply computed and its first
chunk synthesized, before the turn is committed. If the caller goes on, that work is dropped
(the reply's writes were never applied). When the pause is long enough for what the dialogue
expects, the turn commits and the prepared audio plays at once.

Barge-in has one path: caller speech above the echo bound pauses the playout within a frame;
the words heard so far decide within ~400 ms whether the reply stops for good (the playout and
the transport are cleared, synthesis is cancelled, and only what was played is remembered) or
resumes where it paused (a backchannel such as "mm-hm", or a noise).

The decisions that keep state of their own are sans-I/O machines beside the session: loudness
onsets (`onset`), the verdict on a barge-in (`barge_in`) and keypad entry (`keypad`). The
session feeds them frames, events and times, and does what they decide: the tasks, the playout,
the events published and the turns stored stay here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from voice_agent.agent.backchannel import BackchannelJudge
from voice_agent.agent.barge_in import BargeInDecision, Transcribe, Verdict
from voice_agent.agent.echo import EchoGuard
from voice_agent.agent.events import (
    AgentSaid,
    AgentStopped,
    BargeIn,
    BargeInResolved,
    CallEnded,
    CallerHeard,
    CallerSaid,
    StateChanged,
    TurnLatency,
    TurnState,
)
from voice_agent.agent.hold import CallHold
from voice_agent.agent.keypad import KeypadEntry
from voice_agent.agent.latency import TurnMarks
from voice_agent.agent.onset import OnsetDetector
from voice_agent.agent.ports import CallParts, DialogueReply, DtmfInput, HoldChanged, SessionReply
from voice_agent.agent.recorder import StoreQueue
from voice_agent.agent.tasks import CallTasks
from voice_agent.agent.transfer import PendingTransfer, TransferReply
from voice_agent.agent.utterance import Listening, ProvisionalTurn, Utterance
from voice_agent.audio import AudioFrame
from voice_agent.clock import Clock
from voice_agent.settings import SessionSettings
from voice_agent.stages.asr import (
    AsrHint,
    AsrStream,
    Expect,
    Interim,
    Transcript,
    WholeUtterance,
)
from voice_agent.stages.turn.endpoint import Endpointer
from voice_agent.stages.vad import VadEvent, VadEventKind
from voice_agent.store.writes import TurnRecord

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Prepared:
    """The speculative result for an utterance: transcript, reply and its first audio."""

    transcript: Transcript
    reply: DialogueReply | None
    first_audio: list[AudioFrame]
    entity_complete: bool | None
    marks: dict[str, float]


@dataclass(slots=True)
class _Barge:
    """A barge-in under way: its decision, and what the decision does not own (the caller's
    audio since the onset, and the transcription that judges it)."""

    decision: BargeInDecision
    frames: list[AudioFrame]
    judging: asyncio.Task[Transcript] | None = None


@dataclass(slots=True)
class _Speaking:
    reply: DialogueReply
    task: asyncio.Task[None] | None = None
    marks: TurnMarks | None = None
    started: float = 0.0
    text: str = field(default="")


class CallSession:
    def __init__(self, settings: SessionSettings, parts: CallParts, clock: Clock) -> None:
        self._settings = settings
        self._parts = parts
        self._clock = clock
        self._endpointer = Endpointer(settings.turn)
        self._echo = EchoGuard(settings.echo, parts.playout)
        self._backchannel = BackchannelJudge(settings.barge_in)
        self._state_value = TurnState.LISTENING
        self._dialogue_state: Any = parts.dialogue.initial_state()
        self._expect = Expect.FREE
        self._language: str = "en"
        self._listen: str | None = None
        self._onset = OnsetDetector(settings.barge_in.min_onset_frames)
        self._keypad = KeypadEntry(settings.dtmf_pause_s)
        self._hold = CallHold(parts.playout)
        self._utterance: Utterance[_Prepared] | None = None
        self._provisional: ProvisionalTurn | None = None
        self._barge: _Barge | None = None
        self._speaking: _Speaking | None = None
        self._vad_active = False
        self._idle_since = clock.now()
        self._reprompts = 0
        self._ending = False
        self._started = clock.now()
        self._wall_at_start = parts.wall_clock()
        self._time_limited = False
        self._tasks = CallTasks()
        self._stored = StoreQueue(self._tasks)

    # --- life cycle ------------------------------------------------------------------------

    @property
    def parts(self) -> CallParts:
        return self._parts

    @property
    def state(self) -> TurnState:
        return self._state_value

    @property
    def dialogue_state(self) -> Any:
        """The dialogue's state as last committed (read at the call's end)."""
        return self._dialogue_state

    async def run(self, greet: bool = True) -> None:
        """Run the call until the caller hangs up, the dialogue ends it, or a limit is hit."""
        writer = asyncio.create_task(self._stored.run())
        try:
            if greet and self._settings.greeting:
                greeting = await self._tasks.work(
                    asyncio.to_thread(self._parts.dialogue.greeting, self._dialogue_state)
                )
                self._commit_reply(greeting, None, [])
            # The time limit is enforced per frame (with a polite goodbye); this is a backstop
            # for a transport that stops delivering audio without ending.
            async with asyncio.timeout(self._settings.max_call_s + 60):
                await self._consume_inputs()
        finally:
            await self._tasks.cancel_all()
            if self._speaking is not None:
                # Cut off by the end of the call: stored as a barge-in stores it, with what was
                # played; there is no line left to clear.
                self._finish_speaking(self._speaking, interrupted=True)
            self._stored.close()
            await writer
            self._publish(CallEnded(self._clock.now(), "ended"))

    async def settled(self) -> None:
        """Wait until no inference, dialogue or store work is under way (for stepped time)."""
        await self._tasks.settled()

    async def _consume_inputs(self) -> None:
        async for item in self._parts.transport.inputs():
            if isinstance(item, DtmfInput):
                self._on_dtmf(item)
            elif isinstance(item, HoldChanged):
                if self._hold.change(item.held, self._clock.now()):
                    self._idle_since = self._clock.now()  # away, not silent: count afresh
            else:
                self._on_frame(item)
            if self._ending and not self._parts.playout.pending:
                break
        if self._ending:
            await self._parts.transport.hang_up()

    # --- per frame -------------------------------------------------------------------------

    def _on_frame(self, frame: AudioFrame) -> None:
        self._onset.hear(frame)
        if self._utterance is not None:
            self._hear(self._utterance, frame)
        caller_dominant = self._echo.caller_dominant(frame)
        if self._barge is not None:
            self._barge.frames.append(frame)
            if caller_dominant and self._onset.sounding:
                self._barge.decision.heard_sound(frame.end)
        if self._state_value is TurnState.SPEAKING and not self._parts.playout.paused:
            self._watch_for_barge_in(frame, caller_dominant)
        # The VAD hears only what the echo of our own playout cannot explain: otherwise the
        # agent would answer its own voice on a line without echo cancellation.
        heard = frame if caller_dominant else _silent_like(frame)
        event = self._parts.vad.process(heard)
        if event is not None:
            self._on_vad(event, frame)
        self._check_timers(frame)

    def _on_vad(self, event: VadEvent, frame: AudioFrame) -> None:
        if event.kind in (VadEventKind.PAUSE, VadEventKind.RESUME):
            if self._barge is None and self._state_value is not TurnState.SPEAKING:
                self._on_tentative_pause(event)
            return
        self._vad_active = event.kind is VadEventKind.SPEECH_START
        if self._barge is not None:
            if event.kind is VadEventKind.SPEECH_START:
                self._barge.decision.speech_started()
            else:
                self._barge.decision.speech_ended(event.timestamp)
            return
        if self._state_value is TurnState.SPEAKING:
            return  # during playout only the echo-guarded barge-in path listens
        if event.kind is VadEventKind.SPEECH_START:
            self._on_speech_start(event.timestamp)
        else:
            self._on_speech_end(event.timestamp)

    def _on_speech_start(self, onset: float) -> None:
        utterance = self._utterance
        if utterance is None:
            self._utterance = self._new_utterance(self._onset.audio_from(onset), onset)
            return
        utterance.going_on()  # after a pause: what was prepared is dropped
        self._set_state(TurnState.LISTENING)

    def _on_tentative_pause(self, event: VadEvent) -> None:
        """The final pass begins at a tentative pause, and stops if the caller resumes."""
        utterance = self._utterance
        if utterance is None or utterance.speech_end is not None:
            return
        if event.kind is VadEventKind.PAUSE:
            utterance.prepare(self._start_preparing)
        else:
            utterance.going_on()

    def _on_speech_end(self, end: float) -> None:
        utterance = self._utterance
        if utterance is None:
            return
        utterance.speech_end = end
        utterance.prepare(self._start_preparing)  # unless a tentative pause began it
        self._set_state(TurnState.THINKING)

    def _start_preparing(self, utterance: Utterance[_Prepared]) -> asyncio.Task[_Prepared]:
        return self._tasks.spawn(self._prepare(utterance.stream, utterance.said_before))

    def _new_utterance(self, frames: list[AudioFrame], started: float) -> Utterance[_Prepared]:
        hint = AsrHint(expect=self._expect, language=self._listen, follow=True)
        streaming = self._parts.streaming
        stream = (
            WholeUtterance(self._parts.asr, hint) if streaming is None else streaming.stream(hint)
        )
        for frame in frames:
            stream.append(frame)
        return Utterance(stream, started)

    def _hear(self, utterance: Utterance[_Prepared], frame: AudioFrame) -> None:
        if (partial := utterance.hear(frame)) is not None:
            self._tasks.spawn(self._caption(utterance, partial))

    async def _caption(self, utterance: Utterance[_Prepared], partial: Awaitable[Interim]) -> None:
        interim = await self._tasks.work(partial)
        if self._utterance is utterance and utterance.speech_end is None:
            self._publish(CallerHeard(self._clock.now(), interim.confirmed, interim.pending))

    def _check_timers(self, frame: AudioFrame) -> None:
        now = frame.end
        turn = self._provisional
        if turn is not None and self._barge is None and turn.final_at(now):
            self._settle_turn()
        if (keys := self._keypad.due(self._clock.now())) is not None:
            self._tasks.spawn(self._answer_dtmf(keys))
        if not self._time_limited and self._clock.now() - self._started > self._settings.max_call_s:
            self._end_for_time_limit()
        elif self._barge is not None:
            self._check_barge(now)
        elif self._utterance is not None:
            self._check_endpoint(now)
        elif self._speaking is None and not self._ending and not self._hold.held:
            self._check_silence()

    # --- endpointing and commit ------------------------------------------------------------

    def _check_endpoint(self, now: float) -> None:
        utterance = self._utterance
        assert utterance is not None
        if utterance.speech_end is None:
            if now - utterance.started > self._settings.turn.max_turn_s:
                self._on_speech_end(now)  # a very long turn is cut at the turn limit
            return
        preparing = utterance.preparing
        if preparing is None or not preparing.done() or preparing.cancelled():
            return
        if preparing.exception() is not None:
            self._utterance = None  # already logged; drop this utterance, keep the call
            self._set_state(TurnState.LISTENING)
            return
        prepared = preparing.result()
        if prepared.reply is None:
            self._set_state(TurnState.LISTENING)
            self._utterance = None  # nothing intelligible: a noise, not a turn
            self._idle_since = self._clock.now()
            return
        hold = self._endpointer.hold(
            self._expect, prepared.transcript.text, prepared.entity_complete
        )
        if now - utterance.speech_end < hold or self._onset.resuming(now):
            return
        marks = TurnMarks()
        marks.mark("user_speech_end", utterance.speech_end)
        marks.mark("endpoint", self._clock.now())
        for name, at in prepared.marks.items():
            marks.mark(name, at)
        self._commit_turn(utterance, prepared, marks)

    def _commit_turn(
        self, utterance: Utterance[_Prepared], prepared: _Prepared, marks: TurnMarks
    ) -> None:
        assert prepared.reply is not None and utterance.speech_end is not None
        self._utterance = None
        self._reprompts = 0
        text, started, ended = prepared.transcript.text, utterance.started, utterance.speech_end
        record = self._caller_turn(text, started, ended)
        turn = ProvisionalTurn(record, text, started, ended, self._listening())
        self._commit_reply(prepared.reply, marks, prepared.first_audio, turn)

    def _commit_reply(
        self,
        reply: DialogueReply,
        marks: TurnMarks | None,
        first_audio: list[AudioFrame],
        turn: ProvisionalTurn | None = None,
    ) -> None:
        """Adopt the reply: its state counts from now, its writes once the caller's `turn` it
        answers is final (at once without one); then speak it."""
        self._settle_turn()
        self._dialogue_state = reply.state
        self._expect = reply.expect
        self._language, self._listen = reply.language, reply.listen
        if turn is not None:
            turn.writes = reply.writes
            self._provisional = turn
        elif reply.writes:
            writes = reply.writes
            self._store(lambda: self._parts.recorder.apply(writes))
        speaking = _Speaking(reply, marks=marks, started=self._clock.now())
        speaking.text = " ".join(reply.chunks)
        self._speaking = speaking
        self._set_state(TurnState.SPEAKING)
        self._publish(AgentSaid(self._clock.now(), speaking.text))
        speaking.task = self._tasks.spawn(self._speak(speaking, first_audio))

    async def _prepare(self, stream: AsrStream, said_before: str = "") -> _Prepared:
        """Transcribe, answer and synthesize the first chunk, before the turn is committed;
        what the caller `said_before` a pause in the same line comes first."""
        marks: dict[str, float] = {}
        transcript = await self._tasks.work(stream.transcript())
        marks["asr_final"] = self._clock.now()
        text = " ".join(part for part in (said_before, transcript.text.strip()) if part)
        transcript = dataclasses.replace(transcript, text=text)
        if not text:
            return _Prepared(transcript, None, [], None, marks)
        state = self._dialogue_state
        dialogue = self._parts.dialogue
        now = self._parts.wall_clock()
        reply = await self._tasks.work(
            asyncio.to_thread(dialogue.respond, text, None, state, now, transcript)
        )
        marks["reply_first_text"] = self._clock.now()
        complete = dialogue.entity_complete(text, state)
        first_audio: list[AudioFrame] = []
        if reply.chunks:
            async for frame in self._synthesize(reply.chunks[0], reply.language):
                if not first_audio:
                    marks["tts_first_audio"] = self._clock.now()
                first_audio.append(frame)
        return _Prepared(transcript, reply, first_audio, complete, marks)

    # --- speaking --------------------------------------------------------------------------

    async def _speak(self, speaking: _Speaking, first_audio: list[AudioFrame]) -> None:
        try:
            await self._play(speaking, first_audio)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("speaking a reply failed; the call goes on")
            if self._speaking is speaking:
                self._interrupt_speaking()
            return
        self._finish_speaking(speaking, interrupted=False)

    async def _play(self, speaking: _Speaking, first_audio: list[AudioFrame]) -> None:
        playout = self._parts.playout
        reply = speaking.reply
        marks = speaking.marks
        playout.begin_reply(reply.chunks)
        if marks is not None:
            playout.on_first_audio = lambda at: self._first_audio_sent(marks, at)
        for index, chunk in enumerate(reply.chunks):
            if index == 0 and first_audio:
                for frame in first_audio:
                    playout.write(frame, index)
            else:
                async for frame in self._synthesize(chunk, reply.language):
                    if marks is not None and index == 0:
                        marks.mark("tts_first_audio", self._clock.now())
                    playout.write(frame, index)
            playout.segment_complete(index)
        playout.finish_writing()
        await playout.drained()

    def _first_audio_sent(self, marks: TurnMarks, at: float) -> None:
        marks.mark("first_audio_sent", at)
        if self._parts.metrics is not None:
            self._parts.metrics.observe(marks)
        self._publish(TurnLatency(at, marks.since_speech_end()))

    def _finish_speaking(self, speaking: _Speaking, interrupted: bool, stored: bool = True) -> None:
        """`stored` False: a reply taken back with the turn it answers (see _take_back)."""
        if self._speaking is not speaking:
            return
        self._settle_turn()  # the caller's turn is stored before the reply to it
        played = self._parts.playout.played_text() if interrupted else speaking.text
        self._speaking = None
        self._idle_since = self._clock.now()
        latency = speaking.marks.since_speech_end() if speaking.marks else {}
        record = TurnRecord(
            speaker="agent",
            text=speaking.text,
            started_at=self._wall(speaking.started),
            ended_at=self._wall(self._clock.now()),
            interrupted=interrupted,
            played_text=played,
            latency_marks=latency,
        )
        if stored:
            self._store(lambda: self._parts.recorder.add_turn(record))
        self._publish(AgentStopped(self._clock.now(), played, interrupted))
        if interrupted:
            self._dialogue_state = self._parts.dialogue.heard(self._dialogue_state, played)
        if speaking.reply.end_call and not interrupted:
            self._ending = True
        # "putting you through" said, or cut short (the hand-off is decided and stored): go;
        # not when taken back with its turn (its writes, the ticket, are not applied either)
        if isinstance(speaking.reply, TransferReply) and stored:
            self._tasks.spawn(self._transfer(speaking.reply.transfer))
        if self._state_value is TurnState.SPEAKING:
            self._set_state(TurnState.LISTENING)

    async def _transfer(self, transfer: PendingTransfer) -> None:
        """Put the caller through (our leg then ends); if that fails, say the call-back."""
        fallback = await transfer.run()
        if fallback is not None:
            self._commit_reply(fallback, None, [])

    def _interrupt_speaking(self, stored: bool = True) -> None:
        speaking = self._speaking
        if speaking is None:
            return
        self._parts.playout.clear()
        self._parts.transport.clear()
        if speaking.task is not None:
            speaking.task.cancel()
        self._finish_speaking(speaking, interrupted=True, stored=stored)

    # --- barge-in --------------------------------------------------------------------------

    def _watch_for_barge_in(self, frame: AudioFrame, caller_dominant: bool) -> None:
        onset = self._onset.caller_onset(frame, caller_dominant)
        if onset is None:
            return
        self._parts.playout.pause()
        settings = self._settings.barge_in
        turn = self._provisional
        goes_on = turn is not None and turn.goes_on_with(onset)
        decision = BargeInDecision(onset, self._vad_active, settings, self._backchannel, goes_on)
        self._barge = _Barge(decision, self._onset.audio_from(onset))
        self._set_state(TurnState.INTERRUPTED)
        self._publish(BargeIn(self._clock.now(), onset))

    def _check_barge(self, now: float) -> None:
        barge = self._barge
        assert barge is not None
        if barge.judging is not None:
            if barge.judging.done():
                self._on_barge_judged(barge, barge.judging)
            return
        step = barge.decision.next_step(now)
        if isinstance(step, Transcribe):
            barge.judging = self._tasks.spawn(self._transcribe_barge(barge))
        elif isinstance(step, Verdict):
            self._resolve_barge(step)

    async def _transcribe_barge(self, barge: _Barge) -> Transcript:
        audio = AudioFrame.concat(list(barge.frames))
        hint = AsrHint(language=self._listen)
        return await self._tasks.work(self._parts.asr.transcribe(audio, hint))

    def _on_barge_judged(self, barge: _Barge, judging: asyncio.Task[Transcript]) -> None:
        barge.judging = None
        failed = judging.cancelled() or judging.exception() is not None
        transcript = None if failed else judging.result()
        reply_text = self._speaking.text if self._speaking is not None else None
        verdict = barge.decision.judged(transcript, self._clock.now(), reply_text)
        if verdict is not None:
            self._resolve_barge(verdict)

    def _resolve_barge(self, verdict: Verdict) -> None:
        barge = self._barge
        assert barge is not None
        self._barge = None
        if verdict.was_echo:
            self._echo.was_echo()
        onset, speech_end = barge.decision.onset, barge.decision.speech_end
        self._publish(BargeInResolved(self._clock.now(), onset, verdict.interrupted, verdict.heard))
        if not verdict.interrupted:
            self._parts.playout.resume()
            self._set_state(TurnState.SPEAKING)
            return
        turn = self._provisional
        taken_back = turn if turn is not None and turn.goes_on_with(onset) else None
        if taken_back is not None:
            self._provisional = None  # not stored, its writes not applied: see _take_back
        self._interrupt_speaking(stored=taken_back is None)
        self._set_state(TurnState.LISTENING)
        if taken_back is not None:
            utterance = self._take_back(taken_back, barge.frames)
        else:  # the caller's words become the next turn, from their onset
            utterance = self._new_utterance(barge.frames, onset)
        utterance.speech_end = speech_end
        self._utterance = utterance
        if speech_end is not None:
            utterance.prepare(self._start_preparing)

    def _take_back(self, turn: ProvisionalTurn, frames: list[AudioFrame]) -> Utterance[_Prepared]:
        """The caller's line went on after a short pause, over the reply to it: the turn and
        the reply are taken back, and the line is one utterance from where it began, heard as
        the turn was. Neither is stored: the caller talked over the reply's first sounds,
        going on with their line, and the one turn of that line is stored when it ends."""
        self._go_back_to(turn.before)
        after = [frame for frame in frames if frame.end > turn.speech_end]
        utterance = self._new_utterance(after, turn.started)
        utterance.said_before = turn.text
        return utterance

    # --- silence, limits, DTMF -------------------------------------------------------------

    def _end_for_time_limit(self) -> None:
        self._time_limited = True
        self._utterance = None
        self._barge = None
        self._interrupt_speaking()
        self._say_own("time_limit_goodbye", end_call=True)

    def _check_silence(self) -> None:
        if self._clock.now() - self._idle_since < self._settings.reprompt_after_s:
            return
        self._reprompts += 1
        if self._reprompts > self._settings.hang_up_after_reprompts:
            self._say_own("silence_goodbye", end_call=True)
        else:
            self._say_own("reprompt")

    def _say_own(self, line: str, end_call: bool = False) -> None:
        """The session's own line: the operator's text, else the replies' in the call's language."""
        state = self._dialogue_state
        own: str | None = getattr(self._settings.prompts, line)
        text = own or self._parts.dialogue.say(state, f"session.{line}")
        said = SessionReply((text,), state, (), Expect.FREE, end_call, self._language, self._listen)
        self._commit_reply(said, None, [])

    def _on_dtmf(self, item: DtmfInput) -> None:
        # A key press stops the agent at once; the entry is answered when it is complete.
        if self._speaking is not None:
            self._interrupt_speaking()
        if (keys := self._keypad.press(item, self._clock.now())) is not None:
            self._tasks.spawn(self._answer_dtmf(keys))

    async def _answer_dtmf(self, item: DtmfInput) -> None:
        dialogue = self._parts.dialogue
        state = self._dialogue_state
        now = self._parts.wall_clock()
        reply = await self._tasks.work(
            asyncio.to_thread(dialogue.respond, "", item.digits, state, now)
        )
        self._caller_said(f"(keypad) {item.digits}", item.at, item.at)
        self._utterance = None
        self._commit_reply(reply, None, [])

    # --- plumbing --------------------------------------------------------------------------

    def _caller_said(self, text: str, started: float, ended: float) -> None:
        turn = self._caller_turn(text, started, ended)
        self._store(lambda: self._parts.recorder.add_turn(turn))

    def _caller_turn(self, text: str, started: float, ended: float) -> TurnRecord:
        self._publish(CallerSaid(self._clock.now(), text))
        return TurnRecord(
            speaker="caller", text=text, started_at=self._wall(started), ended_at=self._wall(ended)
        )

    def _settle_turn(self) -> None:
        """The provisional caller turn is final: stored, and its reply's writes applied."""
        turn, self._provisional = self._provisional, None
        if turn is None:
            return
        record, writes = turn.record, turn.writes
        self._store(lambda: self._parts.recorder.add_turn(record))
        if writes:
            self._store(lambda: self._parts.recorder.apply(writes))

    def _listening(self) -> Listening:
        return Listening(self._dialogue_state, self._expect, self._language, self._listen)

    def _go_back_to(self, before: Listening) -> None:
        self._dialogue_state, self._expect = before.state, before.expect
        self._language, self._listen = before.language, before.listen

    def _wall(self, at: float) -> datetime:
        """The wall-clock time of a Clock time (turns are stored in wall time)."""
        return self._wall_at_start + timedelta(seconds=at - self._started)

    def _set_state(self, state: TurnState) -> None:
        if state is not self._state_value:
            self._state_value = state
            self._publish(StateChanged(self._clock.now(), state))

    def _publish(self, event: Any) -> None:
        for publish in (self._parts.transport.publish, self._parts.observer):
            try:
                if publish is not None:
                    publish(event)
            except Exception:
                logger.exception("publishing %s failed", type(event).__name__)

    async def _synthesize(self, text: str, language: str) -> AsyncIterator[AudioFrame]:
        stream = self._parts.tts.synthesize(text, language)
        async with contextlib.aclosing(stream) as frames:  # type: ignore[type-var]
            while True:
                try:
                    frame = await self._tasks.work(anext(frames))
                except StopAsyncIteration:
                    return
                yield frame

    def _store(self, write: Callable[[], None]) -> None:
        self._stored.put(write)


def _silent_like(frame: AudioFrame) -> AudioFrame:
    return AudioFrame(np.zeros_like(frame.samples), frame.rate, frame.timestamp)
