"""The worker's connection, checked before anything connects: no LiveKit import here, so
`voice-agent livekit-worker` refuses a bad configuration at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from voice_agent.errors import CliError
from voice_agent.settings import LiveKitSettings

SCHEMES = ("ws", "wss", "http", "https")


@dataclass(frozen=True, slots=True)
class Connection:
    url: str
    api_key: str
    api_secret: str = field(repr=False)


def connection(settings: LiveKitSettings) -> Connection:
    """The server and credentials, or a CliError naming everything that is missing or wrong."""
    secret = settings.api_secret.get_secret_value() if settings.api_secret else ""
    problems = [
        f"no {what}: set {variable} (or [livekit] {key})"
        for what, variable, key, value in (
            ("LiveKit server", "LIVEKIT_URL", "url", settings.url),
            ("API key", "LIVEKIT_API_KEY", "api_key", settings.api_key),
            ("API secret", "LIVEKIT_API_SECRET", "api_secret", secret),
        )
        if not (value or "").strip()
    ]
    if settings.url and settings.url.strip():
        problems.extend(_url_problems(settings.url.strip()))
    if problems:
        raise CliError("livekit-worker: " + "; ".join(problems))
    assert settings.url is not None and settings.api_key is not None
    return Connection(settings.url.strip(), settings.api_key.strip(), secret.strip())


def _url_problems(url: str) -> list[str]:
    shown = f"LiveKit URL {url!r}"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is no number or out of range
    except ValueError as error:
        return [f"{shown} is malformed ({error})"]
    if parts.scheme not in SCHEMES:
        return [f"{shown}: expected ws://, wss://, http:// or https://HOST[:PORT]"]
    if any(char.isspace() for char in url):
        return [f"{shown}: contains a space"]
    if not parts.hostname:
        return [f"{shown}: no host name"]
    if port == 0:
        return [f"{shown}: port 0"]
    return []
