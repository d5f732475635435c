"""Stores a call as it happens: each turn when it ends, a committed reply's writes at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from voice_agent.agent.tasks import CallTasks
from voice_agent.store.repository import Repository
from voice_agent.store.writes import RecordingRefused, TurnRecord, Write

logger = logging.getLogger(__name__)


class StoreRecorder:
    """The CallRecorder of a real call: one conversation row, its turns and writes."""

    def __init__(self, repository: Repository, conversation_id: int) -> None:
        self._repository = repository
        self.conversation_id = conversation_id
        self.on_recording_refused: Callable[[], None] | None = None
        """Called when a committed reply says the caller objected to the recording."""

    def add_turn(self, turn: TurnRecord) -> None:
        self._repository.add_turn(self.conversation_id, turn)

    def apply(self, writes: Sequence[Write]) -> None:
        refused = any(isinstance(write, RecordingRefused) for write in writes)
        if refused and self.on_recording_refused is not None:
            self.on_recording_refused()  # before the store, which may fail: the audio goes
        self._repository.apply(writes)


class StoreQueue:
    """One call's store work, done in call order, one at a time, off the event loop."""

    def __init__(self, tasks: CallTasks) -> None:
        self._tasks = tasks
        self._queue: asyncio.Queue[Callable[[], None] | None] = asyncio.Queue()

    def put(self, write: Callable[[], None]) -> None:
        self._queue.put_nowait(write)

    def close(self) -> None:
        """No more work: `run` ends once what was put is done."""
        self._queue.put_nowait(None)

    async def run(self) -> None:
        while (write := await self._queue.get()) is not None:
            try:
                await self._tasks.work(asyncio.to_thread(write))
            except Exception:
                logger.exception("storing a turn failed")  # the call goes on
