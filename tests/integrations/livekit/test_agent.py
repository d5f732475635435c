"""A LiveKit AgentSession in text mode (no room, no audio) answering from our dialogue.

LiveKit's own testing path: `session.start(agent, capture_run=True)` and
`session.run(user_input=...)` return RunResults with the messages the run produced. The
replies come from the dialogue engine over the demo shop: no language model is involved."""

from __future__ import annotations

import asyncio
from typing import Any

from livekit.agents.voice.run_result import ChatMessageEvent, RunResult

from tests.dialogue.conftest import ANCHOR
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.integrations.livekit.agent import ShopAgent, build_session
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.integrations.livekit.turns import DialogueTurns
from voice_agent.store.repository import Repository


def _agent_said(result: RunResult[Any]) -> str:
    said = [
        event.item.text_content or ""
        for event in result.events
        if isinstance(event, ChatMessageEvent) and event.item.role == "assistant"
    ]
    assert len(said) == 1, said
    return said[0]


def _conversation(
    engine: DialogueEngine, repository: Repository, *lines: str
) -> tuple[list[str], DialogueTurns]:
    conversation = repository.start_conversation("livekit", None, ANCHOR)
    dialogue = CallDialogue(engine, conversation)
    turns = DialogueTurns(
        dialogue, StoreRecorder(repository, conversation), CallContext(), lambda: ANCHOR
    )

    async def run() -> list[str]:
        async with build_session(None, turns) as session:
            greeting = await session.start(ShopAgent(turns), capture_run=True)
            said = [_agent_said(greeting)]
            for line in lines:
                said.append(_agent_said(await session.run(user_input=line)))
            return said

    return asyncio.run(run()), turns


def test_where_is_my_order_asks_for_the_order_number_first(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    said, turns = _conversation(demo_engine, demo_repository, "Where is my order?")
    greeting, asked = said
    assert "help" in greeting.lower()
    assert "order number" in asked.lower()
    assert turns.state.verified_order is None


def test_a_verified_order_gets_its_status_from_the_shop(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    said, turns = _conversation(
        demo_engine, demo_repository, "Where is my order?", "4 5 0 6 9", "one oh one one nine"
    )
    before_verification = " ".join(said[:3])
    assert "Leipzig" not in before_verification  # nothing about the order before it is verified
    assert "On Tuesday, the 12th of November, in Leipzig customs office" in said[3]
    assert "It's at import customs in Germany." in said[3]
    assert turns.state.verified_order == "45069"


def test_a_wrong_postcode_tells_nothing_about_the_order(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    said, turns = _conversation(
        demo_engine, demo_repository, "Where is my order?", "4 5 0 6 9", "nine nine nine nine nine"
    )
    assert "Leipzig" not in said[3] and "customs" not in said[3]
    assert turns.state.verified_order is None
    assert len(demo_repository.verification_attempts("45069")) == 1
