"""A re-import of the shop's data reaches every instance on the database without a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.dialogue.conftest import ANCHOR
from voice_agent.app import App
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.shop_data import ShopDataCache
from voice_agent.settings import DialogueSettings, Settings, StoreSettings
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository

BOARD = "walnut chess board"


def _with_a_board() -> dict[str, Any]:
    document = demo_document(ANCHOR)
    board = {"sku": "CHESS-1", "name": "Walnut chess board", "attributes": {"size": "45 cm"}}
    document["products"].append(board)
    return document


def test_an_import_by_one_instance_reaches_the_others_calls(
    demo_db_path: Path, policies: Policies
) -> None:
    settings = Settings(
        store=StoreSettings(url=f"sqlite:///{demo_db_path}"),
        dialogue=DialogueSettings(catalogue_check_s=0),
    )
    importing, serving = App(settings), App(settings)
    try:
        before = serving.shop_data.current()
        assert before.catalogue.find(f"Do you sell a {BOARD}?") is None
        import_document(importing.database, _with_a_board(), "the demo and a chess board")
        after = serving.shop_data.current()
        assert after.version == before.version + 1
        found = after.catalogue.find(f"Do you sell a {BOARD}?")
        assert found is not None and found.sku == "CHESS-1"
        engine = DialogueEngine(serving.repository, policies, shop_data=serving.shop_data)
        assert engine.catalogue is after.catalogue  # what the calls' answers read
    finally:
        importing.close()
        serving.close()


def test_the_version_is_looked_at_no_more_often_than_asked(repository: Repository) -> None:
    now = [100.0]
    cache = ShopDataCache(repository, lambda: now[0], check_every_s=5.0)
    first = cache.current()
    import_document(repository.database, _with_a_board(), "the demo and a chess board")
    now[0] = 104.9
    assert cache.current() is first  # not looked at yet: the same data
    now[0] = 105.0
    fresh = cache.current()
    assert fresh.version == first.version + 1 and fresh.catalogue.find(BOARD) is not None
    now[0] = 111.0
    assert cache.current() is fresh  # looked at again: nothing new


def test_without_a_clock_the_data_is_read_once(repository: Repository) -> None:
    cache = ShopDataCache(repository)
    first = cache.current()
    import_document(repository.database, _with_a_board(), "the demo and a chess board")
    assert cache.current() is first
