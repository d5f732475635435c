"""The worker's connection settings are checked before anything connects."""

from __future__ import annotations

import pytest

from voice_agent.errors import CliError
from voice_agent.integrations.livekit.config import connection
from voice_agent.settings import LiveKitSettings, load_settings


def _settings(**values: str) -> LiveKitSettings:
    return LiveKitSettings.model_validate(values)


def test_a_complete_configuration_is_taken() -> None:
    found = connection(_settings(url=" wss://lk.example.com ", api_key="key", api_secret="s3"))
    assert (found.url, found.api_key, found.api_secret) == ("wss://lk.example.com", "key", "s3")
    assert "s3" not in repr(found)


def test_everything_missing_is_named_at_once() -> None:
    with pytest.raises(CliError) as refused:
        connection(_settings(url="wss://lk.example.com"))
    message = str(refused.value)
    assert "LIVEKIT_API_KEY" in message and "LIVEKIT_API_SECRET" in message
    assert "LIVEKIT_URL" not in message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("lk.example.com", "expected ws://"),
        ("ftp://lk.example.com", "expected ws://"),
        ("wss://", "no host name"),
        ("wss://lk.example.com:99999", "malformed"),
        ("wss://lk.example.com:port", "malformed"),
        ("wss://lk example.com", "contains a space"),
    ],
)
def test_a_malformed_url_is_refused(url: str, why: str) -> None:
    with pytest.raises(CliError, match=why):
        connection(_settings(url=url, api_key="key", api_secret="secret"))


def test_livekits_own_variables_fill_the_section_and_ours_win() -> None:
    environ = {
        "LIVEKIT_URL": "wss://from-livekit.example.com",
        "LIVEKIT_API_KEY": "lk-key",
        "LIVEKIT_API_SECRET": "lk-secret",
        "VOICE_AGENT_LIVEKIT__API_KEY": "our-key",
    }
    settings = load_settings(environ=environ).livekit
    assert settings.url == "wss://from-livekit.example.com"
    assert settings.api_key == "our-key"
    assert settings.api_secret is not None
    assert settings.api_secret.get_secret_value() == "lk-secret"
    assert load_settings(environ={}).livekit.url is None
