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
DECIDED = ("accepted", "rejected")
"""The claim statuses there is news to call about."""

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
        return (
            speech.say("outbound.opening", shop=self.shop),
            speech.say("outbound.verify_first"),
            speech.say("verify.ask_number"),
            speech.say("verify.how_number"),
        )

    def verified(self, speech: Speech) -> tuple[str, ...]:
        reference = speech.digits(self.claim) if self.claim.isdigit() else self.claim
        return (speech.say(f"outbound.claim.{self.status}", reference=reference),)

    def machine_message(self, speech: Speech) -> tuple[str, ...]:
        if self.callback_number:
            callback = speech.say("outbound.machine.callback_number", number=self.callback_number)
        else:
            callback = speech.say("outbound.machine.callback")
        opening = speech.say("outbound.opening", shop=self.shop)
        return (opening, callback, speech.say("outbound.machine.goodbye"))


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
    order = repository.find_order(claim.order_number)
    language = None if order is None else COUNTRY_LANGUAGES.get(order.customer.country.upper())
    return ClaimUpdate(
        claim.reference,
        claim.order_number,
        claim.status,
        shop,
        callback_number,
        language if language in offered else None,
    )


@dataclass(frozen=True, slots=True)
class PlacedCall:
    """A call the agent placed: its purpose, and whether a machine answered it (then the
    purpose's message is left, and nothing else is said)."""

    purpose: CallPurpose
    machine: bool = False
