"""Where to call the caller back, asked before a hand-off's ticket is written.

Every call-back promised goes through ``promise`` (a person asked for, a person offered and
accepted, a policy's hand-off). What a phone support line with call-backs does:

- A phone caller with a real caller ID is offered that number, read by its last digits only
  ("Shall we call you back on the number you're calling from, ending 3 4 5 6?"): a yes keeps
  it, "no, call me on ..." gives another (read back, then confirmed), a plain no asks for one.
- A verified caller without a caller ID (on the web) is offered the phone number on their
  order the same way (never read in full), or its e-mail address where it has no phone.
- Anyone else is asked for the best phone number or e-mail address; what they say is read
  back (digits grouped, the address in words) and stored once they say yes.

The ticket is written in every case, so a caller is never left without their hand-off: with
no contact when the caller would rather not give one, after two failed tries, or when they
hang up meanwhile (``hung_up``, at the end of the call: a caller ID or order number offered
and not refused is kept, as is a contact read back, marked unconfirmed). A caller
nobody can reach back (no contact, no verified order) is not promised a call-back time but
given the reference to quote. A conversation with no caller at all (the text chat) writes the
ticket at once, as before. The stored contact is normalized: "+" and digits ("00" as the
international prefix becomes "+"), or the lower-cased e-mail address.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from voice_agent.dialogue import entities, handoff, lookup, talk
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.nlu import Intent
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.state import Awaiting, DialogueState, PendingCallback

logger = logging.getLogger(__name__)

ASKING = frozenset({Awaiting.CALLBACK_CONTACT, Awaiting.CONFIRM_CALLBACK})
"""The questions this module asks; the engine hands their answers here first."""
MAX_TRIES = 2
"""Unusable answers or wrong read-backs before the ticket is written without a contact."""
MAX_PHONE_DIGITS = 15
"""The longest phone number there is (E.164), after the "00" or "+" prefix."""
ENDING_DIGITS = 4
"""The digits of a known number read to the caller (never the whole number)."""
HUNG_UP = "caller hung up before confirming a call-back contact"
"""Added to the reason of a ticket written at the end of the call (``hung_up``)."""

_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_REACH_ME = re.compile(
    r"^.*?\b(?:reach|contact|call|ring|e-?mail|mail|text|write to|get) (?:me|us) "
    r"(?:at|on|via|under)\b",
    re.IGNORECASE,
)
_PRONOUN_ONE = re.compile(
    r"\b(?:that|this|the|which|no|other|another|new|old|right|wrong|my|a) one\b", re.IGNORECASE
)
"""A "one" that is no digit ("not that one, ..."), left out before reading a phone number."""
_PLUS = re.compile(r"\+|\bplus\b", re.IGNORECASE)
_DECLINE = re.compile(
    r"\b(?:rather not|prefer not|(?:don't|do not|won't|will not) (?:want to )?(?:give|share|say)"
    r"|no thanks|no thank you|not necessary|no need|don't need|not needed|skip (?:it|that)"
    r"|i don't have (?:one|a phone|an? e-?mail)|none)\b",
    re.IGNORECASE,
)
_SYMBOLS = {".": "dot", "_": "underscore", "-": "dash", "+": "plus"}
_PIECE = re.compile(r"[a-z]+|\d+|[._+-]")


# --- the contact in what the caller said ------------------------------------------------------


def contact(text: str, dtmf: str | None = None) -> str | None:
    """A phone number or e-mail address the caller gave, normalized; None when neither."""
    return email(text) or phone(text, dtmf)


def email(text: str) -> str | None:
    """An e-mail address written or spelled ("anna dot schmidt at example dot com"), also
    after "reach me at ..."."""
    for said in (text, _REACH_ME.sub("", text)):
        address = entities.email_address(said)
        if address is not None and _EMAIL.fullmatch(address):
            return address
    return None


def phone(text: str, dtmf: str | None = None) -> str | None:
    """A phone number said ("oh one seven six, double five ...", "plus four nine ...") or
    typed: "+" and its digits; the last one said when the caller corrected themselves."""
    if dtmf:
        return _number(entities.dtmf_digits(dtmf), plus=False)
    text = _PRONOUN_ONE.sub(" ", text)
    digits = lookup.spoken_phone(text)
    if digits is None:
        return None
    marks = list(_PLUS.finditer(text))
    plus = bool(marks) and lookup.spoken_phone(text[marks[-1].end() :]) == digits
    return _number(digits, plus)


def _number(digits: str, plus: bool) -> str | None:
    if not plus and digits.startswith("00"):
        digits, plus = digits[2:], True  # the international prefix, said as "double oh"
    if not lookup.MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return None
    return f"+{digits}" if plus else digits


def _known_phone(number: str) -> str | None:
    """A number on record ("+49 30 5550 1234", a SIP caller ID) as a contact."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return _number(digits, number.strip().startswith("+"))


def declines(text: str) -> bool:
    """ "I'd rather not", "no thanks", "I don't have one": no contact will be given."""
    return bool(_DECLINE.search(text)) or _only_no(text)


def _only_no(text: str) -> bool:
    words = [word for word in entities.tokens(text) if word not in (",", ".")]
    return entities.yes_or_no(text) is False and len(words) <= 2


# --- spoken forms -------------------------------------------------------------------------------


def spoken_phone(number: str, speech: Speech) -> str:
    """ "+4917612345678" -> "plus four nine one, seven six one, ...": digits in groups of three
    (four at the end), a pause between groups."""
    digits = number.lstrip("+")
    groups = [" ".join(speech.digit(ch) for ch in group) for group in _groups(digits)]
    spoken = ", ".join(groups)
    return speech.say("callback.plus", digits=spoken) if number.startswith("+") else spoken


def _groups(digits: str) -> list[str]:
    sizes: list[int] = []
    left = len(digits)
    while left > 4:
        size = left - 4 if left in (7, 8) else 3  # the last group of four
        sizes.append(size)
        left -= size
    sizes.append(left)
    groups, start = [], 0
    for size in sizes:
        groups.append(digits[start : start + size])
        start += size
    return groups


def spoken_email(address: str, speech: Speech) -> str:
    """ "anna.schmidt@example.com" -> "anna dot schmidt at example dot com"; what is not a word
    is spelled ("l.weber@gmx.de" -> "L dot weber at G M X dot D E")."""
    local, _, domain = address.partition("@")
    return speech.say(
        "callback.email", local=_spoken_part(local, speech), domain=_spoken_part(domain, speech)
    )


def _spoken_part(part: str, speech: Speech) -> str:
    words = []
    for piece in _PIECE.findall(part):
        if piece in _SYMBOLS:
            words.append(speech.say(f"symbol.{_SYMBOLS[piece]}"))
        elif piece.isdigit():
            words.append(" ".join(speech.digit(ch) for ch in piece))
        elif _sayable(piece):
            words.append(piece)
        else:
            words.append(" ".join(piece.upper()))
    return " ".join(words)


def _sayable(piece: str) -> bool:
    """A piece read as a word rather than letter by letter."""
    return len(piece) > 2 and any(ch in "aeiouy" for ch in piece)


# --- the dialogue -------------------------------------------------------------------------------


def promise(draft: Draft, reason: str) -> None:
    """A call-back is promised: offer a known number, else ask where to call back."""
    state = draft.state
    if state.caller is None:
        handoff.create(draft, reason)  # no caller to ask (the text chat)
        return
    draft.say("ack.of_course")
    offer = _offer(draft)
    if offer is None:
        _ask(draft, PendingCallback(reason))
        return
    key, known, source = offer
    draft.say(key, digits=draft.speech.digits(known[-ENDING_DIGITS:]))
    draft.ask(Awaiting.CONFIRM_CALLBACK, PendingCallback(reason, known, offered=source))


def _offer(draft: Draft) -> tuple[str, str, str] | None:
    """(reply key, contact, source) of a number known for the caller: their caller ID, else
    the phone or e-mail on their verified order."""
    caller = draft.state.caller
    number = None if caller is None or caller.number is None else _known_phone(caller.number)
    if number is not None:
        return "callback.offer_caller", number, "caller"
    verified = draft.state.verified_order
    order = None if verified is None else draft.order(verified)
    if order is None:
        return None
    number = _known_phone(order.customer.phone)
    if number is not None:
        return "callback.offer_order_phone", number, "order_phone"
    address = order.customer.email.strip().lower()
    if _EMAIL.fullmatch(address):
        return "callback.offer_order_email", address, "order_email"
    return None


def _ask(draft: Draft, pending: PendingCallback) -> None:
    draft.say("callback.ask")
    draft.ask(Awaiting.CALLBACK_CONTACT, replace(pending, contact=None, offered=None))


def answer(draft: Draft) -> bool:
    """The answer to where to call back; False when the engine should route the turn (a
    request to repeat the question, or to say it more slowly)."""
    pending = draft.state.pending
    if not isinstance(pending, PendingCallback):
        return False  # a state from before this question existed
    intent = draft.heard.intent
    if intent in (Intent.REPEAT, Intent.SLOWER):
        return False
    given = contact(draft.text, draft.turn.dtmf)
    if given is not None and given != pending.contact:
        _read_back(draft, pending, given)
    elif intent is Intent.GOODBYE:
        _leave(draft, pending)
    elif draft.state.awaiting is Awaiting.CONFIRM_CALLBACK:
        _on_confirm(draft, pending, given is not None)
    elif declines(draft.text):
        _without_contact(draft, pending)
    else:
        _try_again(draft, pending, "callback.unclear")
    return True


def _on_confirm(draft: Draft, pending: PendingCallback, repeated: bool) -> None:
    said = entities.yes_or_no(draft.text)
    if said is True or repeated:
        _create(draft, pending.reason, pending.contact, opener="ack.got_it")
    elif said is False and pending.offered is not None:
        if _DECLINE.search(draft.text):
            _without_contact(draft, pending)
            return
        draft.say("ack.no_problem")
        _ask(draft, pending)
    elif said is False:
        draft.say("verify.heard_wrong")
        _try_again(draft, pending, None)
    else:
        _try_again(draft, pending, "callback.unclear_yes_no")


def _read_back(draft: Draft, pending: PendingCallback, given: str) -> None:
    speech = draft.speech
    draft.say("ack.thanks")
    if "@" in given:
        draft.say("callback.read_back", contact=spoken_email(given, speech))
    else:
        draft.say("callback.read_back", contact=spoken_phone(given, speech))
    draft.say("verify.is_that_right")
    draft.ask(
        Awaiting.CONFIRM_CALLBACK, replace(pending, contact=given, offered=None, unheard=None)
    )


def _try_again(draft: Draft, pending: PendingCallback, why: str | None) -> None:
    tries = pending.tries + 1
    if tries >= MAX_TRIES:
        kept = pending.contact if pending.offered is not None else None
        if kept is not None:
            _create(draft, pending.reason, kept, opener="ack.all_right")
        else:
            _without_contact(draft, pending)
        return
    if why is not None:
        draft.say("ack.sorry_unclear")
        draft.say(why)
    if draft.state.awaiting is Awaiting.CONFIRM_CALLBACK and why is not None:
        draft.state = replace(draft.state, pending=replace(pending, tries=tries))
        return  # "please say yes or no": the same question stands
    draft.say("callback.ask_again")
    draft.say("callback.or_none")
    draft.ask(Awaiting.CALLBACK_CONTACT, replace(pending, contact=None, offered=None, tries=tries))


def _without_contact(draft: Draft, pending: PendingCallback) -> None:
    """The ticket with no contact: the team reaches a verified caller through their order;
    nobody can call anyone else back, who is given the reference to quote."""
    draft.say("ack.all_right")
    if draft.state.verified_order is not None:
        draft.say("callback.order_details")
        _create(draft, pending.reason, None, opener=None)
        return
    draft.say("callback.no_contact")
    _create(draft, pending.reason, None, opener=None, reachable=False)


def _leave(draft: Draft, pending: PendingCallback) -> None:
    """A goodbye instead of an answer: the ticket is written with what was offered, and the
    call ends (no "anything else?")."""
    confirmed = pending.offered is not None or entities.yes_or_no(draft.text) is True
    kept = pending.contact if confirmed else None
    _create(draft, pending.reason, kept, opener="ack.all_right", reachable=_reachable(draft, kept))
    _drop_anything_else(draft)
    talk.goodbye(draft)


def leaving(draft: Draft) -> None:
    """A hand-off asked for in the turn that says goodbye ("get me a person, bye"): the
    question where to call back is not asked of a caller hanging up; the ticket is written
    with the number offered (their caller ID) or none."""
    pending = draft.state.pending
    if draft.state.awaiting not in ASKING or not isinstance(pending, PendingCallback):
        return
    draft.chunks.pop()  # the question
    kept = pending.contact if pending.offered is not None else None
    _create(draft, pending.reason, kept, opener=None, reachable=_reachable(draft, kept))


def hung_up(draft: Draft) -> None:
    """The call ended while the caller was being asked where to call back (they hung up, or
    went silent and were hung up on): a person was asked for, so the ticket is written with
    what is known: the contact offered or read back (even if the read-back was cut short),
    marked unconfirmed, else none."""
    pending = draft.state.pending
    if draft.state.awaiting not in ASKING or not isinstance(pending, PendingCallback):
        return  # nothing pending, or its ticket is already written
    confirming = draft.state.awaiting is Awaiting.CONFIRM_CALLBACK
    kept = pending.contact if confirming else pending.unheard
    if kept is not None:
        draft.fact("contact_confirmed", "no")
    reason = f"{pending.reason} ({HUNG_UP})"
    _create(draft, reason, kept, opener=None, reachable=_reachable(draft, kept))


def _reachable(draft: Draft, kept: str | None) -> bool:
    return kept is not None or draft.state.verified_order is not None


def _create(
    draft: Draft, reason: str, kept: str | None, opener: str | None, reachable: bool = True
) -> None:
    handoff.create(draft, reason, contact=kept, opener=opener, reachable=reachable)


def _drop_anything_else(draft: Draft) -> None:
    if draft.chunks and draft.chunks[-1] == draft.speech.say("general.anything_else"):
        draft.chunks.pop()


def unheard(state: DialogueState) -> DialogueState:
    """The state when the caller cut the read-back short before "is that right?": their yes
    must not confirm a number they never heard, so the contact is asked for again (an offered
    number of their own stays offered)."""
    pending = state.pending
    if (
        state.awaiting is not Awaiting.CONFIRM_CALLBACK
        or not isinstance(pending, PendingCallback)
        or pending.offered is not None
    ):
        return state
    unheard = replace(pending, contact=None, unheard=pending.contact)
    return state.asking(Awaiting.CALLBACK_CONTACT, unheard)
