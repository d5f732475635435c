"""Stores a call as it happens: each turn when it ends, a committed reply's writes at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from voice_agent.store.repository import Repository
from voice_agent.store.writes import TurnRecord, Write

logger = logging.getLogger(__name__)


class StoreRecorder:
    """The CallRecorder of a real call: one conversation row, its turns and writes."""

    def __init__(self, repository: Repository, conversation_id: int) -> None:
        self._repository = repository
        self.conversation_id = conversation_id

    def add_turn(self, turn: TurnRecord) -> None:
        self._repository.add_turn(self.conversation_id, turn)

    def apply(self, writes: Sequence[Write]) -> None:
        self._repository.apply(writes)
