"""`voice-agent desk`: add, list, disable and enable operators, as a user runs the command."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import PROJECT_ROOT, VOICE_AGENT, run_cli


def _desk(
    env: dict[str, str], *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `voice-agent desk ...`; with a password, give it on standard input."""
    if password is None:
        return run_cli(["desk", *args], env=env)
    return subprocess.run(
        [str(VOICE_AGENT), "desk", *args, "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        check=False,
    )


def test_operators_are_added_listed_disabled_and_enabled(
    isolated_data_dir: dict[str, str],
) -> None:
    env = isolated_data_dir
    added = _desk(env, "add-user", "Admin", "--role", "admin", password="a long passphrase")
    assert added.returncode == 0, added.stderr
    assert "added admin (admin)" in added.stdout
    agent = _desk(env, "add-user", "bob", password="another long one")
    assert agent.returncode == 0, agent.stderr
    listed = _desk(env, "list-users")
    lines = listed.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["admin", "admin", "active"],
        ["bob", "agent", "active"],
    ]
    assert "passphrase" not in listed.stdout and "argon2" not in listed.stdout
    disabled = _desk(env, "disable-user", "bob")
    assert (disabled.returncode, disabled.stdout.strip()) == (0, "bob: disabled")
    after = [line.split()[:3] for line in _desk(env, "list-users").stdout.splitlines()]
    assert ["bob", "agent", "disabled"] in after
    enabled = _desk(env, "enable-user", "bob")
    assert (enabled.returncode, enabled.stdout.strip()) == (0, "bob: enabled")


def test_weak_passwords_duplicates_and_bad_names_are_refused_clearly(
    isolated_data_dir: dict[str, str],
) -> None:
    env = isolated_data_dir
    weak = _desk(env, "add-user", "carol", password="short")
    assert weak.returncode == 2
    assert "too short: at least 10 characters" in weak.stderr
    assert "carol was not added" in weak.stderr
    assert _desk(env, "add-user", "carol", password="long enough now").returncode == 0
    again = _desk(env, "add-user", "Carol", password="another long one")
    assert again.returncode == 2
    assert "an operator named 'carol' already exists" in again.stderr
    bad = _desk(env, "add-user", "carol smith", password="long enough now")
    assert bad.returncode == 2 and "letters, digits" in bad.stderr
    missing = _desk(env, "disable-user", "nobody")
    assert missing.returncode == 2 and "no operator named 'nobody'" in missing.stderr
    role = run_cli(["desk", "add-user", "dave", "--role", "boss"], env=env)
    assert role.returncode == 2 and "invalid choice: 'boss'" in role.stderr
