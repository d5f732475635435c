"""Alembic environment: runs on the connection ``voice_agent.store.db.upgrade`` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from voice_agent.store.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode does that for later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Run from the `alembic` command line: the URL comes from -x url=... .
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database with: alembic -x url=sqlite:///path ...")
    with create_engine(url).begin() as own:
        _run(own)


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
_run_online()
