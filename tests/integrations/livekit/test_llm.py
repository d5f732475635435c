"""The dialogue engine behind LiveKit's LLM interface: chat histories in, reply chunks out."""

from __future__ import annotations

import asyncio

from livekit.agents import llm as lk_llm

from tests.dialogue.conftest import ANCHOR
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.integrations.livekit.llm import DialogueLLM, history
from voice_agent.integrations.livekit.turns import DialogueTurns
from voice_agent.store.repository import Repository


def test_history_keeps_user_and_assistant_messages_in_order() -> None:
    chat = lk_llm.ChatContext.empty()
    chat.add_message(role="system", content="be brief")
    asked = chat.add_message(role="user", content="Where is my order?")
    said = chat.add_message(role="assistant", content="What is the order number?", interrupted=True)
    messages = history(chat)
    assert [(m.id, m.role, m.text, m.interrupted) for m in messages] == [
        (asked.id, "user", "Where is my order?", False),
        (said.id, "assistant", "What is the order number?", True),
    ]


def test_chat_streams_the_dialogues_chunks(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    conversation = demo_repository.start_conversation("livekit", None, ANCHOR)
    turns = DialogueTurns(CallDialogue(demo_engine, conversation), wall_clock=lambda: ANCHOR)
    model = DialogueLLM(turns)

    async def ask(chat: lk_llm.ChatContext) -> list[str]:
        async with model.chat(chat_ctx=chat) as stream:
            return [chunk.delta.content or "" async for chunk in stream if chunk.delta]

    chat = lk_llm.ChatContext.empty()
    greeting = asyncio.run(ask(chat))
    chat.add_message(role="assistant", content="".join(greeting))
    chat.add_message(role="user", content="Where is my order?")
    asked = asyncio.run(ask(chat))

    assert greeting and asked
    assert "order number" in "".join(asked).lower()
    assert all(chunk.startswith(" ") for chunk in asked[1:])  # chunks join into sentences
    assert turns.context.expect.value == "digits"
