"""Dialogue fixtures: the real SQLite store loaded with the demo shop at a fixed anchor.

The demo's tracking ages count back from ANCHOR, and every conversation happens at ANCHOR
(plus minutes where a test needs time to pass), so ages and thresholds are deterministic.
The demo database is built once per session and copied for each test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies, load_policies
from voice_agent.dialogue.state import Caller, DialogueState, Reply, UserTurn
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import Database, open_database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository

ANCHOR = datetime(2024, 11, 13, 12, 0, tzinfo=UTC)
"""A Wednesday, mid-day in London: within the hand-off team's business hours."""
POLICIES = PROJECT_ROOT / "config" / "policies.toml"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    with open_database(StoreSettings(url=f"sqlite:///{path}"), PathsSettings()) as database:
        import_document(database, demo_document(ANCHOR), "demo shop")
    return path


@pytest.fixture
def demo_db_path(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def database(demo_db_path: Path) -> Iterator[Database]:
    settings = StoreSettings(url=f"sqlite:///{demo_db_path}")
    with open_database(settings, PathsSettings()) as opened:
        yield opened


@pytest.fixture
def repository(database: Database) -> Repository:
    return Repository(database)


@pytest.fixture(scope="session")
def policies() -> Policies:
    return load_policies(POLICIES)


@pytest.fixture
def engine(repository: Repository, policies: Policies) -> DialogueEngine:
    return DialogueEngine(repository, policies)


@dataclass
class Conversation:
    """One call in text: each reply is committed (its writes applied) unless speculative."""

    engine: DialogueEngine
    repository: Repository
    now: datetime = ANCHOR
    caller: Caller | None = None
    state: DialogueState = field(init=False)
    replies: list[Reply] = field(default_factory=list)

    def __post_init__(self) -> None:
        channel = "test" if self.caller is None else self.caller.channel
        number = None if self.caller is None else self.caller.number
        conversation = self.repository.start_conversation(channel, number, self.now)
        self.state = self.engine.initial_state(conversation, self.caller)
        self.commit(self.engine.greeting(self.state))

    def say(
        self,
        text: str = "",
        dtmf: str | None = None,
        confidence: float = 1.0,
        rewritten: bool = False,
    ) -> Reply:
        return self.commit(self.speculate(UserTurn(text, dtmf, confidence, rewritten)))

    def speculate(self, turn: UserTurn | str = "", dtmf: str | None = None) -> Reply:
        """The reply to this turn, computed and NOT committed (as a discarded speculation)."""
        if isinstance(turn, str):
            turn = UserTurn(turn, dtmf)
        return self.engine.respond(turn, self.state, self.now)

    def commit(self, reply: Reply) -> Reply:
        self.repository.apply(reply.writes)
        self.state = reply.state
        self.replies.append(reply)
        return reply

    def later(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)

    @property
    def transcript(self) -> str:
        return "\n".join(reply.text for reply in self.replies)


@pytest.fixture
def call(engine: DialogueEngine, repository: Repository) -> Conversation:
    return Conversation(engine, repository)


def new_call(
    engine: DialogueEngine,
    repository: Repository,
    now: datetime = ANCHOR,
    caller: Caller | None = None,
) -> Conversation:
    return Conversation(engine, repository, now, caller)
