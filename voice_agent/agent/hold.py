"""A call on hold, as the session sees it (sans-I/O: told the change and the time, asked).

While the caller holds the call nobody listens: the agent neither re-prompts nor hangs up
for silence, and the reply being spoken stops where it was (the Playout reads nothing out)
and goes on from there when the caller comes back. The silence clock starts afresh then:
the caller was away, not silent. How long a hold may last is the line's bound
(`[sip] max_hold_s`), not the session's.
"""

from __future__ import annotations

import logging

from voice_agent.agent.playout import Playout

logger = logging.getLogger(__name__)


class CallHold:
    """Whether the call is on hold, since when, and the playout held with it."""

    def __init__(self, playout: Playout) -> None:
        self._playout = playout
        self._since: float | None = None

    @property
    def held(self) -> bool:
        return self._since is not None

    def held_for(self, now: float) -> float:
        """Seconds on hold so far (0 when not on hold)."""
        return 0.0 if self._since is None else now - self._since

    def change(self, held: bool, now: float) -> bool:
        """The caller held (True) or resumed (False) the call; True when it was taken off
        hold (the session restarts its silence clock then). A repeated change is no change."""
        if held == self.held:
            return False
        self._playout.hold(held)
        if held:
            self._since = now
            logger.info("call on hold: the session pauses")
            return False
        logger.info("call resumed after %.1f s on hold", self.held_for(now))
        self._since = None
        return True
