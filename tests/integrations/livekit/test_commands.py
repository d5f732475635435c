"""`voice-agent livekit-worker` refuses a bad configuration before it imports LiveKit."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

# Runs the command as `main` does and says afterwards whether LiveKit was imported: a
# configuration refused before the import cannot have connected anywhere.
PROBE = (
    "import sys\n"
    "from voice_agent.cli import main\n"
    "status = main(['livekit-worker'])\n"
    "print('imported livekit:', 'livekit.agents' in sys.modules)\n"
    "sys.exit(status)\n"
)


def _worker(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "VOICE_AGENT_"))}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env={**clean, **env},
        check=False,
    )


def test_missing_server_and_credentials_are_refused_with_exit_code_2() -> None:
    result = _worker()
    assert result.returncode == 2, result.stderr
    for variable in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        assert variable in result.stderr
    assert result.stderr.startswith("voice-agent: livekit-worker: ")
    assert "imported livekit: False" in result.stdout


def test_a_malformed_url_is_refused_with_exit_code_2() -> None:
    result = _worker(
        LIVEKIT_URL="https//lk.example.com", LIVEKIT_API_KEY="key", LIVEKIT_API_SECRET="secret"
    )
    assert result.returncode == 2, result.stderr
    assert "'https//lk.example.com'" in result.stderr and "expected ws://" in result.stderr
    assert "imported livekit: False" in result.stdout


def test_our_settings_name_the_bad_key() -> None:
    result = _worker(VOICE_AGENT_LIVEKIT__DRAIN_TIMEOUT_S="-1")
    assert result.returncode == 2
    assert "livekit.drain_timeout_s" in result.stderr
