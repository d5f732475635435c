"""A throwaway PostgreSQL server for tests: Debian's binaries, a temp dir, 127.0.0.1, a free port.

``initdb`` and ``pg_ctl`` refuse to run as root, so when the tests run as root the server runs
as the ``postgres`` user (``runuser``), in a directory handed over to it.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from tests.conftest import free_port

PG_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"


class PostgresError(RuntimeError):
    """The server could not be set up; the message says exactly why."""


def find_bin_dir() -> Path:
    preferred = PG_ROOT / "15" / "bin"
    if (preferred / "initdb").exists():
        return preferred
    found = sorted(PG_ROOT.glob("*/bin/initdb"))
    if not found:
        raise PostgresError(
            f"no PostgreSQL server binaries under {PG_ROOT} (install the Debian package "
            "`postgresql`; scripts/system-deps.sh does it when run as root)"
        )
    return found[-1].parent


class PostgresServer:
    def __init__(self, root: Path, port: int, bin_dir: Path) -> None:
        self.root = root
        self.port = port
        self.bin_dir = bin_dir
        self.data = root / "data"
        self.log = root / "server.log"
        self._names = itertools.count(1)

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = find_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="voice-agent-pg-"))
        as_other_user = os.geteuid() == 0
        if as_other_user:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresError(
                    f"running as root but there is no {SERVER_USER!r} user to run the server"
                ) from None
            os.chown(root, account.pw_uid, account.pw_gid)
        server = cls(root, free_port(), bin_dir)
        server._run(
            "initdb", "-D", str(server.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} "
            f"-c unix_socket_directories={root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            server._run(
                "pg_ctl", "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60",
                "-o", options, "start",
            )
        except PostgresError as error:
            raise PostgresError(f"{error}\nserver log:\n{server.log_tail()}") from None
        return server

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise PostgresError(
                f"{' '.join(command)} failed with status {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError as error:
            return f"(no log: {error})"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """A new, empty database (or a copy of ``template``); returns its SQLAlchemy URL."""
        name = name or f"test_{next(self._names)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        conninfo = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(statement)
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
