"""The session's dialogue turn by turn, from LiveKit-shaped histories, on the demo shop."""

from __future__ import annotations

import asyncio

from tests.dialogue.conftest import ANCHOR
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.state import Awaiting
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.integrations.livekit.turns import DialogueTurns, Message
from voice_agent.stages.asr import Expect, Transcript
from voice_agent.store.repository import Repository


def _turns(engine: DialogueEngine, repository: Repository) -> tuple[DialogueTurns, int]:
    conversation = repository.start_conversation("livekit", None, ANCHOR)
    dialogue = CallDialogue(engine, conversation)
    recorder = StoreRecorder(repository, conversation)
    return DialogueTurns(dialogue, recorder, CallContext(), lambda: ANCHOR), conversation


def test_greeting_then_each_new_user_message_is_answered_once(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    turns, conversation = _turns(demo_engine, demo_repository)

    async def talk() -> list[str]:
        history: list[Message] = []
        said = []
        for index, line in enumerate(
            ("", "Where is my order?", "4 5 0 6 9", "one oh one one nine")
        ):
            if line:
                history.append(Message(f"user-{index}", "user", line))
            reply = await turns.reply(history)
            said.append(" ".join(reply.chunks))
            history.append(Message(f"agent-{index}", "assistant", said[-1]))
        return said

    greeting, asked, factor, status = asyncio.run(talk())
    assert "order number" in asked.lower()
    assert "postcode" in factor.lower()
    assert "Leipzig customs office: arrived at import" in status
    assert turns.state.verified_order == "45069"
    assert turns.context.expect is Expect.YES_NO  # "anything else?"
    stored = demo_repository.turns(conversation)
    assert [turn.speaker for turn in stored] == ["agent"] + ["caller", "agent"] * 3
    assert stored[0].text == greeting


def test_nothing_new_to_answer_gets_the_reprompt(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    turns, _ = _turns(demo_engine, demo_repository)

    async def talk() -> tuple[str, str]:
        greeting = await turns.reply([])
        again = await turns.reply([Message("a", "assistant", " ".join(greeting.chunks))])
        return " ".join(greeting.chunks), " ".join(again.chunks)

    greeting, again = asyncio.run(talk())
    assert again == "Are you still there? How can I help?"
    assert again != greeting


def test_an_interrupted_question_counts_only_as_far_as_it_was_heard(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    turns, _ = _turns(demo_engine, demo_repository)
    turns.context.last_heard = Transcript("4 5 0 6 9", "en", 0.3, digits_rewritten=True)
    said = [Message("u1", "user", "Where is my order?"), Message("u2", "user", "4 5 0 6 9")]

    async def talk() -> tuple[bool, bool]:
        await turns.reply([])
        await turns.reply(said[:1])
        await turns.reply(said)  # "I heard 4 5 0 6 9. Is that right?"
        asked = turns.state.read_back is not None
        # the caller cut in before a word of the question was played
        cut = Message("a2", "assistant", "", interrupted=True)
        await turns.reply([*said, cut])
        return asked, turns.state.read_back is not None

    asked, still_asked = asyncio.run(talk())
    assert asked
    assert not still_asked  # a "yes" now must not confirm digits never read back


async def _give_number(turns: DialogueTurns) -> None:
    await turns.reply([])
    await turns.reply([Message("u1", "user", "Where is my order?")])
    await turns.reply(
        [Message("u1", "user", "Where is my order?"), Message("u2", "user", "4 5 0 6 9")]
    )


def test_an_unsure_transcript_has_the_number_read_back(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    turns, _ = _turns(demo_engine, demo_repository)
    heard = Transcript("4 5 0 6 9", "en", confidence=0.3, digits_rewritten=True)
    turns.context.last_heard = heard
    assert turns.context.transcript_of(" 4 5 0 6 9") is heard
    assert turns.context.transcript_of("4 5 0 6 9 please") is None
    asyncio.run(_give_number(turns))
    assert turns.state.read_back is not None
    assert turns.state.awaiting is Awaiting.ORDER_NUMBER  # not taken until confirmed


def test_typed_or_surely_heard_digits_are_taken_as_said(
    demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    turns, _ = _turns(demo_engine, demo_repository)
    asyncio.run(_give_number(turns))
    assert turns.state.read_back is None
    assert turns.state.awaiting is Awaiting.FACTOR
