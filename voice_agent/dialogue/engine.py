"""The dialogue engine: one caller turn and the state in, one reply out.

Plain synchronous Python with no side effects: it reads the store, never writes it, and never
reads the clock (``now`` comes in). The reply holds the writes the turn implies and the next
state; both count only once the caller of ``respond`` commits the turn.

A turn is routed in this order: asking for a person, saying goodbye or asking for a repeat
always win; then the answer to the question the agent asked last (an order number, a second
factor, a yes or no, an address, a product name); otherwise the turn is a new request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import cached_property

from voice_agent.dialogue import entities, handoff, orders, products, verification
from voice_agent.dialogue.draft import Draft, random_reference
from voice_agent.dialogue.nlu import ORDER_INTENTS, Intent, Understand, is_thanks, understand
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.replies import language as replies_for
from voice_agent.dialogue.state import (
    EXPECTS,
    Awaiting,
    Caller,
    DialogueState,
    PendingAddress,
    PendingClaim,
    PendingHandoff,
    PendingReturn,
    Reply,
    UserTurn,
    describe,
)
from voice_agent.store.repository import Repository
from voice_agent.store.views import OrderView
from voice_agent.store.writes import Write

logger = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.2
"""Below this ASR confidence a turn is asked again rather than acted on."""

_CONFIRMS = {
    Awaiting.CONFIRM_CLAIM: Intent.LOST_PARCEL,
    Awaiting.CONFIRM_RETURN: Intent.RETURN,
    Awaiting.CONFIRM_ADDRESS: Intent.ADDRESS_CHANGE,
}
"""The request a confirmation question is about: naming it again means yes."""


class DialogueEngine:
    def __init__(
        self,
        repository: Repository,
        policies: Policies,
        language: str = "en",
        references: Callable[[], str] = random_reference,
        understand: Understand = understand,
    ) -> None:
        self.repository = repository
        self.policies = policies
        self.speech: Speech = replies_for(language)
        self.references = references
        self.understand = understand

    @cached_property
    def catalogue(self) -> products.Catalogue:
        """The product catalogue, read once (restart the agent after importing new products)."""
        return products.Catalogue(self.repository.products())

    def initial_state(
        self, conversation_id: int | None = None, caller: Caller | None = None
    ) -> DialogueState:
        return DialogueState(conversation_id=conversation_id, caller=caller)

    def greeting(self, state: DialogueState) -> Reply:
        chunks = (
            self.speech.say("ack.hello"),
            self.speech.say("greeting.ask"),
        )
        return self._reply(chunks, (), state, end_call=False)

    def respond(self, turn: UserTurn, state: DialogueState, now: datetime) -> Reply:
        said = turn.text.strip() or (f"(keypad) {turn.dtmf}" if turn.dtmf else "")
        draft = Draft(
            repository=self.repository,
            policies=self.policies,
            speech=self.speech,
            now=now,
            turn=turn,
            heard=self.understand(turn.text),
            state=state.with_line("caller", said),
            references=self.references,
        )
        self._route(draft)
        return self._reply(tuple(draft.chunks), tuple(draft.writes), draft.state, draft.end_call)

    def _reply(
        self,
        chunks: tuple[str, ...],
        writes: tuple[Write, ...],
        state: DialogueState,
        end_call: bool,
    ) -> Reply:
        expect = EXPECTS[state.awaiting]
        text = " ".join(chunks)
        state = replace(
            state.with_line("agent", text), last_reply=chunks, last_expect=expect, ended=end_call
        )
        return Reply(
            chunks=chunks,
            writes=writes,
            state=state,
            expect=expect,
            end_call=end_call,
            actions=tuple(describe(write) for write in writes),
        )

    # --- routing ---------------------------------------------------------------------------

    def _route(self, draft: Draft) -> None:
        turn = draft.turn
        if not turn.text.strip() and not turn.dtmf:
            self._unclear(draft)
            return
        if turn.confidence < MIN_CONFIDENCE and not turn.dtmf:
            self._unclear(draft)
            return
        mentioned = entities.mentioned_date(turn.text, draft.now.date())
        if mentioned is not None:
            draft.fact("date_mentioned", mentioned.isoformat())  # for a person reading on
        intent = draft.heard.intent
        if intent is Intent.HUMAN:
            pending = draft.state.pending
            reason = pending.reason if isinstance(pending, PendingHandoff) else "asked for a person"
            handoff.create(draft, reason=reason)
            return
        if intent is Intent.GOODBYE:
            self._goodbye(draft)
            return
        if intent is Intent.REPEAT:
            self._repeat(draft)
            return
        if self._answer(draft):
            return
        self._request(draft, intent)

    def _answer(self, draft: Draft) -> bool:
        """Handle the turn as the answer to the last question; False when it is not one."""
        awaiting = draft.state.awaiting
        if awaiting is Awaiting.ORDER_NUMBER:
            return self._on_order_number(draft)
        if awaiting is Awaiting.FACTOR:
            return self._on_factor(draft)
        if awaiting is Awaiting.NEW_ADDRESS:
            return self._on_new_address(draft)
        if awaiting is Awaiting.PRODUCT:
            if draft.heard.intent not in (None, Intent.PRODUCT):
                return False
            products.answer(draft, self.catalogue, asked=True)
            return True
        if awaiting in (
            Awaiting.CONFIRM_CLAIM,
            Awaiting.CONFIRM_RETURN,
            Awaiting.CONFIRM_ADDRESS,
            Awaiting.OFFER_HANDOFF,
            Awaiting.ANYTHING_ELSE,
        ):
            return self._on_yes_no(draft)
        return False

    def _request(self, draft: Draft, intent: Intent | None) -> None:
        """A new request (not an answer to the last question)."""
        if intent is None and self._about_a_product(draft):
            intent = Intent.PRODUCT
        if intent in ORDER_INTENTS:
            assert intent is not None
            draft.update(intent=intent)
            draft.fact("request", draft.text)
            self._order_request(draft, intent)
            return
        if intent is Intent.PRODUCT:
            products.answer(draft, self.catalogue, asked=draft.heard.intent is Intent.PRODUCT)
            return
        if verification.names_factor(draft.text) and draft.state.verified_order is None:
            verification.ask_order_number(draft)  # a postcode before any order number
            return
        number = self._order_number(draft)
        if number is not None:
            draft.update(intent=None)
            self._verify(draft, number)
            return
        if is_thanks(draft.text):
            draft.say("ack.welcome")
            draft.say("general.anything_else")
            draft.ask(Awaiting.ANYTHING_ELSE)
            return
        if draft.heard.yes_no is True:
            draft.say("ack.sure")
            draft.say("general.what_else")
            draft.ask(Awaiting.NOTHING)
            return
        if draft.heard.yes_no is False:
            draft.say("ack.all_right")
            draft.say("general.anything_else")
            draft.ask(Awaiting.ANYTHING_ELSE)
            return
        self._out_of_scope(draft)

    def _about_a_product(self, draft: Draft) -> bool:
        """A product named, or a question on the last one's attributes ("is it washable?")."""
        if self.catalogue.find(draft.text) is not None:
            return True
        sku = draft.state.product_sku
        product = None if sku is None else self.catalogue.products.get(sku)
        return product is not None and bool(products.attributes_asked(draft.text, product))

    def _order_request(self, draft: Draft, intent: Intent) -> None:
        number = self._order_number(draft)
        verified = draft.state.verified_order
        if number is not None and number != verified:
            self._verify(draft, number)
            return
        if verified is not None:
            self._run_order_flow(draft, verified, intent)
            return
        verification.ask_order_number(draft)

    def _order_number(self, draft: Draft) -> str | None:
        lengths = self.policies.verification.order_number_digits
        return entities.order_number(draft.text, draft.turn.dtmf, lengths)

    def _verify(self, draft: Draft, number: str) -> None:
        if verification.start(draft, number):
            self._after_verified(draft)

    def _after_verified(self, draft: Draft) -> None:
        verified = draft.state.verified_order
        assert verified is not None
        intent = draft.state.intent
        if intent is None:
            draft.say("verify.what_now")
            draft.ask(Awaiting.NOTHING)
            return
        self._run_order_flow(draft, verified, intent)

    def _run_order_flow(self, draft: Draft, number: str, intent: Intent) -> None:
        order = draft.order(number)
        if order is None:
            # Verified orders exist; this one vanished since (re-imported data).
            draft.say("ack.sorry")
            draft.say("verify.offer_person")
            draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff(f"order {number} not found"))
            return
        orders.run(draft, intent, order)

    # --- answers to the last question ------------------------------------------------------

    def _on_order_number(self, draft: Draft) -> bool:
        if draft.state.read_back is not None and self._on_read_back(draft):
            return True
        number = self._order_number(draft)
        intent = draft.heard.intent
        if number is not None:
            if intent in ORDER_INTENTS:
                draft.update(intent=intent)
            self._verify(draft, number)
            return True
        if intent is not None:
            return False
        verification.order_number_unclear(draft)
        return True

    def _on_read_back(self, draft: Draft) -> bool:
        """The answer to "I heard 4, 7, 7, 0, 0. Is that right?"; False: a new answer instead."""
        outcome = verification.answer_read_back(draft)
        if outcome:
            self._after_verified(draft)
        return outcome is not None

    def _on_factor(self, draft: Draft) -> bool:
        if draft.state.read_back is not None and self._on_read_back(draft):
            return True
        said = " ".join(entities.tokens(draft.text))
        number = self._order_number(draft)
        if number is not None and "order" in said and number != draft.state.candidate_order:
            self._verify(draft, number)  # "no, the order number is ..."
            return True
        if draft.heard.intent is not None and not verification.names_factor(draft.text):
            return False  # a new request, not an answer
        outcome = verification.answer_factor(draft)
        if outcome is None:
            verification.factor_unclear(draft)
            return True
        if outcome:
            self._after_verified(draft)
        return True

    def _on_new_address(self, draft: Draft) -> bool:
        intent = draft.heard.intent
        if intent not in (None, Intent.ADDRESS_CHANGE) and entities.postcode(draft.text) is None:
            return False
        if orders.new_address(draft):
            return True
        if draft.retry() > verification.MAX_UNCLEAR:
            draft.say("ack.sorry")
            draft.say("verify.offer_person")
            draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("address change not understood"))
            return True
        draft.say("ack.sorry")
        draft.say("address.no_postcode")
        draft.say("address.ask_again")
        return True

    def _on_yes_no(self, draft: Draft) -> bool:
        state = draft.state
        answer = draft.heard.yes_no
        intent = draft.heard.intent
        if intent is not None:
            if intent is not _CONFIRMS.get(state.awaiting) or answer is False:
                return False  # a new request replaces the question ("no, I want to return it")
            answer = True  # "open a claim, please" answers "shall I open a claim?"
        if answer is None:
            if state.awaiting in (Awaiting.ANYTHING_ELSE, Awaiting.OFFER_HANDOFF):
                return False  # answered with a request of its own (or none we know)
            if self._order_number(draft) is not None:
                return False
            draft.say("ack.sorry_unclear")
            draft.say("general.yes_or_no")
            return True
        pending = state.pending
        if state.awaiting is Awaiting.ANYTHING_ELSE:
            if answer:
                draft.say("ack.sure")
                draft.say("general.what_else")
                draft.ask(Awaiting.NOTHING)
            else:
                self._goodbye(draft)
            return True
        if not answer:
            self._declined(draft)
            return True
        if isinstance(pending, PendingHandoff):
            handoff.create(draft, reason=pending.reason)
            return True
        order = self._verified_order(draft)
        if order is None:
            return False
        if isinstance(pending, PendingClaim):
            orders.open_claim(draft, order, pending)
        elif isinstance(pending, PendingReturn):
            orders.open_return(draft, order, pending)
        elif isinstance(pending, PendingAddress):
            orders.change_address(draft, order, pending)
        return True

    def _verified_order(self, draft: Draft) -> OrderView | None:
        number = draft.state.verified_order
        return None if number is None else draft.order(number)

    def _declined(self, draft: Draft) -> None:
        key = {
            Awaiting.CONFIRM_CLAIM: "claim.declined",
            Awaiting.CONFIRM_RETURN: "return.declined",
            Awaiting.CONFIRM_ADDRESS: "address.declined",
        }.get(draft.state.awaiting)
        if key is None:
            draft.say("ack.all_right")
            handoff.declined(draft)
            return
        draft.say("ack.all_right")
        draft.say(key)
        draft.say("general.anything_else")
        draft.ask(Awaiting.ANYTHING_ELSE)

    # --- the rest --------------------------------------------------------------------------

    def _unclear(self, draft: Draft) -> None:
        draft.say("ack.sorry_unclear")
        draft.say("general.ask_again")

    def _goodbye(self, draft: Draft) -> None:
        draft.say("ack.bye")
        draft.say("general.goodbye")
        draft.ask(Awaiting.NOTHING)
        draft.end_call = True

    def _repeat(self, draft: Draft) -> None:
        last = draft.state.last_reply
        if not last:
            draft.say("ack.sure")
            draft.say("repeat.nothing")
            draft.say("greeting.ask")
            return
        draft.chunks.extend(last)

    def _out_of_scope(self, draft: Draft) -> None:
        draft.say("ack.sorry")
        draft.say("scope.cannot")
        draft.say("scope.offer")
        draft.say("scope.person")
        draft.fact("unanswered", draft.text)
        draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff(f"out of scope: {draft.text}"))
