"""The engine as a call session uses it (``voice_agent.agent.ports.Dialogue``).

The session speaks replies that the caller may cut short: ``heard`` keeps in the dialogue only
what was played, and drops a yes / no question the caller never heard (their "yes" must not
open a claim they were not asked about). ``entity_complete`` tells endpointing whether the
caller has finished giving what was asked for (all digits of an order number, a full postcode).

When the call is recorded (``recorded``), the greeting opens with the notice (the operator's
``recording_notice``, else the replies' in the call's language),
and a caller who objects (voice_agent.dialogue.consent) hears it acknowledged; the reply then
carries a ``RecordingRefused`` write, so the session's recorder learns of it when (and only
when) the turn is committed, as it learns of every other write.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from voice_agent.dialogue import callback, entities, language_rules, nlu, verification
from voice_agent.dialogue.call_language import FIRST_GUESS, follow
from voice_agent.dialogue.consent import find_objection
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.purpose import CallPurpose
from voice_agent.dialogue.state import (
    EXPECTS,
    Awaiting,
    Caller,
    DialogueState,
    Line,
    Reply,
    UserTurn,
    describe,
)
from voice_agent.lexicon import canonical, text_language
from voice_agent.spoken_numbers import DIGIT_WORDS
from voice_agent.stages.asr import Transcript
from voice_agent.store.writes import RecordingRefused, Write

logger = logging.getLogger(__name__)

_YES_NO_QUESTIONS = frozenset(
    {
        Awaiting.CONFIRM_CLAIM,
        Awaiting.CONFIRM_RETURN,
        Awaiting.CONFIRM_ADDRESS,
        Awaiting.CONFIRM_REQUEST,
        Awaiting.OFFER_HANDOFF,
        Awaiting.ANYTHING_ELSE,
    }
)


def caller_of(channel: str, caller_id: str | None) -> Caller:
    """The caller as verification limits count them, from the transport's caller ID: on the
    phone "+4930123456@203.0.113.5" (the SIP caller ID and the address the call came from),
    on the web "web:198.51.100.7" (the client's address)."""
    if not caller_id:
        return Caller(channel, f"{channel}:unknown")
    prefixed = caller_id.startswith(("web:", f"{channel}:"))
    key = caller_id if prefixed else f"{channel}:{caller_id}"
    number = None
    if channel == "sip":
        user = caller_id.split("@")[0]
        number = user if re.fullmatch(r"\+?[\d\s().-]{7,}", user) else None
    return Caller(channel, key, number)


def _not_known(text: str) -> str | None:
    return None


def _answers_otherwise(said: str, text: str, language: str) -> bool:
    """A request, a goodbye, a yes or a no instead of the entity; not a turn that stops on a
    digit or a spelled letter: "Yes, the order number is four five" is the caller giving it,
    pausing in the middle (measured: such turns were answered inside the caller's pause).
    ``said`` is ``text`` as the parsers read it (canonical); other languages are read by
    their rules ("Nein, das ist alles, danke, auf Wiederhören")."""
    if _stops_mid_entity(said):
        return False
    if language == "en":
        understood = nlu.understand(text)
        return understood.intent is not None or understood.yes_no is not None
    named = language_rules.decisive(text, language) or language_rules.named(text, language)
    return named is not None or entities.yes_or_no(said) is not None


def _stops_mid_entity(text: str) -> bool:
    words = _WORD.findall(text.lower())
    last = words[-1] if words else ""
    return last.isdigit() or last in DIGIT_WORDS or (len(last) == 1 and last not in "ai")


_WORD = re.compile(r"[a-z0-9]+")
_TOLD = "purpose_told"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class CallDialogue:
    def __init__(
        self,
        engine: DialogueEngine,
        conversation_id: int | None = None,
        caller: Caller | None = None,
        recording_notice: str | None = None,
        recorded: bool = False,
        language: str | None = None,
        typed_language: Callable[[str], str | None] | None = None,
        purpose: CallPurpose | None = None,
        leave_message: bool = False,
    ) -> None:
        self.engine = engine
        self.conversation_id = conversation_id
        self.caller = caller
        self.recording_notice = recording_notice
        """The operator's notice, said first in the greeting of a recorded call."""
        self.recorded = recorded or recording_notice is not None
        self.language = language
        """The call's language hint (web page, number dialled); None: none given."""
        self.typed_language = typed_language or _not_known
        """The language a typed turn reads as (text chat has no audio to hear it from)."""
        self.purpose = purpose
        """Why the agent placed this call; None: the caller called us."""
        self.leave_message = leave_message
        """An answering machine took the call: the purpose's message is all that is said."""

    def initial_state(self) -> DialogueState:
        return self.engine.initial_state(self.conversation_id, self.caller, self.language)

    def say(self, state: DialogueState, key: str, **values: str) -> str:
        return self.engine.speech_for(state).say(key, **values)

    def greeting(self, state: DialogueState) -> Reply:
        reply = self._opening(state)
        if not self.recorded or self.leave_message:
            return reply
        said = self.recording_notice or self.say(state, "recording.notice")
        notice = tuple(s for s in _SENTENCE_END.split(said.strip()) if s)
        return _with_chunks(reply, (*notice, *reply.chunks))

    def _opening(self, state: DialogueState) -> Reply:
        """The greeting, or on a call we placed, the purpose's opening (which asks for the
        order number: verification comes first), or the message a machine records."""
        purpose = self.purpose
        if purpose is None:
            return self.engine.greeting(state)
        speech = self.engine.speech_for(state)
        if self.leave_message:
            reply = _with_chunks(self.engine.greeting(state), purpose.machine_message(speech))
            return replace(reply, end_call=True, state=replace(reply.state, ended=True))
        reply = self.engine.greeting(state.asking(Awaiting.ORDER_NUMBER))
        return _with_chunks(reply, purpose.opening(speech))

    def respond(
        self,
        text: str,
        dtmf: str | None,
        state: DialogueState,
        now: datetime,
        transcript: Transcript | None = None,
    ) -> Reply:
        if self.recorded and not state.recording_refused and text:
            first_words = not any(line.speaker == "caller" for line in state.transcript)
            followed = self._following(text, state, transcript)
            objection = find_objection(text, first_words, followed.language)
            if objection is not None:
                reply = self._not_recorded(text, objection.rest, state, followed, now, transcript)
                return self._tell_purpose(state, reply)
        return self._tell_purpose(state, self._respond(text, dtmf, state, now, transcript))

    def _tell_purpose(self, before: DialogueState, reply: Reply) -> Reply:
        """Once the callee of a call we placed is verified for its order, what the call is
        for, in place of "How can I help with this order?" (then: anything else?)."""
        purpose, after = self.purpose, reply.state
        if (
            purpose is None
            or after.verified_order != purpose.order_number
            or before.verified_order == purpose.order_number
            or after.fact(_TOLD) is not None
        ):
            return reply
        speech = self.engine.speech_for(after)
        told = purpose.verified(speech)
        chunks, expect = list(reply.chunks), reply.expect
        if chunks and chunks[-1] == speech.say("verify.what_now"):
            chunks[-1:] = [*told, speech.say("general.anything_else")]
            after = after.asking(Awaiting.ANYTHING_ELSE)
            expect = EXPECTS[Awaiting.ANYTHING_ELSE]
        else:  # the callee asked for something else meanwhile: the news first, then that
            chunks = [*told, *chunks]
        after = replace(after.with_fact(_TOLD, purpose.name), last_expect=expect)
        return _with_chunks(replace(reply, state=after, expect=expect), tuple(chunks))

    def _following(
        self, text: str, state: DialogueState, transcript: Transcript | None
    ) -> DialogueState:
        """The state with the call's language as the engine follows it on this turn: a call
        not hinted starts in the default language, and its first turn, often the objection,
        may be the caller's own language."""
        heard, probability = self._heard(text, transcript)
        words = len(text.split())
        return follow(state, heard, probability, words, self.engine.offered).state

    def _not_recorded(
        self,
        said: str,
        rest: str,
        state: DialogueState,
        followed: DialogueState,
        now: datetime,
        transcript: Transcript | None,
    ) -> Reply:
        """The objection acknowledged in the language it was said in; then the rest of the
        turn answered, or if the objection was all, the question the caller was asked again
        ("How can I help?" when none)."""
        speech = self.engine.speech_for(followed)
        refused: tuple[Write, ...] = ()
        if state.conversation_id is not None:
            refused = (RecordingRefused(conversation_id=state.conversation_id),)
        if rest:  # the engine follows the rest's language itself
            refusing = replace(state, recording_refused=True)
            reply = self._respond(rest, None, refusing, now, transcript)
            chunks = (speech.say("recording.stopped"), *reply.chunks)
            return _with_chunks(replace(reply, writes=(*refused, *reply.writes)), chunks)
        state = replace(followed, recording_refused=True)
        asked = state.last_reply[-1:] if state.awaiting is not Awaiting.NOTHING else ()
        chunks = (speech.say("recording.stopped"), *(asked or (speech.say("recording.carry_on"),)))
        text = " ".join(chunks)
        after = state.with_line("caller", said).with_line("agent", text)
        after = replace(after, last_reply=chunks, last_expect=EXPECTS[state.awaiting])
        actions = tuple(describe(write) for write in refused)
        expect = EXPECTS[state.awaiting]
        return Reply(chunks, refused, after, expect, actions=actions, language=speech.code)

    def _respond(
        self,
        text: str,
        dtmf: str | None,
        state: DialogueState,
        now: datetime,
        transcript: Transcript | None,
    ) -> Reply:
        heard, probability = self._heard(text, transcript)
        if transcript is None:  # typed on the keypad, or text with nothing to doubt
            return self.engine.respond(UserTurn(text, dtmf, language=heard), state, now)
        turn = UserTurn(
            text,
            dtmf,
            confidence=transcript.confidence,
            rewritten=transcript.digits_rewritten,
            language=heard,
            language_probability=probability,
        )
        return self.engine.respond(turn, state, now)

    def _heard(self, text: str, transcript: Transcript | None) -> tuple[str | None, float]:
        """The language this turn was heard in, and how surely: the recognizer's (only when
        it identified it), or for typed text the word-based guess. An identification too
        unsure to count alone counts as a first guess when the words read as that language
        too: two signals agree (espeak-ng German is often heard as English at 0.3-0.5)."""
        if transcript is None:
            return (self.typed_language(text) if text else None), 1.0
        probability = transcript.language_probability
        if probability is None:
            return None, 0.0
        words_say = text_language(text, self.engine.offered)
        if probability < FIRST_GUESS and words_say == transcript.language:
            probability = FIRST_GUESS
        return transcript.language, probability

    def heard(self, state: DialogueState, played_text: str) -> DialogueState:
        """The state after the last reply was interrupted with ``played_text`` heard."""
        transcript = state.transcript
        if transcript and transcript[-1].speaker == "agent":
            transcript = (*transcript[:-1], Line("agent", played_text))
        question = state.last_reply[-1] if state.last_reply else ""
        heard_question = bool(question) and question.strip() in played_text
        if state.awaiting in _YES_NO_QUESTIONS and not heard_question:
            return replace(state, transcript=transcript, awaiting=Awaiting.NOTHING, pending=None)
        if state.awaiting in callback.ASKING and not heard_question:
            return replace(callback.unheard(state), transcript=transcript)
        if state.read_back is not None and not heard_question:
            # "Is that right?" unheard: a "yes" must not confirm digits they never heard.
            return replace(state, transcript=transcript, read_back=None)
        return replace(state, transcript=transcript)

    def call_ended(self, state: DialogueState, now: datetime) -> tuple[Write, ...]:
        """What the call's end leaves to store, from the last state committed: the hand-off a
        caller asked for and hung up on while being asked where to call back."""
        engine = self.engine
        draft = Draft(
            repository=engine.repository,
            policies=engine.policies,
            speech=engine.speech_for(state),
            now=now,
            turn=UserTurn(""),
            heard=nlu.Understanding("", None, None),
            state=state,
            references=engine.references,
        )
        callback.hung_up(draft)  # what it would say is never spoken: the line is gone
        return tuple(draft.writes)

    def entity_complete(self, text: str, state: DialogueState) -> bool | None:
        """Whether ``text`` completes what was asked for: the entity itself, or a turn that
        answers otherwise (a request, a goodbye, a yes or no). False while it could still be
        the start of the entity ("it's four seven seven", or digits ASR wrote as words)."""
        policies = self.engine.policies
        said = canonical(text, state.language)  # number words as digits, letters, yes and no

        def otherwise() -> bool:
            return _answers_otherwise(said, text, state.language)

        if state.awaiting is Awaiting.ORDER_NUMBER:
            lengths = policies.verification.order_number_digits
            return entities.order_number(said, None, lengths) is not None or otherwise()
        if state.awaiting in (Awaiting.FACTOR, Awaiting.LOOKUP_FACTOR):
            return verification.gives_factor(said, policies.verification) or otherwise()
        if state.awaiting is Awaiting.LOOKUP:
            return entities.email_address(said) is not None or otherwise()
        if state.awaiting in callback.ASKING:
            # A phone number can always go on: a turn that stops on a digit waits longer.
            if _stops_mid_entity(said):
                return False
            return callback.contact(said) is not None or otherwise()
        if state.awaiting in _YES_NO_QUESTIONS:
            return entities.yes_or_no(said) is not None
        return None


def _with_chunks(reply: Reply, chunks: tuple[str, ...]) -> Reply:
    """``reply`` saying ``chunks`` instead: its state remembers them as the last reply."""
    state = reply.state
    transcript = state.transcript
    if transcript and transcript[-1].speaker == "agent":
        transcript = (*transcript[:-1], Line("agent", " ".join(chunks)))
    state = replace(state, transcript=transcript, last_reply=chunks)
    actions = tuple(describe(write) for write in reply.writes)
    return replace(reply, chunks=chunks, state=state, actions=actions)
