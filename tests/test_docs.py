"""The docs stand alone and say what the code does.

A user's clone has only the repository: no file may point to project notes outside it. Every
relative link in README.md and docs/*.md must reach a file (and heading) in the repository,
every `voice-agent` command they name must exist in the CLI, every settings key they name
must exist in the settings tree, and every TOML example must load as a config file. The
reverse-proxy advice of docs/deploy.md is checked against the real web app.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import tomllib
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel

from tests.conftest import PROJECT_ROOT
from tests.fakes.stages import ScriptedAsr
from tests.transport.webrtc_support import FakeAgent, agent_server
from voice_agent.cli import _parser
from voice_agent.settings import Settings, WebRtcSettings, load_settings

OUTSIDE_POINTERS = re.compile(r"\.\./shared|ARCHITECTURE\.md|DOMAIN\.md|(?<![\w-])notes/")
"""Where the project's own notes lived before docs/ had them: not in a user's clone."""

DOCS = sorted([PROJECT_ROOT / "README.md", *(PROJECT_ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FILE_IN_CODE = re.compile(r"^(?:[\w.-]+/)+[\w.-]+\.(?:md|toml|py|json|yml|yaml|sh|html|js)$")
TOP_LEVEL = frozenset(Settings.model_fields)
POLICY_TABLES = frozenset(tomllib.loads((PROJECT_ROOT / "config/policies.toml").read_text()))


def _repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [PROJECT_ROOT / name for name in listed.split("\0") if name]


def _prose_and_code(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The Markdown file's lines outside fenced blocks, and each fenced block (language, text)."""
    prose: list[str] = []
    blocks: list[tuple[str, str]] = []
    block: list[str] | None = None
    language = ""
    for line in path.read_text().splitlines():
        if FENCE.match(line.strip()):
            if block is None:
                block, language = [], line.strip()[3:].strip()
            else:
                blocks.append((language, "\n".join(block)))
                block = None
            continue
        (prose if block is None else block).append(line)
    return prose, blocks


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[|\]|\(|\)", lambda m: "_" if m.group() == "_" else "", heading)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    prose, _ = _prose_and_code(path)
    return {_slug(line.lstrip("#")) for line in prose if re.match(r"^#{1,6} ", line)}


def test_no_tracked_file_points_outside_the_repository() -> None:
    offenders = []
    for path in _repository_files():
        if path == Path(__file__) or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # images, models
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_POINTERS.search(line):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "files point outside the repository:\n" + "\n".join(offenders)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_relative_link_reaches_a_file_and_heading_in_the_repository(doc: Path) -> None:
    prose, _ = _prose_and_code(doc)
    broken = []
    for line in prose:
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            name, _, anchor = target.partition("#")
            path = (doc.parent / name).resolve() if name else doc
            if not path.is_relative_to(PROJECT_ROOT) or not path.exists():
                broken.append(f"{target}: no such file in the repository")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{doc.name}:\n" + "\n".join(broken)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_repository_file_named_in_code_exists(doc: Path) -> None:
    prose, _ = _prose_and_code(doc)
    files = [path.relative_to(PROJECT_ROOT).as_posix() for path in _repository_files()]
    missing = [
        span
        for line in prose
        for span in CODE_SPAN.findall(line)
        if FILE_IN_CODE.match(span)
        and not re.match(r"^[A-Z]+/", span)  # a placeholder: DIR/report.json
        # by its path from the root, or from the package or a folder (agent/playout.py)
        and not any(name == span or name.endswith(f"/{span}") for name in files)
    ]
    assert not missing, f"{doc.name} names files the repository does not have: {missing}"


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _command_lines(doc: Path) -> Iterator[str]:
    """Every `voice-agent ...` in an inline code span or a fenced block of shell."""
    prose, blocks = _prose_and_code(doc)
    for line in prose:
        for span in CODE_SPAN.findall(line):
            yield from re.findall(r"(?<![\w/.-])voice-agent\s+[^`|]*", span)
    for language, text in blocks:
        if language in ("", "sh", "bash", "console", "cron"):
            yield from re.findall(r"(?<![\w/.-])voice-agent\s+[^\n|;&]*", text)


def _words(command: str) -> list[str]:
    """The command and action of a documented command line, past the global options."""
    words = command.split("#")[0].split()[1:]
    found: list[str] = []
    skip_value = False
    for word in words:
        if skip_value:
            skip_value = False
        elif word == "--config":
            skip_value = True
        elif not word.startswith("-"):
            found.append(word)
            if len(found) == 2:
                break
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_voice_agent_command_named_exists(doc: Path) -> None:
    commands = _commands(_parser())
    unknown = []
    for line in _command_lines(doc):
        words = _words(line)
        if not words:
            continue
        command = commands.get(words[0])
        if command is None:
            unknown.append(f"{line.strip()!r}: no command {words[0]!r}")
            continue
        actions = _commands(command)
        if actions and (len(words) < 2 or words[1] not in actions):
            unknown.append(f"{line.strip()!r}: {words[0]} has no action {words[1:2]}")
    assert not unknown, f"{doc.name}:\n" + "\n".join(unknown)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The settings section a field holds (through Optional and tuples), if it is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple):
        for argument in typing.get_args(annotation):
            model = _model_of(argument)
            if model is not None:
                return model
    return None


def _key_exists(parts: list[str]) -> bool:
    model: type[BaseModel] | None = Settings
    for part in parts:
        if model is None:
            return True  # inside a mapping (tts.voices.de): any key may be named
        field = model.model_fields.get(part)
        if field is None:
            return False
        model = _model_of(field.annotation)
    return True


def _settings_keys(doc: Path) -> Iterator[str]:
    """Keys named as `[section] key`, `[section]` or `section.key` in inline code."""
    prose, _ = _prose_and_code(doc)
    for line in prose:
        for span in CODE_SPAN.findall(line):
            table = re.fullmatch(r"\[([a-z_.]+)\](?:\s+([a-z_]+))?", span.strip())
            if table and table.group(1).split(".")[0] in POLICY_TABLES:
                continue  # a table of config/policies.toml, not a setting
            if table:
                yield ".".join(part for part in table.groups() if part)
                continue
            dotted = re.fullmatch(r"([a-z_]+(?:\.[a-z_]+)+)(?:\s*=.*)?", span.strip())
            if dotted and dotted.group(1).split(".")[0] in TOP_LEVEL:
                yield dotted.group(1)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_settings_key_named_exists(doc: Path) -> None:
    unknown = sorted({key for key in _settings_keys(doc) if not _key_exists(key.split("."))})
    assert not unknown, f"{doc.name} names settings that do not exist: {unknown}"


def test_the_command_check_reads_the_command_and_its_action() -> None:
    assert _words("voice-agent --config site.toml data erase --customer x@example.com") == [
        "data",
        "erase",
    ]
    assert _words("voice-agent serve --config site.toml   # then open /desk") == ["serve"]
    assert "wipe" not in _commands(_commands(_parser())["data"])


def test_the_key_check_itself_refuses_a_key_that_does_not_exist() -> None:
    assert _key_exists(["webrtc", "allowed_origins"])
    assert _key_exists(["sip", "trunk", "expires_s"])
    assert not _key_exists(["webrtc", "turn_servers"])
    assert not _key_exists(["sip", "trunk", "expiry"])


def _toml_examples() -> Iterator[tuple[str, str]]:
    for doc in DOCS:
        _, blocks = _prose_and_code(doc)
        for index, (language, text) in enumerate(blocks):
            first_table = re.search(r"^\[([a-z_.]+)\]", text, re.MULTILINE)
            section = first_table.group(1).split(".")[0] if first_table else ""
            # agent config only: config/policies.toml's tables are not settings sections
            if language == "toml" and section in TOP_LEVEL:
                yield f"{doc.name}#{index}", text


@pytest.mark.parametrize("example", list(_toml_examples()), ids=lambda pair: pair[0])
def test_every_toml_example_loads_as_a_config_file(
    example: tuple[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "site.toml"
    # "<first digest>" and the like stand for values the reader fills in: give them a shape
    # every such key accepts (a sha256 digest)
    config.write_text(re.sub(r'"<[^"<>]*>"', f'"{"0" * 64}"', example[1]))
    load_settings(config, environ={})


# --- docs/deploy.md: the agent behind an HTTPS reverse proxy ----------------------------------


async def _offer_through_a_tls_proxy(settings: Settings) -> int:
    """POST an offer as a TLS proxy forwards the agent's own page's: plain HTTP to the agent,
    the browser's Host and Origin headers passed through."""
    async with (
        agent_server(FakeAgent(ScriptedAsr({0.0: "hello"})), settings) as (url, _),
        aiohttp.ClientSession() as http,
    ):
        headers = {"Host": "agent.example.com", "Origin": "https://agent.example.com"}
        body = {"type": "offer", "sdp": "v=0"}
        async with http.post(f"{url}/webrtc/offer", json=body, headers=headers) as response:
            return response.status


def test_behind_a_tls_proxy_the_own_https_origin_must_be_listed() -> None:
    unlisted = Settings(webrtc=WebRtcSettings(loopback_only=True))
    listed = Settings(
        webrtc=WebRtcSettings(loopback_only=True, allowed_origins=("https://agent.example.com",))
    )
    assert asyncio.run(_offer_through_a_tls_proxy(unlisted)) == 403
    # past the origin check: "v=0" alone is no offer
    assert asyncio.run(_offer_through_a_tls_proxy(listed)) == 400
