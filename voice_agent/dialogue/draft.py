"""The reply being written for one turn, and what the flows may consult while writing it.

A ``Draft`` collects sentences, writes and the next state; it reads the store but changes
nothing there. The engine turns it into a frozen ``Reply`` at the end of the turn.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from voice_agent.dialogue.nlu import Understanding
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.state import Awaiting, DialogueState, Pending, UserTurn
from voice_agent.store.repository import Repository
from voice_agent.store.views import OrderView, ShopTexts
from voice_agent.store.writes import Write

logger = logging.getLogger(__name__)

REFERENCE_DIGITS = 8


def random_reference() -> str:
    """An 8-digit reference with no leading zero (it is read back digit by digit)."""
    low = 10 ** (REFERENCE_DIGITS - 1)
    return str(low + secrets.randbelow(9 * low))


@dataclass
class Draft:
    repository: Repository
    policies: Policies
    speech: Speech
    now: datetime
    turn: UserTurn
    heard: Understanding
    state: DialogueState
    references: Callable[[], str] = random_reference
    said: str = ""
    """The caller's own words this turn (``turn.text`` is as the parsers read them)."""
    chunks: list[str] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    end_call: bool = False
    answered: list[str] = field(default_factory=list)
    """The orders an order flow answered about in this turn (for the overdue check)."""
    _orders: dict[str, OrderView | None] = field(default_factory=dict)
    texts: ShopTexts = field(default_factory=ShopTexts)
    """The shop's own translations of its texts (event texts, evidence names)."""

    @property
    def text(self) -> str:
        return self.turn.text

    def order(self, number: str) -> OrderView | None:
        """The order, read from the store once per turn."""
        if number not in self._orders:
            self._orders[number] = self.repository.find_order(number)
        return self._orders[number]

    @property
    def language(self) -> str:
        """The language the call is answered in."""
        return self.speech.code

    def shop_text(self, text: str) -> str:
        """One of the shop's texts (a carrier's event text, an evidence name) as said in the
        call's language: the shop's translation where it has one, else as stored."""
        return self.texts.text(self.language, text)

    def policy_texts(self, texts: Sequence[str]) -> list[str]:
        """The policy file's texts (evidence names) as said in the call's language: the
        policy's own translation (``[said.<code>]``), else the shop's, else as written."""
        said = self.policies.said.get(self.language, {})
        return [said.get(text) or self.shop_text(text) for text in texts]

    def say(self, key: str, **values: Any) -> None:
        self.chunks.append(self.speech.say(key, **values))

    def write(self, write: Write) -> None:
        self.writes.append(write)

    def ask(self, awaiting: Awaiting, pending: Pending | None = None) -> None:
        self.state = self.state.asking(awaiting, pending)

    def anything_else(self) -> None:
        """End the reply asking whether there is anything else (the turn's request is done)."""
        self.say("general.anything_else")
        self.ask(Awaiting.ANYTHING_ELSE)

    def update(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)

    def fact(self, key: str, value: str) -> None:
        self.state = self.state.with_fact(key, value)

    def new_reference(self) -> str:
        """A reference no claim, hand-off or return request carries yet."""
        taken = {getattr(write, "reference", None) for write in self.writes}
        while True:
            reference = self.references()
            if reference not in taken and not self.repository.reference_taken(reference):
                return reference

    def retry(self) -> int:
        """Count one more failed answer to the current question; the count so far."""
        self.state = replace(self.state, retries=self.state.retries + 1)
        return self.state.retries
