"""The redacting log filter: personal data never reaches a log handler."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from voice_agent.logs import (
    NOISY_LIBRARIES,
    RedactingFilter,
    configure_logging,
    install_redaction,
    redact,
)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (
            "answered call 3f9a from sip:+447700900321@192.0.2.7:5060",
            "answered call 3f9a from sip:[user]@192.0.2.7:5060",
        ),
        ('From: "Jane Doe" <sip:jane@example.com>', 'From: "[name]" <sip:[user]@example.com>'),
        ("callback to tel:+4915112345678", "callback to tel:[user]"),
        ("caller gave +44 7700 900321 as their number", "caller gave [phone] as their number"),
        ("or (030) 1234-5678 in Berlin", "or [phone] in Berlin"),
        ("receipt to jane.doe+shop@example.co.uk today", "receipt to [email] today"),
        ("(keypad) 0321#", "(keypad) [digits]"),
        ("DTMF digits: 1 2 3 4", "DTMF digits: [digits]"),
        ("keypad digit 7 received", "keypad digit [digits] received"),
        ("delivered to SW1A 1AA", "delivered to [postcode]"),
        ("held at customs, CEP 01310-100", "held at customs, CEP [postcode]"),
        ("ship to 1017 CT Amsterdam", "ship to [postcode] Amsterdam"),
        ("customer_name=Jane Doe, order 4567", "customer_name=[name], order 4567"),
        ('name="Jean-Luc Picard"', "name=[name]"),
    ],
)
def test_personal_data_is_redacted(text: str, redacted: str) -> None:
    assert redact(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "serving on http://127.0.0.1:8080",
        "SIP listening on udp:127.0.0.1:5060",
        "registered with sip:pbx.example.com:5060 for 300 s",
        "RTP ports 20000-20999",
        "demo anchored at 2026-12-01T10:00:00+00:00",
        "order 47700 answered in 312 ms",
        "web call 3a8f9c1b2d4e5f60 stats: 1234 packets in (0 lost)",
        "voice name: joe",
        "call started conversation=12 transport=webrtc call=3a8f9c1b2d4e5f60",
        "call started conversation=12 transport=sip call=8d2f1e0c9b7a6f5e4d3c2b1a@127.0.0.1",
        "call ended conversation=1234567 transport=sip outcome=handoff duration_s=73.4 turns=9",
    ],
)
def test_operational_facts_stay_readable(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.logs.captured")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def test_the_filter_redacts_arguments_and_tracebacks(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("call from %s pressed %s", "sip:+15551234567@10.0.0.1", "(keypad) 99 12")
    try:
        raise ValueError("no order for jane@example.com at SW1A 1AA")
    except ValueError:
        logger.exception("lookup failed")
    written = stream.getvalue()
    assert "call from sip:[user]@10.0.0.1 pressed (keypad) [digits]" in written
    assert "ValueError: no order for [email] at [postcode]" in written
    for secret in ("15551234567", "99 12", "jane@example.com", "SW1A"):
        assert secret not in written


def test_configure_logging_puts_the_filter_on_every_handler() -> None:
    root = logging.getLogger()
    extra = logging.StreamHandler(io.StringIO())
    root.addHandler(extra)
    try:
        configure_logging()
        install_redaction(root)  # twice: still one filter per handler
        for handler in root.handlers:
            filters = [f for f in handler.filters if isinstance(f, RedactingFilter)]
            assert len(filters) == 1, handler
    finally:
        root.removeHandler(extra)
        for handler in root.handlers:
            for existing in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(existing)


@pytest.fixture
def root_handlers_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        for handler in root.handlers:
            for existing in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(existing)
        root.setLevel(level)
        for name in NOISY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.usefixtures("root_handlers_restored")
def test_chatty_libraries_say_only_warnings_unless_verbose() -> None:
    configure_logging()
    logging.getLogger().setLevel(logging.INFO)  # as basicConfig sets it in a fresh process
    for name in ("aioice", "aioice.ice", "aiortc.rtcpeerconnection", "aiohttp.access"):
        chatty = logging.getLogger(name)
        assert not chatty.isEnabledFor(logging.INFO), name
        assert chatty.isEnabledFor(logging.WARNING), name
    assert logging.getLogger("voice_agent.calls").isEnabledFor(logging.INFO)
    configure_logging(verbose=True)
    logging.getLogger().setLevel(logging.DEBUG)
    assert logging.getLogger("aioice.ice").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("aiortc").isEnabledFor(logging.DEBUG)
