"""Opening the database: one URL setting, SQLite by default, PostgreSQL by URL.

``open_database`` resolves the URL (a relative SQLite path resolves from the project root and
its directory is created), keeps SQLite's files readable by their owner only, turns on WAL and
foreign keys for SQLite, and runs the Alembic migrations shipped in
``voice_agent/store/migrations`` up to head.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from voice_agent.settings import PathsSettings, StoreSettings

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_IMMEDIATE = "voice_agent_begin_immediate"
_OWNER_ONLY = 0o600


class StoreError(Exception):
    """The store cannot do what was asked; the message says why in the operator's words."""


class Database:
    """An engine and its session factory; use ``transaction()`` for every unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        ``write=True`` takes SQLite's write lock at the start: a transaction that reads and
        then writes could otherwise fail at once (not wait) when another connection wrote in
        between.
        """
        with self.sessions.begin() as session:
            if write and self.backend == "sqlite":
                session.connection(execution_options={_IMMEDIATE: True})
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_database(
    settings: StoreSettings, paths: PathsSettings, *, migrate: bool = True
) -> Database:
    """Connect to ``settings.url`` and bring its schema to the newest migration."""
    url = database_url(settings, paths)
    engine = _create_engine(url, settings)
    try:
        if migrate:
            upgrade(engine)
    except Exception:
        engine.dispose()
        raise
    return Database(engine)


def database_url(settings: StoreSettings, paths: PathsSettings) -> URL:
    """The URL to connect to, with a relative SQLite path made absolute and its folder made."""
    try:
        url = make_url(settings.url)
    except ArgumentError:
        raise StoreError(f"store.url {settings.url!r} is not a database URL") from None
    backend = url.get_backend_name()
    if backend == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database and url.database != ":memory:":
        path = paths.resolve(Path(url.database))
        path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(path))
    return url


def _create_engine(url: URL, settings: StoreSettings) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = url.database or ":memory:"
    in_memory = database == ":memory:"
    if not in_memory:
        _make_owner_only(Path(database))
    engine = create_engine(
        url,
        # One shared connection for an in-memory database, else every connection sees another.
        poolclass=StaticPool if in_memory else None,
        connect_args={"check_same_thread": False, "timeout": settings.busy_timeout_ms / 1000},
    )
    _configure_sqlite(engine, settings)
    return engine


def _make_owner_only(database: Path) -> None:
    """Create the SQLite file readable by its owner only, before SQLite creates it with the
    umask's permissions, and make one created earlier so: it holds customers' names, addresses,
    e-mails, phones and call transcripts. SQLite gives the -wal and -shm files the database
    file's permissions, but those an earlier run left behind keep their own."""
    with suppress(FileExistsError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _OWNER_ONLY))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            os.chmod(path, _OWNER_ONLY)
        except FileNotFoundError:
            continue  # no -wal or -shm now: SQLite will create them like the database file
        except OSError as error:  # not the file's owner: the store still opens
            logger.warning("could not make %s readable by its owner only: %s", path, error)


def _configure_sqlite(engine: Engine, settings: StoreSettings) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (below), so
        # that reads and DDL are inside the transaction too.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Run the migrations up to head, in one transaction; nothing to do when already there."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    logger.info("migrating %s to schema %s", engine.url.render_as_string(), head)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
