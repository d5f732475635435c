"""Why the agent placed a call: the opening, what it tells once the callee is verified, and the
message it leaves on an answering machine.

An inbound call opens with "How can I help?"; a call the agent places opens by saying who is
calling and why, then verifies the callee as any caller is verified (order number, then a
second factor) before it tells anything about the order. ``CallDialogue`` asks its purpose
for these three things, so the engine's routing stays the same for both directions.

The message left on a machine names the shop and the subject only: whoever hears the tape
may not be the shopper, so no name, order or claim detail is in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voice_agent.dialogue.replies import Speech
from voice_agent.store.repository import Repository

CLAIM_UPDATE = "claim-update"
RETURN_UPDATE = "return-update"
PURPOSES = (CLAIM_UPDATE, RETURN_UPDATE)
DECIDED = ("accepted", "rejected")
"""The claim statuses there is news to call about."""
REFUNDED = "refunded"
"""The return status there is news to call about (the money is on its way back)."""

COUNTRY_LANGUAGES: dict[str, str] = {
    **dict.fromkeys(("DE", "AT", "CH", "LI"), "de"),
    **dict.fromkeys(("ES", "MX", "AR", "CO", "CL", "PE", "UY"), "es"),
    **dict.fromkeys(("FR", "BE", "LU", "MC"), "fr"),
    **dict.fromkeys(("PT", "BR", "AO", "MZ"), "pt"),
    **dict.fromkeys(("GB", "US", "IE", "AU", "NZ", "CA"), "en"),
}
"""The language a shopper shipping to this country most likely speaks (a hint: the callee's
first words still decide, as on any call)."""


class PurposeError(ValueError):
    """A call cannot be placed for this purpose: the message says why."""


class CallPurpose(Protocol):
    """What a call placed by the agent is about."""

    @property
    def name(self) -> str: ...

    @property
    def reference(self) -> str | None:
        """The case the call is about (stored with the conversation)."""

    @property
    def language(self) -> str | None:
        """The callee's likely language, a hint as the number dialled is on inbound calls."""

    @property
    def order_number(self) -> str:
        """The order the callee must be verified for before anything is told."""

    def opening(self, speech: Speech) -> tuple[str, ...]:
        """Who is calling and why; then the question that starts the verification."""

    def verified(self, speech: Speech) -> tuple[str, ...]:
        """What the call is for, told once the callee is verified for ``order_number``."""

    def machine_message(self, speech: Speech) -> tuple[str, ...]:
        """A message for an answering machine: no personal data."""


@dataclass(frozen=True, slots=True)
class ClaimUpdate:
    """A claim's decision, told to the shopper who made it."""

    claim: str
    order_number: str
    status: str
    shop: str
    callback_number: str | None = None
    language: str | None = None
    name: str = CLAIM_UPDATE

    @property
    def reference(self) -> str:
        return self.claim

    def opening(self, speech: Speech) -> tuple[str, ...]:
        return _opening(speech, "outbound.opening", self.shop)

    def verified(self, speech: Speech) -> tuple[str, ...]:
        reference = _spoken_reference(speech, self.claim)
        return (speech.say(f"outbound.claim.{self.status}", reference=reference),)

    def machine_message(self, speech: Speech) -> tuple[str, ...]:
        return _machine_message(speech, "outbound.opening", self.shop, self.callback_number)


@dataclass(frozen=True, slots=True)
class ReturnUpdate:
    """A return refunded: the shopper who sent it back is told the money is on its way."""

    return_reference: str
    order_number: str
    shop: str
    callback_number: str | None = None
    language: str | None = None
    name: str = RETURN_UPDATE

    @property
    def reference(self) -> str:
        return self.return_reference

    def opening(self, speech: Speech) -> tuple[str, ...]:
        return _opening(speech, "outbound.opening_return", self.shop)

    def verified(self, speech: Speech) -> tuple[str, ...]:
        reference = _spoken_reference(speech, self.return_reference)
        return (speech.say("outbound.return.refunded", reference=reference),)

    def machine_message(self, speech: Speech) -> tuple[str, ...]:
        return _machine_message(speech, "outbound.opening_return", self.shop, self.callback_number)


def _opening(speech: Speech, opening: str, shop: str) -> tuple[str, ...]:
    return (
        speech.say(opening, shop=shop),
        speech.say("outbound.verify_first"),
        speech.say("verify.ask_number"),
        speech.say("verify.how_number"),
    )


def _spoken_reference(speech: Speech, reference: str) -> str:
    return speech.digits(reference) if reference.isdigit() else reference


def _machine_message(
    speech: Speech, opening: str, shop: str, callback_number: str | None
) -> tuple[str, ...]:
    """The shop and the subject only, and how to call back: no personal data."""
    if callback_number:
        callback = speech.say("outbound.machine.callback_number", number=callback_number)
    else:
        callback = speech.say("outbound.machine.callback")
    return (speech.say(opening, shop=shop), callback, speech.say("outbound.machine.goodbye"))


def claim_update(
    repository: Repository,
    reference: str,
    shop: str,
    callback_number: str | None,
    offered: tuple[str, ...],
) -> ClaimUpdate:
    """The update for claim ``reference``: PurposeError when there is none, or it is not
    decided yet. Its language is the shipping country's, when the deployment offers it."""
    claim = next((c for c in repository.claims() if c.reference == reference), None)
    if claim is None:
        raise PurposeError(f"no claim with reference {reference!r}")
    if claim.status not in DECIDED:
        raise PurposeError(
            f"claim {reference} is {claim.status}, not decided: a call tells an accepted or "
            "rejected claim"
        )
    language = _order_language(repository, claim.order_number, offered)
    return ClaimUpdate(
        claim.reference, claim.order_number, claim.status, shop, callback_number, language
    )


def return_update(
    repository: Repository,
    reference: str,
    shop: str,
    callback_number: str | None,
    offered: tuple[str, ...],
) -> ReturnUpdate:
    """The update for return ``reference``: PurposeError when there is none, or it is not
    refunded yet."""
    request = next((r for r in repository.return_requests() if r.reference == reference), None)
    if request is None:
        raise PurposeError(f"no return with reference {reference!r}")
    if request.status != REFUNDED:
        raise PurposeError(
            f"return {reference} is {request.status}, not refunded: a call tells a refunded return"
        )
    language = _order_language(repository, request.order_number, offered)
    return ReturnUpdate(request.reference, request.order_number, shop, callback_number, language)


def _order_language(
    repository: Repository, order_number: str, offered: tuple[str, ...]
) -> str | None:
    """The shipping country's language, when the deployment offers it."""
    order = repository.find_order(order_number)
    language = None if order is None else COUNTRY_LANGUAGES.get(order.customer.country.upper())
    return language if language in offered else None


@dataclass(frozen=True, slots=True)
class PlacedCall:
    """A call the agent placed: its purpose, and whether a machine answered it (then the
    purpose's message is left, and nothing else is said)."""

    purpose: CallPurpose
    machine: bool = False
