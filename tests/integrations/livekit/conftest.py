"""Fixtures for the LiveKit adapters: the demo shop's store, and the App's real stages.

The demo store is built as the dialogue tests build it (tests/dialogue/conftest.py: every
conversation happens at its ANCHOR, so the demo's tracking ages are fixed)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dialogue.conftest import ANCHOR, POLICIES
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import load_policies
from voice_agent.settings import PathsSettings, StoreSettings, load_settings
from voice_agent.store.db import Database, open_database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository


@pytest.fixture(scope="session")
def livekit_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("livekit-demo") / "demo.sqlite3"
    with open_database(StoreSettings(url=f"sqlite:///{path}"), PathsSettings()) as database:
        import_document(database, demo_document(ANCHOR), "demo shop")
    return path


@pytest.fixture
def demo_database(livekit_demo_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "store.sqlite3"
    shutil.copy(livekit_demo_template, path)
    with open_database(StoreSettings(url=f"sqlite:///{path}"), PathsSettings()) as opened:
        yield opened


@pytest.fixture
def demo_repository(demo_database: Database) -> Repository:
    return Repository(demo_database)


@pytest.fixture
def demo_engine(demo_repository: Repository) -> DialogueEngine:
    return DialogueEngine(demo_repository, load_policies(POLICIES))


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    """The App's real stages (Whisper, Piper, webrtcvad) from the default settings, Whisper
    loaded and run once as the worker's prewarm does (a cold first pass takes longer than an
    utterance, and its partial would come too late to be reported)."""
    built = App(load_settings(environ={}))
    built.asr.load()
    asyncio.run(built.asr.transcribe(AudioFrame.silence(1.0)))
    yield built
    built.close()
