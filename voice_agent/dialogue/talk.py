"""Replies about the conversation itself, not a request: a goodbye, the last reply again (or
more slowly), a turn not caught. Any flow may end a call or ask again with these."""

from __future__ import annotations

import logging
import re

from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.state import Awaiting

logger = logging.getLogger(__name__)


def unclear(draft: Draft) -> None:
    draft.say("ack.sorry_unclear")
    draft.say("general.ask_again")


def goodbye(draft: Draft) -> None:
    draft.say("ack.bye")
    draft.say("general.goodbye")
    draft.ask(Awaiting.NOTHING)
    draft.end_call = True


def repeat(draft: Draft) -> None:
    last = draft.state.last_reply
    if not last:
        draft.say("ack.sure")
        draft.say("repeat.nothing")
        draft.say("greeting.ask")
        return
    draft.chunks.extend(last)


def slower(draft: Draft) -> None:
    """The last reply again, clause by clause (each a chunk: a pause between them)."""
    last = draft.state.last_reply
    draft.say("ack.slower")
    if not last:
        draft.say("greeting.ask")
        return
    for chunk in last:
        draft.chunks.extend(part.strip() for part in re.split(r"(?<=,) ", chunk) if part)
