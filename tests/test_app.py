"""The composition root's own behaviour (the parts it wires are tested where they live)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voice_agent.app import App
from voice_agent.settings import Settings, load_settings


def _settings(data: Path, instance_id: str) -> Settings:
    return load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(data),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{data / 'shared.sqlite3'}",
            "VOICE_AGENT_SERVER__INSTANCE_ID": instance_id,
        }
    )


def test_a_restarted_instance_closes_the_calls_its_earlier_run_left_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    earlier, neighbour = App(_settings(tmp_path, "shop-1")), App(_settings(tmp_path, "shop-2"))
    try:
        _, died = earlier.conversation("sip", "+44 20 7946 0321")  # then kill -9: never ended
        _, running = neighbour.conversation("webrtc", "browser")  # another instance's live call
    finally:
        earlier.close()
    restarted = App(_settings(tmp_path, "shop-1"))
    try:
        with caplog.at_level(logging.INFO, logger="voice_agent.app"):
            assert restarted.close_abandoned_conversations() == 1
        stored = {c.id: c for c in restarted.repository.conversations()}
    finally:
        restarted.close()
        neighbour.close()
    assert stored[died.conversation_id].end_reason == "instance restarted"
    assert stored[died.conversation_id].ended_at is not None
    assert stored[running.conversation_id].ended_at is None
    assert "closed 1 conversations left open by an earlier run of instance shop-1" in [
        record.getMessage() for record in caplog.records
    ]


@pytest.mark.parametrize(
    ("enabled", "greeting", "recorded"),
    [("true", "true", True), ("false", "true", False), ("true", "false", False)],
)
def test_calls_are_recorded_only_when_on_and_the_notice_can_be_said(
    tmp_path: Path, enabled: str, greeting: str, recorded: bool
) -> None:
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path),
            "VOICE_AGENT_RECORDINGS__ENABLED": enabled,
            "VOICE_AGENT_SESSION__GREETING": greeting,
        }
    )
    assert App(settings).records_calls is recorded
