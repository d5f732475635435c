"""How a call ended, decided in one place: the `outcome` label of the calls counter, the
outcome stored with the conversation, and the outcome in the call's last log line."""

from __future__ import annotations

from enum import StrEnum


class CallOutcome(StrEnum):
    COMPLETED = "completed"
    """Ended normally (either side hung up), no hand-off."""
    HANDOFF = "handoff"
    """A hand-off to a person was stored during the call."""
    NO_SPEECH = "no_speech"
    """The caller never said (or typed) anything that became a turn."""
    ERROR = "error"
    """The session raised."""


def call_outcome(*, failed: bool, handed_off: bool, caller_spoke: bool) -> CallOutcome:
    """The outcome of a call from what was seen of it; an error outranks what the call did."""
    if failed:
        return CallOutcome.ERROR
    if handed_off:
        return CallOutcome.HANDOFF
    if not caller_spoke:
        return CallOutcome.NO_SPEECH
    return CallOutcome.COMPLETED
