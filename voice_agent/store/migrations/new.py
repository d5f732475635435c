"""Autogenerate a migration from the models: ``python -m voice_agent.store.migrations.new MSG``.

It diffs ``models.py`` against a scratch SQLite database brought to the current head.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from voice_agent.store.db import alembic_config, upgrade


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'scratch.sqlite3'}")
        script = ScriptDirectory.from_config(alembic_config())
        if script.get_current_head() is not None:
            upgrade(engine)
        number = len(list(script.walk_revisions())) + 1
        with engine.begin() as connection:
            config = alembic_config(connection)
            config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
            command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}")
        engine.dispose()


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "schema change")
