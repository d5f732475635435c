"""Composition root: the only place that picks implementations from settings."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from voice_agent.agent.limits import CallLimiter
from voice_agent.agent.live import LiveCalls
from voice_agent.agent.metrics import AgentMetrics
from voice_agent.agent.observe import CallObservation, ObservedRecorder, call_not_started
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallTransport
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.clock import Clock, RealClock
from voice_agent.languages import language_for_number
from voice_agent.memory import trim as trim_native_heap
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, Settings
from voice_agent.stages.scheduler import InferenceScheduler, Lane
from voice_agent.stages.vad import Vad

if TYPE_CHECKING:
    from voice_agent.agent.ports import CallParts
    from voice_agent.agent.recording import CallRecording
    from voice_agent.agent.session import CallSession
    from voice_agent.dialogue.call import CallDialogue
    from voice_agent.dialogue.classifier import IntentClassifier
    from voice_agent.dialogue.embedding import SentenceEmbedder
    from voice_agent.dialogue.engine import DialogueEngine
    from voice_agent.dialogue.purpose import PlacedCall
    from voice_agent.dialogue.shop_data import ShopDataCache
    from voice_agent.dialogue.understanding import Understander
    from voice_agent.stages.asr import Asr, StreamingAsr
    from voice_agent.stages.asr.live import StreamingWhisper
    from voice_agent.stages.asr.whisper import WhisperAsr
    from voice_agent.stages.tts.piper import PiperTts
    from voice_agent.store.db import Database
    from voice_agent.store.repository import Repository
    from voice_agent.webhooks.delivery import WebhookDelivery

logger = logging.getLogger(__name__)


class App:
    """Builds each component once, on first use; models are shared by every call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def models(self) -> ModelStore:
        return ModelStore(self.settings.models, self.settings.paths)

    @cached_property
    def inference_scheduler(self) -> InferenceScheduler:
        """Blocking inference never runs on the event loop: one scheduler serves every stage
        of every call, finals first, and skips partial passes when it is behind."""
        return InferenceScheduler(threads=4, asr_workers=self.settings.asr.num_workers)

    @cached_property
    def asr(self) -> WhisperAsr:
        """The configured model (`asr.model`): English calls' recognizer."""
        return self._whisper(self.settings.asr)

    @cached_property
    def asr_multilingual(self) -> WhisperAsr:
        """The multilingual model, identifying among the offered languages: every call's
        recognizer until its language is known, and that of calls not in English."""
        if self.settings.asr.model == "whisper-base":
            return self.asr
        offered = self.settings.languages.offered
        return self._whisper(
            self.settings.asr.model_copy(
                update={"model": "whisper-base", "detect_languages": offered}
            )
        )

    @property
    def multilingual(self) -> bool:
        """Whether calls may be in another language than English."""
        return self.settings.languages.offered != ("en",)

    def _whisper(self, settings: AsrSettings) -> WhisperAsr:
        from voice_agent.stages.asr.whisper import WhisperAsr

        lane = self.inference_scheduler.lane(Lane.FINAL)
        return WhisperAsr(settings, self.models, lane, self.metrics.asr_fallback)

    @cached_property
    def call_asr(self) -> Asr:
        """What a call recognizes with: the English-only model for turns expected in English,
        the multilingual one for the others (one model when only English is offered)."""
        from voice_agent.stages.asr.routing import LanguageRoutedAsr

        if not self.multilingual:
            return self.asr
        english = self.asr if self.asr is not self.asr_multilingual else None
        return LanguageRoutedAsr(english, self.asr_multilingual)

    @cached_property
    def asr_streaming(self) -> StreamingAsr | None:
        """Recognition while the caller speaks (None when `stream_every_s` is 0)."""
        from voice_agent.stages.asr.routing import LanguageRoutedAsr, LanguageRoutedStreaming

        if not self.settings.asr.stream_every_s:
            return None
        english = self._streaming(self.asr)
        routed = self.call_asr
        if not isinstance(routed, LanguageRoutedAsr):
            return english
        multilingual = self._streaming(self.asr_multilingual)
        if self.asr is self.asr_multilingual:
            return multilingual
        return LanguageRoutedStreaming(routed, english, multilingual)

    def _streaming(self, asr: WhisperAsr) -> StreamingWhisper:
        from voice_agent.stages.asr.live import StreamingWhisper

        partials = functools.partial(self.inference_scheduler.try_submit, Lane.PARTIAL)
        return StreamingWhisper(asr, self.settings.asr, partials, self.metrics.asr_fallback)

    @cached_property
    def tts(self) -> PiperTts:
        from voice_agent.stages.tts.piper import PiperTts

        return PiperTts(self.settings.tts, self.models, self.inference_scheduler.lane(Lane.SPEECH))

    async def warm_up(self) -> None:
        """Load every model and run each once, so the first caller waits for nothing."""
        from voice_agent.audio import AudioFrame

        loop = asyncio.get_running_loop()
        final = self.inference_scheduler.lane(Lane.FINAL)
        await loop.run_in_executor(final, self.asr.load)
        await self.tts.warm_up(self.settings.languages.offered)
        spoken = [frame async for frame in self.tts.synthesize("Hello, how can I help?")]
        audio = AudioFrame.concat(spoken)
        await self.asr.transcribe(audio)
        await loop.run_in_executor(final, self.asr.warm_up_stock_path, audio)
        if self.multilingual:
            await loop.run_in_executor(final, self.asr_multilingual.load)
            await self.asr_multilingual.transcribe(audio)
            if self.asr_multilingual is not self.asr:
                await loop.run_in_executor(final, self.asr_multilingual.warm_up_stock_path, audio)
        self.new_vad(16_000)
        await asyncio.to_thread(lambda: self.dialogue_engine.catalogue)
        # built and run in the thread: training the classifier's head takes seconds
        await asyncio.to_thread(
            lambda: self.understander("Where is my order, and can I get an invoice?")
        )
        logger.info("models loaded and warmed up")

    def new_vad(self, rate: int) -> Vad:
        """A fresh VAD per call (it is stateful); the Silero model itself is shared."""
        from voice_agent.stages.vad.factory import create_vad

        return create_vad(self.settings.vad, self.models, rate)

    @cached_property
    def calls(self) -> CallLimiter:
        return CallLimiter(
            self.settings.session.max_concurrent_calls,
            self.metrics.busy_refused,
            retry_after_s=self.settings.server.retry_after_s,
        )

    @cached_property
    def live_calls(self) -> LiveCalls:
        """This server's calls now, for the desk's live view."""
        return LiveCalls()

    @cached_property
    def metrics(self) -> AgentMetrics:
        """The process's Prometheus series (served on /metrics)."""
        return AgentMetrics()

    @cached_property
    def clock(self) -> Clock:
        return RealClock()

    @cached_property
    def database(self) -> Database:
        from voice_agent.store.db import open_database

        return open_database(self.settings.store, self.settings.paths)

    @cached_property
    def repository(self) -> Repository:
        from voice_agent.store.repository import Repository

        return Repository(self.database)

    @cached_property
    def webhook_delivery(self) -> WebhookDelivery | None:
        """Delivers the outbox's events to webhooks.url; None when no url is set."""
        from voice_agent.store.outbox import Outbox
        from voice_agent.webhooks.delivery import WebhookDelivery

        if self.settings.webhooks.url is None:
            return None
        return WebhookDelivery(self.settings.webhooks, Outbox(self.database), self.clock)

    @cached_property
    def sentence_embedder(self) -> SentenceEmbedder:
        from voice_agent.dialogue.embedding import SentenceEmbedder

        return SentenceEmbedder(self.models)

    @cached_property
    def intent_classifiers(self) -> dict[str, IntentClassifier]:
        """Built once per process: per offered language, the classifier reading its turns
        (English's head on its own phrases; the other languages' one head on theirs and
        English's), every phrase embedded once and the softmax heads trained."""
        from voice_agent.dialogue.classifier import classifiers_by_language

        return classifiers_by_language(self.sentence_embedder, self.settings.languages.offered)

    @cached_property
    def intent_classifier(self) -> IntentClassifier:
        """The default language's classifier."""
        return self.intent_classifiers[self.settings.languages.default]

    @cached_property
    def understander(self) -> Understander:
        """Reads a turn in any offered language: ``understander(text, language=...)``."""
        from voice_agent.dialogue.understanding import Understander

        return Understander(self.intent_classifier, self.intent_classifiers)

    @cached_property
    def dialogue_engine(self) -> DialogueEngine:
        from voice_agent.dialogue.engine import DialogueEngine
        from voice_agent.dialogue.policies import load_policies

        policies = load_policies(self.settings.paths.resolve(self.settings.dialogue.policies))
        return DialogueEngine(
            self.repository,
            policies,
            self.settings.languages.default,
            understand=self.understander,
            offered=self.settings.languages.offered,
            shop_data=self.shop_data,
        )

    @cached_property
    def shop_data(self) -> ShopDataCache:
        """The catalogue and translations, read again when any instance imports the shop's
        data (dialogue.catalogue_check_s)."""
        from voice_agent.dialogue.shop_data import ShopDataCache

        check_s = self.settings.dialogue.catalogue_check_s
        return ShopDataCache(self.repository, self.clock.now, check_s)

    def conversation(
        self,
        channel: str,
        caller_id: str,
        language: str | None = None,
        placed: PlacedCall | None = None,
        recordable: bool = True,
    ) -> tuple[CallDialogue, StoreRecorder]:
        """A new stored conversation: the dialogue as the session uses it, and its recorder
        (``placed``: a call the agent placed, and who answered it; ``recordable`` False: a
        channel whose audio we never record, so the caller is not told it is)."""
        from voice_agent.dialogue.call import CallDialogue, caller_of

        recorded = self.records_calls and recordable

        instance_id = self.settings.server.resolved_instance_id()
        purpose = None if placed is None else placed.purpose
        conversation_id = self.repository.start_conversation(
            channel,
            caller_id,
            _utc_now(),
            instance_id=instance_id,
            purpose=None if purpose is None else purpose.name,
            case_reference=None if purpose is None else purpose.reference,
        )
        caller = caller_of(channel, caller_id)
        dialogue = CallDialogue(
            self.dialogue_engine,
            conversation_id,
            caller,
            self.settings.recordings.notice if recorded else None,
            recorded,
            self._hinted(language or (None if purpose is None else purpose.language)),
            purpose=purpose,
            leave_message=placed is not None and placed.machine,
        )
        return dialogue, StoreRecorder(self.repository, conversation_id)

    def _hinted(self, hint: str | None) -> str | None:
        """A call's language hint, kept only when the deployment offers that language."""
        from voice_agent.languages import offered_hint

        return offered_hint(hint, self.settings.languages.offered)

    @property
    def records_calls(self) -> bool:
        """Calls are recorded when recordings are on, and only then is the notice said (in
        the greeting: without one the caller would not be told, so nothing is recorded)."""
        return self.settings.recordings.enabled and self.settings.session.greeting

    def close_abandoned_conversations(self) -> int:
        """At start-up, before any call: end the conversations an earlier run of this instance
        left open when it died, and return how many (blocking; run it off the event loop)."""
        instance_id = self.settings.server.resolved_instance_id()
        closed = self.repository.close_abandoned_conversations(instance_id, _utc_now())
        if closed:
            logger.info(
                "closed %d conversations left open by an earlier run of instance %s",
                closed,
                instance_id,
            )
        return closed

    async def run_call(
        self,
        transport: CallTransport,
        playout: Playout,
        channel: str,
        caller_id: str,
        language: str | None = None,
        placed: PlacedCall | None = None,
    ) -> CallSession:
        """Run one call to its end on this transport (the caller holds a CallSlot);
        ``language`` is the hint the transport has (the web page's, the number dialled);
        ``placed``: a call the agent placed, its purpose and who answered."""
        from voice_agent.agent.session import CallSession

        # A transport that knows the caller's language says so: the web page's in
        # language_hint, a phone line's by the number dialled.
        language = (
            language
            or getattr(transport, "language_hint", None)
            or language_for_number(
                getattr(transport, "dialled", None), self.settings.languages.by_number
            )
        )
        try:
            parts = await asyncio.to_thread(
                self.call_parts, transport, playout, channel, caller_id, language, placed
            )
        except Exception:
            call_not_started(channel, self.metrics)
            raise
        recording = self._record(parts) if self.records_calls else None
        stored = parts.recorder
        conversation_id = stored.conversation_id if isinstance(stored, StoreRecorder) else None
        observed = ObservedRecorder(stored, self.metrics)
        parts.recorder = observed
        call_id = getattr(transport, "call_id", None)
        call = CallObservation(
            channel, conversation_id, observed, self.metrics, playout.clock, call_id
        )
        session = CallSession(self.settings.session, parts, playout.clock)
        settle = getattr(transport, "settle", False)
        if settle is None:  # a stepped-time transport waits for the session between frames
            transport.settle = session.settled  # type: ignore[attr-defined]
        live = self.live_calls.start(channel, caller_id, _utc_now(), conversation_id)
        parts.observer = live.observe
        call.started()
        try:
            await session.run()
        except Exception:
            call.failed()
            raise
        finally:
            self.live_calls.end(live)
            _unhook(transport, playout, settled=settle is None)
            await _store_what_the_end_implies(parts, session.dialogue_state)
            outcome = call.ended()
            if recording is not None and conversation_id is not None:
                await self._keep_recording(recording, parts, conversation_id)
            if conversation_id is not None:
                await asyncio.to_thread(
                    self.repository.end_conversation, conversation_id, _utc_now(), outcome.value
                )
        return session

    async def answer_call(
        self,
        transport: CallTransport,
        playout: Playout,
        channel: str,
        caller_id: str,
        placed: PlacedCall | None = None,
    ) -> None:
        """`run_call` for the server's transports: the session is not kept, and once it is
        gone its buffers' pages go back to the kernel, not to the malloc arenas of whichever
        threads freed them (`server.malloc_trim_after_call`, voice_agent/memory.py)."""
        try:
            await self.run_call(
                transport, playout, channel=channel, caller_id=caller_id, placed=placed
            )
        finally:
            if self.settings.server.malloc_trim_after_call:
                await asyncio.to_thread(trim_native_heap)

    def _record(self, parts: CallParts) -> CallRecording:
        """Tap the call's parts: the caller's audio as the session reads it, the line's as the
        transport reads it, and an objection as the recorder applies it."""
        from voice_agent.agent.recording import CallRecording, RecordedTransport

        playout = parts.playout
        max_s = self.settings.session.max_call_s + 60  # the session's backstop
        recording = CallRecording(playout.clock.now(), max_s, playout.rate)
        parts.transport = RecordedTransport(parts.transport, recording)
        playout.on_line_audio = recording.play
        if isinstance(parts.recorder, StoreRecorder):
            parts.recorder.on_recording_refused = recording.refuse
        return recording

    async def _keep_recording(
        self, recording: CallRecording, parts: CallParts, conversation_id: int
    ) -> None:
        """At the call's end: the recording written (off the event loop) and its name stored,
        or, if the caller objected, nothing written and their objection stored (again: the
        batch that carried it may have been refused)."""
        from voice_agent.agent.recording import save_recording

        recording.close()
        parts.playout.on_line_audio = None
        try:
            if recording.refused:
                await asyncio.to_thread(self.repository.set_recording, conversation_id, None, False)
            elif not recording.empty:
                folder = self.settings.paths.resolve(self.settings.recordings.dir)
                name = await asyncio.to_thread(save_recording, recording, folder)
                await asyncio.to_thread(self.repository.set_recording, conversation_id, name, True)
        except Exception:
            logger.exception("keeping the recording of conversation %d failed", conversation_id)

    def call_parts(
        self,
        transport: CallTransport,
        playout: Playout,
        channel: str,
        caller_id: str,
        language: str | None = None,
        placed: PlacedCall | None = None,
    ) -> CallParts:
        from voice_agent.agent.ports import CallParts, Dialogue
        from voice_agent.agent.transfer import Transferable

        conversation, recorder = self.conversation(channel, caller_id, language, placed)
        dialogue: Dialogue = conversation
        target = self.settings.sip.transfer_to
        if channel == "sip" and target and isinstance(transport, Transferable):
            # a hand-off during the team's hours puts the caller through (agent/transfer.py)
            from voice_agent.agent.transfer import HandoffTransfers, TransferringDialogue

            team_open = self.dialogue_engine.policies.handoff.is_open
            transfers = HandoffTransfers(transport, target, team_open, conversation.say)
            dialogue = TransferringDialogue(conversation, transfers)
        return CallParts(
            transport=transport,
            playout=playout,
            vad=self.new_vad(playout.rate),
            asr=self.call_asr,
            tts=self.tts,
            dialogue=dialogue,
            recorder=recorder,
            metrics=self.metrics,
            streaming=self.asr_streaming if self._streams(channel) else None,
        )

    def _streams(self, channel: str) -> bool:
        """Whether calls on this channel are recognized while the caller speaks (phone lines
        carry 8 kHz audio)."""
        return channel != "sip" or self.settings.asr.stream_telephone

    def close(self) -> None:
        if "inference_scheduler" in self.__dict__:
            self.inference_scheduler.shutdown(wait=False, cancel_futures=True)
        if "database" in self.__dict__:
            self.database.engine.dispose()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _unhook(transport: CallTransport, playout: Playout, settled: bool) -> None:
    """Cut what ties a transport and its playout to the session once the call is over: a
    transport may be kept after its call (the SIP endpoint keeps its last calls), and the
    session, its pipeline and its audio must not be kept with it. The first-audio hook of a
    reply cut off before it was heard still points at the session."""
    playout.on_first_audio = None
    if settled:
        transport.settle = None  # type: ignore[attr-defined]


async def _store_what_the_end_implies(parts: CallParts, dialogue_state: Any) -> None:
    """Apply the writes the end of the call implies (a hand-off the caller hung up on) before
    its outcome is worked out, so a late hand-off counts. A failure is logged, not raised: the
    conversation must still be ended."""
    try:
        writes = await asyncio.to_thread(
            parts.dialogue.call_ended, dialogue_state, parts.wall_clock()
        )
        if writes:
            await asyncio.to_thread(parts.recorder.apply, writes)
    except Exception:
        logger.exception("the writes of the call's end could not be stored")
