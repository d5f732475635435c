"""The work a call runs beside its frame loop: the tasks it spawns, and how many are working.

Inference, dialogue and store writes run as tasks while frames keep coming. They are kept
together so that a failure inside one is logged without ending the call, all of them end with
the call, and a driver in stepped time can wait until none is working (`settled`) before it
moves the clock on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class CallTasks:
    def __init__(self) -> None:
        self._busy = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        # The task runs `coro` itself, not a wrapper awaiting it: a task cancelled before its
        # first step closes its own coroutine, but not one a wrapper never got to await.
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def work(self, awaitable: Awaitable[T]) -> T:
        """Await inference, dialogue or store work, counted as under way meanwhile."""
        self._busy += 1
        try:
            return await awaitable
        finally:
            self._busy -= 1

    async def settled(self) -> None:
        """Wait until no work is under way."""
        while True:
            for _ in range(4):
                await asyncio.sleep(0)
            if self._busy == 0:
                return
            await asyncio.sleep(0.0005)

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # A failure inside one turn must not end the call: it is logged here, and whoever
        # waits on the task sees it failed and drops that turn's work.
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("call task failed", exc_info=error)
