"""Fuzz target: what the public web server reads from a browser, page or desk form.

The first byte picks the kind of input, the rest is its text:
- a ``POST /webrtc/offer`` body, as sent or with the bytes as the SDP of a well-formed JSON
  offer (so aiortc's SDP parser sees them as the server hands them on), or steering line
  edits of a browser-like offer (so the checks after parsing see nearly valid offers);
- a data-channel message from the page;
- the ``?lang=`` of an offer;
- the desk's call-history and stats queries (page, from, to), fields split at NUL bytes;
- the desk's add-operator form (user name, password).

Expected refusals are the project's own errors with a message (SignalingError with a 4xx
status, DeskError, CliError, WeakPasswordError); anything else escaping is a bug.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

from voice_agent.desk.commands import check_username
from voice_agent.desk.pages import _day, _page_number
from voice_agent.desk.passwords import WeakPasswordError, check_strength
from voice_agent.desk.stats import stats_days
from voice_agent.errors import CliError
from voice_agent.languages import language_of_tag
from voice_agent.settings import WebRtcSettings
from voice_agent.store.desk import DeskError
from voice_agent.store.desk_calls import day_range
from voice_agent.transport.webrtc import SignalingError, page_command, validate_offer

MAX_SDP_BYTES = WebRtcSettings().max_sdp_bytes
SEED_OFFER = Path(__file__).resolve().parents[1] / "corpus" / "signaling" / "sdp-browser-like"
MAX_EDITS = 8
MAX_LEN = 8_192
TOKENS = (b'{"type": "offer", "sdp": "', b'"}', b"v=0", b"\\r\\n", b"m=audio ", b"a=")
HOSTILE = (
    "",
    "0",
    "-1",
    "9" * 20,
    "x",
    "a" * 300,
    "::1",
    "abc.local",
    "opus/4",
    "sha-256 00",
    "actpass",
    "inactive",
    "\0",
    "é",
    " ",
    ":",
)
TODAY = date(2026, 3, 31)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _refused(error: Exception) -> None:
    """A refusal must say what is wrong."""
    if not str(error).strip():
        raise AssertionError(f"{type(error).__name__} without a message")


def _offer(body: bytes) -> None:
    try:
        offer = validate_offer(body, MAX_SDP_BYTES)
    except SignalingError as error:
        if not 400 <= error.status < 500 or not error.message.strip():
            raise AssertionError(f"refusal {error.status} {error.message!r}") from error
        return
    if offer.type != "offer" or not offer.sdp:
        raise AssertionError("an accepted offer lost its SDP")


def _sdp(body: bytes) -> None:
    sdp = _text(body)
    if not sdp.lstrip().startswith("v=0"):
        sdp = "v=0\r\n" + sdp
    _offer(json.dumps({"type": "offer", "sdp": sdp}).encode())


@cache
def _seed_lines() -> tuple[str, ...]:
    return tuple(SEED_OFFER.read_bytes()[1:].decode().split("\r\n"))


def _edited_sdp(steer: bytes) -> None:
    lines = list(_seed_lines())
    for at in range(0, min(len(steer) - 2, 3 * MAX_EDITS), 3):
        index = steer[at] % len(lines)
        how, value = steer[at + 1] % 4, HOSTILE[steer[at + 2] % len(HOSTILE)]
        if how == 0:
            del lines[index]
        elif how == 1:
            lines.insert(index, lines[steer[at + 2] % len(lines)])
        elif how == 2:
            lines[index] = lines[index][: steer[at + 2] % (len(lines[index]) + 1)]
        else:
            words = lines[index].split(" ")
            words[steer[at + 2] % len(words)] = value
            lines[index] = " ".join(words)
        if not lines:
            break
    _offer(json.dumps({"type": "offer", "sdp": "\r\n".join(lines)}).encode())


def _page_message(body: bytes) -> None:
    if page_command(_text(body)) not in (None, "hangup"):
        raise AssertionError("an unknown page command")
    if page_command(body) is not None:
        raise AssertionError("a binary message was read as a command")


def _language(body: bytes) -> None:
    code = language_of_tag(_text(body))
    if code is not None and not (len(code) == 2 and code.isalpha() and code.islower()):
        raise AssertionError(f"language code {code!r}")


def _desk_query(body: bytes) -> None:
    page, since, until = [*_text(body).split("\0"), "", ""][:3]
    try:
        number = _page_number(page)
        assert number >= 1, number
    except DeskError as error:
        _refused(error)
    try:
        # the call history: either day may be left out
        first, last = _day(since, "from"), _day(until, "to")
        if first is not None or last is not None:
            day_range(first or date.min, last or date.max)
    except DeskError as error:
        _refused(error)
    try:
        # the stats page: empty days take defaults
        start, end = stats_days(since or None, until or None, TODAY)
        day_range(start, end)
    except DeskError as error:
        _refused(error)


def _operator_form(body: bytes) -> None:
    name, password = [*_text(body).split("\0", 1), ""][:2]
    try:
        username = check_username(name)
        check_strength(password, username)
    except (CliError, WeakPasswordError) as error:
        _refused(error)


_KINDS: tuple[Callable[[bytes], None], ...] = (
    _offer,
    _sdp,
    _page_message,
    _language,
    _desk_query,
    _operator_form,
    _edited_sdp,
)


def one_input(data: bytes) -> None:
    if not data:
        return
    _KINDS[data[0] % len(_KINDS)](data[1:])
