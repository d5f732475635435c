"""The concurrent-call limit: transports ask for a slot before answering a call.

The limiter also says whether this instance takes calls at all: not when every line is busy,
and not once it drains (SIGTERM: the calls under way finish, no new one starts). The health
check, the SIP OPTIONS answer and every refusal read it, so a load balancer or a SIP
dispatcher in front of several instances sends callers where a line is free."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 30


class CallSlot:
    def __init__(self, limiter: CallLimiter) -> None:
        self._limiter = limiter
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limiter._released()

    def __enter__(self) -> CallSlot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


class CallLimiter:
    def __init__(
        self,
        limit: int,
        on_busy: Callable[[str], None] | None = None,
        retry_after_s: int = DEFAULT_RETRY_AFTER_S,
    ) -> None:
        """`on_busy` hears of each refusal, with the transport refused (for the metrics);
        `retry_after_s` is what refusals tell callers to wait (Retry-After)."""
        self.limit = limit
        self.retry_after_s = retry_after_s
        self._active = 0
        self._on_busy = on_busy
        self._draining = False
        self._idle = asyncio.Event()  # binds to a loop only when awaited
        self._idle.set()

    @property
    def active(self) -> int:
        return self._active

    @property
    def draining(self) -> bool:
        return self._draining

    @property
    def accepting(self) -> bool:
        """Whether a new call would get a line now."""
        return not self._draining and self._active < self.limit

    @property
    def load(self) -> float:
        """The share of the lines in use (0 to 1)."""
        return self._active / self.limit

    def drain(self) -> None:
        """Refuse every new call from now on; the calls under way go on."""
        if not self._draining:
            self._draining = True
            logger.info("draining: new calls are refused, %d under way go on", self._active)

    def try_acquire(self, transport: str) -> CallSlot | None:
        """A slot for one call on `transport` ("webrtc", "sip"), or None when the limit is
        reached (busy) or the instance drains."""
        if self._draining:
            logger.info("%s call refused: draining", transport)
            return None
        if self._active >= self.limit:
            logger.warning(
                "%s call refused: %d of %d calls active", transport, self._active, self.limit
            )
            if self._on_busy is not None:
                self._on_busy(transport)
            return None
        self._active += 1
        self._idle.clear()
        return CallSlot(self)

    def refusal_reason(self) -> str:
        """Why a call is refused now, in words for the caller's side and the log."""
        if self._draining:
            return "this instance is shutting down"
        return f"all {self.limit} lines are busy"

    async def idle(self) -> None:
        """Wait until no call holds a line."""
        await self._idle.wait()

    def _released(self) -> None:
        self._active -= 1
        if self._active == 0:
            self._idle.set()
