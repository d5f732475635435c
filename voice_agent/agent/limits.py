"""The concurrent-call limit: transports ask for a slot before answering a call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

logger = logging.getLogger(__name__)


class CallSlot:
    def __init__(self, limiter: CallLimiter) -> None:
        self._limiter = limiter
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limiter._active -= 1

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
    def __init__(self, limit: int, on_busy: Callable[[str], None] | None = None) -> None:
        """`on_busy` hears of each refusal, with the transport refused (for the metrics)."""
        self.limit = limit
        self._active = 0
        self._on_busy = on_busy

    @property
    def active(self) -> int:
        return self._active

    def try_acquire(self, transport: str) -> CallSlot | None:
        """A slot for one call on `transport` ("webrtc", "sip"), or None when the limit is
        reached (busy)."""
        if self._active >= self.limit:
            logger.warning(
                "%s call refused: %d of %d calls active", transport, self._active, self.limit
            )
            if self._on_busy is not None:
                self._on_busy(transport)
            return None
        self._active += 1
        return CallSlot(self)
