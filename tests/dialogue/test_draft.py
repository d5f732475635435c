"""References: fresh for every claim, hand-off and return request."""

from __future__ import annotations

from collections.abc import Iterator

from tests.dialogue.conftest import Conversation
from voice_agent.dialogue.draft import random_reference
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies
from voice_agent.store.repository import Repository


def test_random_references_have_eight_digits() -> None:
    references = {random_reference() for _ in range(200)}
    assert all(len(r) == 8 and r.isdigit() and r[0] != "0" for r in references)
    assert len(references) > 190


def test_a_reference_already_taken_is_not_given_again(
    repository: Repository, policies: Policies
) -> None:
    offered: Iterator[str] = iter(["11111111", "11111111", "22222222"])
    engine = DialogueEngine(repository, policies, references=lambda: next(offered))
    first = Conversation(engine, repository)
    first.say("I want to talk to a person")
    second = Conversation(engine, repository)
    second.say("I want to talk to a person")
    assert [h.reference for h in repository.handoffs()] == ["11111111", "22222222"]
