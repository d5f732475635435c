"""Our grounded dialogue engine (dialogue/, over the shop's store) as a LiveKit LLM.

No language model is asked anything: each `chat` hands the session's history to the
session's `DialogueTurns`, which answers the newest user message from the store (verification
before any order details) and commits it, and the reply's chunks stream back as ChatChunks, the
first one short so the TTS can start. Tools LiveKit offers are ignored: the dialogue's actions
(claims, returns, hand-offs) are its own writes, stored with the turn.
"""

from __future__ import annotations

from typing import Any, Never

from livekit.agents import llm as lk_llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import shortuuid

from voice_agent.integrations.livekit.turns import DialogueTurns, Message


class DialogueLLM(lk_llm.LLM[Never]):  # no events of its own
    """One per session: it holds the session's dialogue state (through its turns)."""

    def __init__(self, turns: DialogueTurns) -> None:
        super().__init__()
        self.turns = turns

    @property
    def model(self) -> str:
        return "dialogue-engine"

    @property
    def provider(self) -> str:
        return "voice_agent"

    def chat(
        self,
        *,
        chat_ctx: lk_llm.ChatContext,
        tools: list[lk_llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[lk_llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> DialogueStream:
        return DialogueStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


def history(chat_ctx: lk_llm.ChatContext) -> list[Message]:
    """The user and assistant messages of a LiveKit chat history, oldest first."""
    return [
        Message(item.id, item.role, item.text_content or "", item.interrupted)
        for item in chat_ctx.items
        if isinstance(item, lk_llm.ChatMessage) and item.role in ("user", "assistant")
    ]


class DialogueStream(lk_llm.LLMStream):
    def __init__(
        self,
        owner: DialogueLLM,
        *,
        chat_ctx: lk_llm.ChatContext,
        tools: list[lk_llm.Tool],
        conn_options: APIConnectOptions,
    ) -> None:
        self._turns = owner.turns
        super().__init__(owner, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)

    async def _run(self) -> None:
        reply = await self._turns.reply(history(self._chat_ctx))
        request_id = shortuuid("dialogue_")
        for index, chunk in enumerate(reply.chunks):
            # chunks are sentences or clauses: a space keeps them apart in the joined text
            text = chunk if index == 0 else f" {chunk}"
            self._event_ch.send_nowait(
                lk_llm.ChatChunk(
                    id=request_id, delta=lk_llm.ChoiceDelta(role="assistant", content=text)
                )
            )
