"""The dialogue engine: one caller turn and the state in, one reply out.

Plain synchronous Python with no side effects: it reads the store, never writes it, and never
reads the clock (``now`` comes in). The reply holds the writes the turn implies and the next
state; both count only once the caller of ``respond`` commits the turn.

A turn is routed in this order: the answer to "where shall we call you back?" first
(voice_agent.dialogue.callback); then asking for a person, saying goodbye or asking for a repeat
always win; then the answer to the question the agent asked last (an order number, a second
factor, a yes or no, an address, a product name); otherwise the turn is a new request, or
several (docs/requests.md): each is answered in turn, those needing the order after one
verification. A request made while the caller is being verified waits for it (``goals``).
After the flows: the requests still waiting are answered, an overdue parcel is said to be
overdue (and a claim offered) whatever was asked, and a frustrated caller is offered a person.
No request ends the call; only a goodbye does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from voice_agent.dialogue import (
    callback,
    entities,
    flows,
    handoff,
    language_rules,
    lookup,
    orders,
    products,
    talk,
    verification,
)
from voice_agent.dialogue.call_language import answering_language, follow, language_names
from voice_agent.dialogue.classifier import clauses
from voice_agent.dialogue.draft import Draft, random_reference
from voice_agent.dialogue.nlu import (
    ITEM_INTENTS,
    ORDER_INTENTS,
    Intent,
    Understand,
    classify,
    requests_besides_person,
    understand,
)
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.replies import language as replies_for
from voice_agent.dialogue.shop_data import ShopDataCache
from voice_agent.dialogue.state import (
    EXPECTS,
    Awaiting,
    Caller,
    DialogueState,
    PendingAddress,
    PendingClaim,
    PendingHandoff,
    PendingLookup,
    PendingRequest,
    PendingReturn,
    Reply,
    UserTurn,
    describe,
)
from voice_agent.lexicon import canonical
from voice_agent.store.repository import Repository
from voice_agent.store.views import OrderView, ShopTexts
from voice_agent.store.writes import Write

logger = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.2
"""Below this ASR confidence a turn is asked again rather than acted on."""

_CONFIRMS: dict[Awaiting, frozenset[Intent]] = {
    Awaiting.CONFIRM_CLAIM: frozenset({Intent.LOST_PARCEL, Intent.NOT_RECEIVED, *ITEM_INTENTS}),
    Awaiting.CONFIRM_RETURN: frozenset({Intent.RETURN}),
    Awaiting.CONFIRM_ADDRESS: frozenset({Intent.ADDRESS_CHANGE}),
    Awaiting.CONFIRM_REQUEST: frozenset({Intent.CANCEL}),
}
"""The requests a confirmation question is about: naming one again means yes."""

_YES_NO_QUESTIONS = frozenset(
    {
        Awaiting.CONFIRM_CLAIM,
        Awaiting.CONFIRM_RETURN,
        Awaiting.CONFIRM_ADDRESS,
        Awaiting.CONFIRM_REQUEST,
        Awaiting.OFFER_HANDOFF,
    }
)
"""Questions a plain yes answers."""

_DECISIVE = frozenset({Intent.HUMAN, Intent.REPEAT, Intent.SLOWER, Intent.GOODBYE})
"""Rule intents that are (nearly) unmistakable (as voice_agent.dialogue.understanding)."""

_VERIFYING = frozenset(
    {Awaiting.ORDER_NUMBER, Awaiting.FACTOR, Awaiting.LOOKUP, Awaiting.LOOKUP_FACTOR}
)
"""Questions of verification: a request made meanwhile waits until it is done."""

_ACT_NOW = frozenset({Intent.NO_ORDER_NUMBER, Intent.SLOWER, Intent.OUT_OF_SCOPE})
"""Requests that are not kept waiting for verification (they are about it, or about speech)."""

_FACTOR_WORD = re.compile(
    r"\b(?:post ?code|postal code|zip(?: code)?|e-?mail|phone|mobile)\b", re.IGNORECASE
)
_CORRECTION = re.compile(
    r"\b(?:i said|i meant|i say|wrong (?:order|number)|it's order|the order number is)\b",
    re.IGNORECASE,
)
_JUST_NO = frozenset(
    "no nope nah thanks thank you that's that it all i'm im good fine ok okay not now really "
    "so much bye nothing else cheers great for today i think".split()
)


class DialogueEngine:
    def __init__(
        self,
        repository: Repository,
        policies: Policies,
        language: str = "en",
        references: Callable[[], str] = random_reference,
        understand: Understand = understand,
        offered: tuple[str, ...] = (),
        shop_data: ShopDataCache | None = None,
    ) -> None:
        """`shop_data`: the catalogue and translations as read from `repository` (default:
        read once; the server's looks for re-imports, dialogue.catalogue_check_s)."""
        self.repository = repository
        self.shop_data = shop_data or ShopDataCache(repository)
        self.policies = policies
        self.speech: Speech = replies_for(language)
        """The default language's replies (a call's own are ``speech_for(state)``)."""
        self.offered = offered or (language,)
        self.references = references
        self.understand = understand

    @property
    def catalogue(self) -> products.Catalogue:
        """The product catalogue, read again after an import (shop_data.py)."""
        return self.shop_data.current().catalogue

    @property
    def shop_texts(self) -> ShopTexts:
        """The shop's translations of its texts, read again after an import (as the catalogue)."""
        return self.shop_data.current().texts

    def initial_state(
        self,
        conversation_id: int | None = None,
        caller: Caller | None = None,
        language: str | None = None,
    ) -> DialogueState:
        """A new call's state; ``language`` is a hint (the web page's, the number dialled):
        offered, it is the call's language from the start, else the default is, until the
        caller's first turn is heard."""
        hinted = language in self.offered
        return DialogueState(
            conversation_id=conversation_id,
            caller=caller,
            language=language if language is not None and hinted else self.speech.code,
            language_settled=hinted,
        )

    def speech_for(self, state: DialogueState) -> Speech:
        return replies_for(state.language)

    def greeting(self, state: DialogueState) -> Reply:
        speech = self.speech_for(state)
        chunks = (speech.say("ack.hello"), speech.say("greeting.ask"))
        return self._reply(chunks, (), state, end_call=False, language=speech.code)

    def respond(self, turn: UserTurn, state: DialogueState, now: datetime) -> Reply:
        said = turn.text.strip() or (f"(keypad) {turn.dtmf}" if turn.dtmf else "")
        words = len(turn.text.split())
        followed = follow(state, turn.language, turn.language_probability, words, self.offered)
        state = followed.state.with_line("caller", said)
        if followed.unsupported is not None:
            return self._unsupported(followed.unsupported, state)
        speech = self.speech_for(state)
        draft = Draft(
            repository=self.repository,
            policies=self.policies,
            speech=speech,
            now=now,
            # The parsers read numbers, letters and closed words as English writes them; the
            # intent classifier reads what the caller said.
            turn=replace(turn, text=canonical(turn.text, speech.code)),
            said=turn.text,
            heard=self.understand(turn.text, speech.code),
            state=state,
            references=self.references,
            texts=self.shop_texts,
        )
        self._route(draft)
        chunks, writes = tuple(draft.chunks), tuple(draft.writes)
        return self._reply(chunks, writes, draft.state, draft.end_call, speech.code)

    def _unsupported(self, heard: str, state: DialogueState) -> Reply:
        """A caller speaking a language the deployment does not offer: told so briefly in
        theirs (where there is a voice for it, else English), and offered a person."""
        speech = replies_for(answering_language(heard))
        names = language_names(self.offered, speech.code)
        chunks = (
            speech.say("ack.sorry"),
            speech.say("language.unsupported", languages=speech.join_or(names)),
            speech.say("language.offer_person"),
        )
        state = state.with_fact("language_heard", heard).asking(
            Awaiting.OFFER_HANDOFF, PendingHandoff(f"caller speaks {heard}")
        )
        return self._reply(chunks, (), state, end_call=False, language=speech.code)

    def _reply(
        self,
        chunks: tuple[str, ...],
        writes: tuple[Write, ...],
        state: DialogueState,
        end_call: bool,
        language: str,
    ) -> Reply:
        expect = EXPECTS[state.awaiting]
        text = " ".join(chunks)
        state = replace(
            state.with_line("agent", text),
            last_reply=chunks,
            last_expect=expect,
            ended=end_call,
            replied_in=language,
        )
        return Reply(
            chunks=chunks,
            writes=writes,
            state=state,
            expect=expect,
            end_call=end_call,
            actions=tuple(describe(write) for write in writes),
            language=language,
        )

    # --- routing ---------------------------------------------------------------------------

    def _route(self, draft: Draft) -> None:
        turn = draft.turn
        if not turn.text.strip() and not turn.dtmf:
            talk.unclear(draft)
            return
        if turn.confidence < MIN_CONFIDENCE and not turn.dtmf:
            talk.unclear(draft)
            return
        if draft.state.awaiting in callback.ASKING and callback.answer(draft):
            return
        mentioned = entities.mentioned_date(turn.text, draft.now.date())
        if mentioned is not None:
            draft.fact("date_mentioned", mentioned.isoformat())  # for a person reading on
        angry = not draft.state.frustrated and language_rules.is_frustrated(
            turn.text, draft.speech.code
        )
        if angry:
            draft.update(frustrated=True)
            draft.fact("frustrated", "yes")
            draft.say("ack.frustrated")
        if (
            self._answer_not_request(draft)
            or self._yes_not_goodbye(draft)
            or self._greeting_not_goodbye(draft)
        ):
            draft.heard = replace(draft.heard, intent=None, intents=())
        self._factor_not_request(draft)
        intents = draft.heard.intents
        leaving = len(intents) > 1 and intents[-1] is Intent.GOODBYE
        if leaving:
            # "..., I'll call back, bye": the request first, then the goodbye closes the call.
            draft.heard = replace(draft.heard, intents=intents[:-1])
            self._route_and_leave(draft, angry)
            return
        intent = draft.heard.intent
        if intent is Intent.HUMAN:
            pending = draft.state.pending
            reason = pending.reason if isinstance(pending, PendingHandoff) else "asked for a person"
            if draft.state.frustrated:
                draft.fact("priority", "high")
            self._complaint_with_person(draft)
            callback.promise(draft, reason)
            return
        if intent is Intent.GOODBYE:
            talk.goodbye(draft)
            return
        if intent is Intent.REPEAT:
            talk.repeat(draft)
            return
        if intent is Intent.SLOWER:
            talk.slower(draft)
            return
        if intent in (None, Intent.OUT_OF_SCOPE) and self._only_greeted(draft):
            draft.say("greeting.ask")  # "Hi there.": the caller's request comes next
            return
        if not (self._number_and_factor(draft) or self._correction(draft) or self._answer(draft)):
            if angry and intent is None and not self._order_number(draft):
                self._offer_priority(draft)
                return
            self._request(draft, intent)
        self._finish(draft)
        if angry:
            self._one_sorry(draft)

    def _route_and_leave(self, draft: Draft, angry: bool) -> None:
        """A request and a goodbye in one turn: the request is answered, then the call ends;
        a request that would need the leaving caller to answer a question (an order number,
        an e-mail) is not started."""
        chunks, writes, state = list(draft.chunks), list(draft.writes), draft.state
        if not (self._number_and_factor(draft) or self._correction(draft) or self._answer(draft)):
            self._request(draft, draft.heard.intent)
        callback.leaving(draft)
        asks = draft.state.awaiting in _VERIFYING or draft.state.awaiting is Awaiting.NEW_ADDRESS
        if asks and len(draft.writes) == len(writes):
            draft.chunks[:], draft.state = chunks, state
        elif draft.chunks and draft.chunks[-1] == draft.speech.say("general.anything_else"):
            draft.chunks.pop()
        if angry:
            self._one_sorry(draft)
        talk.goodbye(draft)

    def _complaint_with_person(self, draft: Draft) -> None:
        """ "I want to file a complaint and speak to a manager": the complaint is recorded for
        the shop too, before the hand-off (whose ticket then carries its reference)."""
        said = (*draft.heard.intents, *requests_besides_person(draft.text))
        if Intent.COMPLAINT not in said:
            return
        flows.complaint(draft)
        if draft.chunks and draft.chunks[-1] == draft.speech.say("general.anything_else"):
            draft.chunks.pop()  # the hand-off's own question ends the reply

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
        if awaiting is Awaiting.LOOKUP:
            if draft.heard.intent is Intent.NO_ORDER_NUMBER and not lookup.gives_contact(
                draft.text
            ):
                return False  # "I told you, I don't have it": asked again
            number = None if lookup.gives_contact(draft.text) else self._order_number(draft)
            if number is not None:
                self._verify(draft, number)  # "oh wait, here it is: 58814": verified as usual
                return True
            return lookup.on_email(draft)
        if awaiting is Awaiting.LOOKUP_FACTOR:
            outcome = lookup.on_factor(draft)
            if outcome is None:
                return False
            if outcome:
                self._after_verified(draft)
            return True
        if awaiting in (
            Awaiting.CONFIRM_CLAIM,
            Awaiting.CONFIRM_RETURN,
            Awaiting.CONFIRM_ADDRESS,
            Awaiting.CONFIRM_REQUEST,
            Awaiting.OFFER_HANDOFF,
            Awaiting.ANYTHING_ELSE,
        ):
            return self._on_yes_no(draft)
        return False

    def _request(self, draft: Draft, intent: Intent | None) -> None:
        """A new request (not an answer to the last question), or several in one turn."""
        if intent is None and self._about_a_product(draft):
            intent = Intent.PRODUCT
        if intent is not None:
            said = [heard for heard in draft.heard.intents if heard is not None]
            intents = said if intent in said else [intent, *said]
            if draft.state.awaiting in _VERIFYING and not _ACT_NOW.intersection(intents):
                self._wait_for_verification(draft, intents)
                return
            if Intent.NO_ORDER_NUMBER in intents and draft.state.verified_order is None:
                # "I want to cancel, but I don't have the order number": find it first.
                intents.remove(Intent.NO_ORDER_NUMBER)
                intents.insert(0, Intent.NO_ORDER_NUMBER)
            if Intent.PRODUCT in intents and self.catalogue.find(draft.text) is not None:
                # The product's own shipping time answers "how long does shipping take".
                intents = [i for i in intents if i is not Intent.DELIVERY_TIME] or [intent]
            first, rest = intents[0], tuple(i for i in intents[1:] if i is not intents[0])
            draft.update(goals=(*rest, *draft.state.goals))
            if rest:
                draft.fact("request", draft.text)
                self._keep_goals_text(draft, draft.text, draft.said)
            self._run_goal(draft, first)
            return
        if verification.names_factor(draft.text) and draft.state.verified_order is None:
            verification.ask_order_number(draft)  # a postcode before any order number
            return
        number = self._order_number(draft)
        if number is not None:
            draft.update(intent=None)
            self._verify(draft, number)
            return
        if language_rules.is_thanks(draft.text, draft.speech.code):
            draft.say("ack.welcome")
            draft.anything_else()
            return
        if draft.heard.yes_no is True:
            draft.say("ack.sure")
            draft.say("general.what_else")
            draft.ask(Awaiting.NOTHING)
            return
        if draft.heard.yes_no is False:
            draft.say("ack.all_right")
            draft.anything_else()
            return
        self._out_of_scope(draft)

    def _answer_not_request(self, draft: Draft) -> bool:
        """ "Order 45069, postcode 10119" while being verified for a request already made: the
        word "order" makes it no new request (the caller's goal survives verification)."""
        state = draft.state
        return (
            state.awaiting in _VERIFYING
            and state.intent is not None
            and draft.heard.intent is Intent.ORDER_STATUS
            and len(draft.heard.intents) <= 1
            and (
                self._order_number(draft) is not None
                or verification.names_factor(draft.text)
                or bool(entities.digit_runs(draft.text))
            )
        )

    def _factor_not_request(self, draft: Draft) -> None:
        """A second factor given while one is asked for is the answer ("S W one A one A A",
        "sorry, phone ends 0186"), whatever request a classifier reads into its letters and
        digits; a request the rules find in it too ("postcode M1 1AE, and I want to make a
        complaint") waits until the caller is verified. A decisive phrase (a person, goodbye)
        stays a request."""
        state = draft.state
        if state.awaiting not in (Awaiting.FACTOR, Awaiting.LOOKUP_FACTOR):
            return
        heard = draft.heard
        if heard.intent is None or classify(draft.text) in _DECISIVE:
            return
        if not verification.gives_factor(draft.text, self.policies.verification):
            return
        ruled = classify(draft.text)
        waiting = [
            intent
            for intent in heard.intents
            if intent is not None
            and intent is ruled
            and intent is not state.intent
            and intent not in state.goals
        ]
        if waiting:
            draft.update(goals=(*state.goals, *waiting))
            self._keep_goals_text(draft, draft.text, draft.said)
        draft.heard = replace(heard, intent=None, intents=())

    def _greeting_not_goodbye(self, draft: Draft) -> bool:
        """ "Hi there." is the caller's opening: a goodbye the classifier reads into a turn
        that is only a greeting does not end the call (a soak call was hung up on it)."""
        return draft.heard.intent is Intent.GOODBYE and language_rules.is_greeting(
            draft.text, draft.speech.code
        )

    def _only_greeted(self, draft: Draft) -> bool:
        """A greeting and nothing else, with no question of ours waiting for an answer."""
        return draft.state.awaiting is Awaiting.NOTHING and language_rules.is_greeting(
            draft.text, draft.speech.code
        )

    def _yes_not_goodbye(self, draft: Draft) -> bool:
        """ "OK yes, do it" to a question awaiting a yes is that yes: a goodbye only the
        classifier reads into it does not end the call (the rules' goodbye would)."""
        heard = draft.heard
        return (
            heard.intent is Intent.GOODBYE
            and heard.yes_no is True
            and draft.state.awaiting in _YES_NO_QUESTIONS
            and classify(draft.text) is not Intent.GOODBYE
        )

    def _run_goal(self, draft: Draft, intent: Intent, waited: bool = False) -> None:
        """Answer one request; what it needs (verification, a confirmation) it asks for.
        ``waited``: a request from an earlier turn (this turn's words are not about it)."""
        if intent in ORDER_INTENTS:
            draft.update(intent=intent)
            verified = draft.state.verified_order
            if waited and verified is not None:
                self._run_order_flow(draft, verified, intent)
                return
            if not waited:
                draft.fact("request", draft.text)
            self._order_request(draft, intent)
        elif waited and draft.state.fact("goals_text"):
            # Asked in an earlier turn: answer from the words it was asked in.
            turn, heard = draft.turn, draft.heard
            said = draft.state.fact("goals_text") or ""
            own_words = draft.state.fact("goals_said") or said
            heard_goals = self.understand(own_words, draft.speech.code)
            draft.turn, draft.heard = replace(turn, text=said), heard_goals
            self._run_goal(draft, intent)
            draft.turn, draft.heard = turn, heard
        elif intent is Intent.PRODUCT:
            if self._delivery_time_only(draft):
                flows.delivery_time(draft, self.catalogue)
                return
            products.answer(draft, self.catalogue, asked=draft.heard.intent is Intent.PRODUCT)
        elif intent is Intent.DELIVERY_TIME:
            flows.delivery_time(draft, self.catalogue)
        elif intent is Intent.NO_ORDER_NUMBER:
            if draft.state.verified_order is not None:
                self._run_order_flow_or_ask(draft)
                return
            lookup.start(draft)
        elif intent is Intent.COMPLAINT:
            if (
                draft.state.verified_order is None
                and draft.state.fact("complaint_declined") is None
                and flows.about_an_order(draft.text)
            ):
                # About a parcel, an order or its delivery: recorded against the order.
                draft.update(intent=intent)
                draft.fact("complaint_text", draft.text)
                verification.ask_order_number(draft, opener="ack.sorry")
                return
            flows.complaint(draft)
        elif intent is Intent.HUMAN:
            callback.promise(draft, "asked for a person")
        elif intent is Intent.GOODBYE:
            talk.goodbye(draft)
        elif intent is Intent.REPEAT:
            talk.repeat(draft)
        elif intent is Intent.SLOWER:
            talk.slower(draft)
        else:
            self._out_of_scope(draft)

    def _run_order_flow_or_ask(self, draft: Draft) -> None:
        draft.say("ack.no_problem")
        draft.say("verify.what_now")
        draft.ask(Awaiting.NOTHING)

    def _delivery_time_only(self, draft: Draft) -> bool:
        """ "How long does shipping to Canada take?" with no product named or talked about."""
        return (
            self.catalogue.find(draft.text) is None
            and draft.state.product_sku is None
            and draft.state.awaiting is not Awaiting.PRODUCT
            and self.catalogue.country(draft.text, draft.language) is not None
            and products.asks_shipping(draft.text)
        )

    def _wait_for_verification(self, draft: Draft, intents: list[Intent]) -> None:
        """A request while the caller is being verified: kept, answered once verified; the
        question is asked again."""
        waiting = [*draft.state.goals]
        for intent in intents:
            if intent is not draft.state.intent and intent not in waiting:
                waiting.append(intent)
        draft.update(goals=tuple(waiting))
        self._keep_goals_text(draft, draft.text, draft.said)
        draft.say("ack.got_it")
        draft.say("goals.after_verify")
        awaiting = draft.state.awaiting
        pending = draft.state.pending
        if awaiting is Awaiting.ORDER_NUMBER:
            draft.say("verify.ask_number")
        elif awaiting is Awaiting.LOOKUP:
            draft.say("lookup.ask_email")
        elif awaiting is Awaiting.FACTOR:
            verification.ask_factor(draft)  # asked anew: the caller may have changed language
        elif awaiting is Awaiting.LOOKUP_FACTOR and isinstance(pending, PendingLookup):
            lookup.say_factors(draft, pending)
        elif draft.state.last_reply and draft.state.replied_in == draft.speech.code:
            draft.chunks.append(draft.state.last_reply[-1])

    @staticmethod
    def _keep_goals_text(draft: Draft, text: str, said: str) -> None:
        """The words a waiting request was made in: as the parsers read them, and as the
        caller said them (the classifier reads those when the request is answered)."""
        draft.fact("goals_text", text)
        draft.fact("goals_said", said)

    def _about_a_product(self, draft: Draft) -> bool:
        """A product named, or a question on the last one's attributes ("is it washable?")."""
        if self.catalogue.find(draft.text) is not None:
            return True
        sku = draft.state.product_sku
        product = None if sku is None else self.catalogue.products.get(sku)
        if product is None:
            return False
        return bool(
            products.attributes_asked(draft.text, product, products.said_names(draft, product))
        )

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
        if intent is None and draft.state.goals:
            intent, *rest = draft.state.goals
            draft.update(goals=tuple(rest))
            if intent not in ORDER_INTENTS:
                self._run_goal(draft, intent, waited=True)
                return
            draft.update(intent=intent)
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
        draft.answered.append(number)
        if intent in (Intent.LOST_PARCEL, Intent.NOT_RECEIVED):
            self._told_overdue(draft, number)  # these flows say it themselves
        if intent in _ORDERS_FLOWS:
            orders.run(draft, intent, order)
        else:
            flows.run(draft, intent, order)

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
        if draft.state.intent is Intent.COMPLAINT and draft.heard.yes_no is False:
            # The caller would rather not give the order: the complaint is recorded without.
            draft.fact("complaint_declined", "yes")
            draft.update(intent=None)
            flows.complaint(draft)
            return True
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
        if (
            state.awaiting is Awaiting.CONFIRM_ADDRESS
            and answer is not True
            and isinstance(state.pending, PendingAddress)
            and entities.postcode(draft.text) is not None
        ):
            orders.correct_address(draft, state.pending)  # "no wait, the postcode is 10437"
            return True
        if intent is not None:
            if intent not in _CONFIRMS.get(state.awaiting, ()) or answer is False:
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
            elif _only_no(draft.text):
                talk.goodbye(draft)
            else:
                return False  # "no, that's not what I asked": not a goodbye
            return True
        if not answer:
            self._declined(draft)
            return True
        if isinstance(pending, PendingHandoff):
            callback.promise(draft, pending.reason)
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
        elif isinstance(pending, PendingRequest):
            flows.record(draft, order.number, pending.kind, pending.details)
        return True

    def _verified_order(self, draft: Draft) -> OrderView | None:
        number = draft.state.verified_order
        return None if number is None else draft.order(number)

    def _declined(self, draft: Draft) -> None:
        key = {
            Awaiting.CONFIRM_CLAIM: "claim.declined",
            Awaiting.CONFIRM_RETURN: "return.declined",
            Awaiting.CONFIRM_ADDRESS: "address.declined",
            Awaiting.CONFIRM_REQUEST: "request.declined",
        }.get(draft.state.awaiting)
        if key is None:
            draft.say("ack.all_right")
            handoff.declined(draft)
            return
        draft.say("ack.all_right")
        draft.say(key)
        draft.anything_else()

    # --- a turn with an order number and a second factor; a corrected order number --------

    def _number_and_factor(self, draft: Draft) -> bool:
        """ "Order 45069, postcode 10119": the number, then the factor, as two answers."""
        if draft.state.awaiting not in (
            Awaiting.NOTHING,
            Awaiting.ORDER_NUMBER,
            Awaiting.ANYTHING_ELSE,
        ):
            return False
        turn = draft.turn
        found = _FACTOR_WORD.search(turn.text)
        if found is None or found.start() == 0:
            return False
        before, after = turn.text[: found.start()], turn.text[found.start() :]
        number = entities.order_number(before, None, self.policies.verification.order_number_digits)
        if number is None or number == draft.state.verified_order:
            return False
        if not verification.gives_factor(after, self.policies.verification):
            return False
        heard = draft.heard
        # The request is read without the factor, whose letters and digits mislead ("where is
        # order 31144, the postcode is S W one A ...": no address change).
        pieces = clauses(after)
        factor, rest = pieces[0], " ".join(pieces[1:])
        request = " ".join(part for part in (before, rest) if part.strip())
        if heard.intent is not None or rest.strip():
            draft.heard = self.understand(rest if rest.strip() else before, draft.speech.code)
        said = [intent for intent in draft.heard.intents if intent not in ORDER_INTENTS]
        if said and draft.state.awaiting is not Awaiting.ORDER_NUMBER:
            # "Order 58814, postcode ..., I want to make a complaint": answered once verified.
            draft.update(goals=(*said, *draft.state.goals))
            self._keep_goals_text(draft, request, request)
            draft.turn = replace(turn, text=before)
            draft.heard = replace(draft.heard, intent=None, intents=())
        else:
            draft.turn = replace(turn, text=request)
        if not self._answer(draft):
            self._request(draft, draft.heard.intent)
        if _asking_factor_for(draft.state, number):
            draft.chunks.pop()  # "please tell me the postcode": they already did
            draft.turn = replace(turn, text=factor)
            draft.heard = self.understand(factor, draft.speech.code)
            self._factor_not_request(draft)
            self._answer(draft)
        draft.turn, draft.heard = turn, heard
        return True

    def _correction(self, draft: Draft) -> bool:
        """ "No, I said four seven seven oh oh" while a factor is asked for: the new number."""
        if draft.state.awaiting is not Awaiting.FACTOR or not _CORRECTION.search(draft.text):
            return False
        number = self._order_number(draft)
        candidate = draft.state.candidate_order
        if number is None or number == candidate:
            return False
        if _corrects_factor(draft, number, candidate):
            return False  # "sorry, I meant 33130" after a wrong postcode: a new attempt
        self._verify(draft, number)
        return True

    # --- after the flows -----------------------------------------------------------------

    def _finish(self, draft: Draft) -> None:
        """The requests still waiting, an overdue parcel, a person for a frustrated caller."""
        anything_else = draft.speech.say("general.anything_else")
        offer = self._set_offer_aside(draft)
        while (
            draft.state.goals
            and draft.state.awaiting is Awaiting.ANYTHING_ELSE
            and not draft.end_call
            and draft.chunks
            and draft.chunks[-1] == anything_else
        ):
            draft.chunks.pop()
            goal, *rest = draft.state.goals
            draft.update(goals=tuple(rest))
            self._run_goal(draft, goal, waited=True)
        if (
            offer is not None
            and draft.state.awaiting is Awaiting.ANYTHING_ELSE
            and draft.chunks
            and draft.chunks[-1] == anything_else
        ):
            # Every waiting request answered: the offer is made again, last.
            draft.chunks[-1] = offer[0]
            draft.ask(Awaiting.CONFIRM_REQUEST, offer[1])
        number = draft.state.verified_order
        if (
            number is not None
            and number in draft.answered
            and number not in draft.state.overdue_told
            and self._only_an_offer_left(draft)
        ):
            order = draft.order(number)
            self._told_overdue(draft, number)
            if order is not None and flows.is_overdue(draft, order):
                draft.chunks.pop()  # "anything else?": the claim question comes instead
                late = draft.speech.say("status.late_claim")
                if draft.chunks and draft.chunks[-1] == late:
                    draft.chunks.pop()  # "if it's lost, I can check": it is, and we say so
                flows.tell_overdue(draft, order)
        if (
            draft.state.frustrated
            and draft.state.fact("priority_offered") is None
            and draft.state.awaiting in (Awaiting.ANYTHING_ELSE, Awaiting.NOTHING)
            and not draft.end_call
        ):
            if draft.chunks and draft.chunks[-1] == anything_else:
                draft.chunks.pop()
            self._offer_priority(draft)

    def _set_offer_aside(self, draft: Draft) -> tuple[str, PendingRequest] | None:
        """An offer (the tracking link) ending the reply while requests still wait: set aside,
        so the waiting requests are answered first (an offer decides nothing they need); it is
        made again at the end when nothing else asks a question. The offer and its request."""
        state = draft.state
        pending = state.pending
        if (
            not state.goals
            or draft.end_call
            or state.awaiting is not Awaiting.CONFIRM_REQUEST
            or not isinstance(pending, PendingRequest)
            or pending.kind != "tracking_link"
            or not draft.chunks
            or draft.chunks[-1] != draft.speech.say("tracking.offer_link")
        ):
            return None
        offer = draft.chunks[-1]
        draft.chunks[-1] = draft.speech.say("general.anything_else")
        draft.ask(Awaiting.ANYTHING_ELSE)
        return offer, pending

    def _only_an_offer_left(self, draft: Draft) -> bool:
        """The reply ends with "anything else?" or an offer (a tracking link) that a more
        urgent question may replace."""
        state = draft.state
        if not draft.chunks:
            return False
        if state.awaiting is Awaiting.ANYTHING_ELSE:
            return draft.chunks[-1] == draft.speech.say("general.anything_else")
        if state.awaiting is Awaiting.OFFER_HANDOFF:
            # A dispatched parcel's address: a person to redirect it, unless it is lost.
            return draft.chunks[-1] == draft.speech.say("address.offer_person")
        pending = state.pending
        return (
            state.awaiting is Awaiting.CONFIRM_REQUEST
            and isinstance(pending, PendingRequest)
            and pending.kind == "tracking_link"
            and draft.chunks[-1] == draft.speech.say("tracking.offer_link")
        )

    def _offer_priority(self, draft: Draft) -> None:
        draft.fact("priority_offered", "yes")
        draft.fact("priority", "high")
        draft.say("frustrated.offer")
        draft.say("frustrated.offer_ask")
        draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("priority: frustrated caller"))

    def _one_sorry(self, draft: Draft) -> None:
        """The acknowledgement opens the reply; a flow's own "I'm sorry." right after it goes."""
        sorry = draft.speech.say("ack.sorry")
        if len(draft.chunks) > 1 and draft.chunks[1] == sorry:
            del draft.chunks[1]

    def _told_overdue(self, draft: Draft, number: str) -> None:
        if number not in draft.state.overdue_told:
            draft.update(overdue_told=(*draft.state.overdue_told, number))

    def _out_of_scope(self, draft: Draft) -> None:
        draft.say("ack.sorry")
        draft.say("scope.cannot")
        draft.say("scope.offer")
        draft.say("scope.person")
        draft.fact("unanswered", draft.text)
        draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff(f"out of scope: {draft.text}"))


_ORDERS_FLOWS = frozenset(
    {
        Intent.ORDER_STATUS,
        Intent.LOST_PARCEL,
        Intent.RETURN,
        Intent.DUTIES,
        Intent.ADDRESS_CHANGE,
    }
)
"""The order intents orders.py answers; flows.py answers the rest."""


def _corrects_factor(draft: Draft, number: str, candidate: str | None) -> bool:
    """After a failed factor, "I meant ..." corrects the factor just given, unless the caller
    says it is the order number or it is one digit off the order number we heard."""
    if draft.state.failed_attempts == 0 or "order" in entities.tokens(draft.text):
        return False
    if not verification.gives_factor(draft.text, draft.policies.verification):
        return False
    if candidate is not None and len(candidate) == len(number):
        return sum(a != b for a, b in zip(candidate, number, strict=True)) > 1
    return True


def _asking_factor_for(state: DialogueState, number: str) -> bool:
    return state.awaiting is Awaiting.FACTOR and state.candidate_order == number


def _only_no(text: str) -> bool:
    """A plain "no" ("no thanks, that's it"), not a no followed by something else."""
    words = [word for word in entities.tokens(text) if word.isalnum() or "'" in word]
    return sum(word not in _JUST_NO for word in words) <= 1
