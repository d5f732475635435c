"""Store fixtures: every store test runs against a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.store.postgres import PostgresError, PostgresServer
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import Database, open_database
from voice_agent.store.models import Base
from voice_agent.store.repository import Repository

TEMPLATE = "store_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the session, with a migrated template database to copy per test."""
    try:
        server = PostgresServer.start()
    except PostgresError as error:
        pytest.fail(f"PostgreSQL could not start, so the PostgreSQL store tests fail:\n{error}")
    try:
        # Migrating once and copying the result per test keeps each test's database fresh.
        open_database(StoreSettings(url=server.create_database(TEMPLATE)), PathsSettings()).close()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at head for one test, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(template=TEMPLATE)


@pytest.fixture
def database(store_url: str, tmp_path: Path) -> Iterator[Database]:
    with open_database(StoreSettings(url=store_url), PathsSettings(data_dir=tmp_path)) as opened:
        yield opened


@pytest.fixture
def repository(database: Database) -> Repository:
    return Repository(database)


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: compare before and after."""
    content: dict[str, list[tuple[Any, ...]]] = {}
    with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            content[table.name] = [tuple(row) for row in session.execute(query)]
    return content
