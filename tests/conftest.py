"""Shared fixtures: project paths and a helper to run the real `voice-agent` command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VOICE_AGENT = Path(sys.executable).parent / "voice-agent"


def run_cli(
    args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the installed `voice-agent` command as a user would."""
    return subprocess.run(
        [str(VOICE_AGENT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def isolated_data_dir(tmp_path: Path) -> dict[str, str]:
    """Environment that points the agent's data directory and database at a temp dir."""
    return {
        "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path / "var"),
        "VOICE_AGENT_STORE__URL": f"sqlite:///{tmp_path / 'var' / 'voice_agent.sqlite3'}",
        # a test's agent takes any free UDP port for SIP, never the real 5060
        "VOICE_AGENT_SIP__LISTEN_PORT": "0",
    }
