from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Boolean, column, inspect, table, text

from tests.store.postgres import PostgresServer
from voice_agent import PROJECT_ROOT
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import (
    Database,
    StoreError,
    alembic_config,
    current_revision,
    database_url,
    head_revision,
    open_database,
)
from voice_agent.store.models import Base, UtcDateTime
from voice_agent.store.repository import Repository


def test_relative_sqlite_path_resolves_from_the_project_root() -> None:
    url = database_url(StoreSettings(), PathsSettings())
    assert url.database == str(PROJECT_ROOT / "var" / "voice_agent.sqlite3")


def test_sqlite_folder_is_created(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "shop.sqlite3"
    with open_database(StoreSettings(url=f"sqlite:///{target}"), PathsSettings()) as database:
        assert database.backend == "sqlite"
    assert target.is_file()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    with (
        open_database(StoreSettings(url=url), PathsSettings()) as database,
        database.engine.connect() as connection,
    ):
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    url = database_url(StoreSettings(url="postgresql://shop@db.example/shop"), PathsSettings())
    assert url.drivername == "postgresql+psycopg"
    assert url.database == "shop"


def test_a_url_that_is_not_one_is_refused() -> None:
    with pytest.raises(StoreError, match="is not a database URL"):
        database_url(StoreSettings(url="not a url"), PathsSettings())


def test_migrations_build_exactly_the_models_schema(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(database.engine) == head_revision()
    tables = set(inspect(database.engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables


def test_migrations_run_on_a_bare_postgresql_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    with open_database(StoreSettings(url=url), PathsSettings()) as database:
        assert current_revision(database.engine) == head_revision()
        with database.engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM tracking_events")).scalar()
            assert count == 0


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    settings = StoreSettings(url=f"sqlite:///{tmp_path / 'shop.sqlite3'}")
    with open_database(settings, PathsSettings()) as database, database.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO customers (email, name) VALUES ('a@example.com', 'A')")
        )
    with open_database(settings, PathsSettings()) as database, database.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customers")).scalar() == "A"


def _modes(database: Path) -> dict[str, str]:
    """The permission bits of the database file and of its WAL and shared-memory files."""
    files = {"db": database, "wal": Path(f"{database}-wal"), "shm": Path(f"{database}-shm")}
    return {name: oct(stat.S_IMODE(path.stat().st_mode)) for name, path in files.items()}


OWNER_ONLY = {"db": "0o600", "wal": "0o600", "shm": "0o600"}


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    # It holds customers' names, addresses, e-mails, phones and call transcripts.
    path = tmp_path / "shop.sqlite3"
    settings = StoreSettings(url=f"sqlite:///{path}")
    with open_database(settings, PathsSettings()) as database, database.engine.connect() as conn:
        conn.execute(text("INSERT INTO customers (email, name) VALUES ('a@example.com', 'A')"))
        conn.commit()
        assert _modes(path) == OWNER_ONLY  # the -wal and -shm files exist while it is open


def test_an_existing_sqlite_database_and_its_wal_files_become_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as earlier:  # keeps its -wal and -shm
        earlier.execute("PRAGMA journal_mode=WAL")
        earlier.execute("CREATE TABLE notes (text)")
        earlier.commit()
        for name in ("", "-wal", "-shm"):
            os.chmod(f"{path}{name}", 0o644)
        with open_database(StoreSettings(url=f"sqlite:///{path}"), PathsSettings()):
            assert _modes(path) == OWNER_ONLY


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no schema at all, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


def test_a_database_at_0001_with_calls_in_it_upgrades_keeping_them(empty_url: str) -> None:
    settings = StoreSettings(url=empty_url)
    started = datetime(2025, 3, 20, 14, 0, tzinfo=UTC)
    conversations = table(
        "conversations",
        column("id"),
        column("channel"),
        column("started_at", UtcDateTime()),
        column("ended_at", UtcDateTime()),
    )
    turns = table(
        "turns",
        column("conversation_id"),
        column("seq"),
        column("speaker"),
        column("text"),
        column("started_at", UtcDateTime()),
        column("ended_at", UtcDateTime()),
        column("interrupted", Boolean()),
        column("latency_marks", JSON()),
    )
    with open_database(settings, PathsSettings(), migrate=False) as old, old.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(
            conversations.insert(),
            [
                {"id": 1, "channel": "sip", "started_at": started, "ended_at": started},
                {"id": 2, "channel": "webrtc", "started_at": started, "ended_at": None},
            ],
        )
        conn.execute(
            turns.insert(),
            {
                "conversation_id": 1,
                "seq": 1,
                "speaker": "agent",
                "text": "Hello.",
                "started_at": started,
                "ended_at": started,
                "interrupted": False,
                "latency_marks": {},
            },
        )

    with open_database(settings, PathsSettings()) as database:
        assert current_revision(database.engine) == head_revision()
        repository = Repository(database)
        kept = [(c.id, c.ended_at, c.instance_id, c.end_reason) for c in repository.conversations()]
        assert kept == [(1, started, None, None), (2, None, None, None)]
        assert [t.text for t in repository.turns(1)] == ["Hello."]
        # Rows from before instances were recorded belong to no instance: none closes them.
        assert repository.close_abandoned_conversations("a:8080", started) == 0


def test_a_database_at_0005_with_products_upgrades_keeping_them(empty_url: str) -> None:
    settings = StoreSettings(url=empty_url)
    products = table("products", column("sku"), column("name"), column("attributes", JSON()))
    with open_database(settings, PathsSettings(), migrate=False) as old, old.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
        conn.execute(
            products.insert(),
            {"sku": "MUG-350", "name": "Ceramic mug 350 ml", "attributes": {"size": "350 ml"}},
        )

    with open_database(settings, PathsSettings()) as database:
        assert current_revision(database.engine) == head_revision()
        repository = Repository(database)
        [mug] = repository.products()
        # Stored before languages: no names, no translated values; said as written.
        assert (mug.sku, mug.name, dict(mug.attributes)) == (
            "MUG-350", "Ceramic mug 350 ml", {"size": "350 ml"},
        )
        assert (dict(mug.names), dict(mug.attributes_i18n)) == ({}, {})
        assert mug.name_in("de") == "Ceramic mug 350 ml"
        assert repository.shop_texts().text("de", "Out for delivery") == "Out for delivery"
