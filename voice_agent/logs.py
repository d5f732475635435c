"""Logging set-up: every handler writes through a filter that redacts personal data.

Logs are kept, shipped and read by more people than the database is, so nothing a caller
could be identified or verified by belongs in them: phone numbers, e-mail addresses, postcodes,
names in SIP display names and key-value pairs, and keypad digits. The code avoids logging
these in the first place; this filter is the net under it, also for third-party libraries and
tracebacks. Bare 4-5 digit numbers stay (order numbers, ports, and most countries' postcodes
look alike), so identifiers are best kept out of log messages at the source.
"""

from __future__ import annotations

import logging
import re

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_SIP_USER = re.compile(r"\b(sips?:|tel:)([^@\s;>,\"']+)(@?)", re.IGNORECASE)
_DISPLAY_NAME = re.compile(r"\"[^\"<>]*\"(\s*<(?:sips?|tel):)", re.IGNORECASE)
_NAMED_VALUE = re.compile(
    r"\b((?:(?:first|last|full|customer|caller|display)_?name)\s*[=:]\s*|name\s*=\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^,;\s)}\]]+(?:\s+[A-Z][\w'-]*)*)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE)
_KEYPAD = re.compile(
    r"\b((?:keypad|dtmf|digits?|keys?)\b[^0-9*#\n]{0,12}?)([0-9*#]+(?:\s*[0-9*#]+)*)",
    re.IGNORECASE,
)
_POSTCODE = re.compile(
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"  # United Kingdom
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # Canada
    r"|\d{5}-\d{3,4}"  # Brazil (CEP), United States (ZIP+4)
    r"|\d{4}\s?[A-Z]{2})\b"  # Netherlands
)
_PHONE = re.compile(r"(?<![\w.:/])(?<!conversation=)\+?\(?\d[\d\s()-]{5,}\d(?![\w.])")
"""Not after "conversation=": the call lines' conversation number is the database's row id."""
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER_RANGE = re.compile(r"(\d+)-(\d+)")
_MIN_PHONE_DIGITS = 7


def redact(text: str) -> str:
    """The text with personal data replaced by [phone], [email], [postcode], [name], [digits]."""
    text = _DISPLAY_NAME.sub(r'"[name]"\1', text)
    text = _SIP_USER.sub(_sip_user, text)
    text = _EMAIL.sub("[email]", text)
    text = _NAMED_VALUE.sub(r"\1[name]", text)
    text = _KEYPAD.sub(r"\1[digits]", text)
    text = _POSTCODE.sub("[postcode]", text)
    return _PHONE.sub(_phone, text)


def _sip_user(match: re.Match[str]) -> str:
    scheme, _user, at = match.groups()
    if not at and scheme.lower() != "tel:":
        return match.group(0)  # sip:host with no user part: nothing personal
    return f"{scheme}[user]{at}"


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(char.isdigit() for char in found)
    if digits < _MIN_PHONE_DIGITS or _ISO_DATE.fullmatch(found.strip()):
        return found
    span = _NUMBER_RANGE.fullmatch(found.strip())
    if span is not None and len(span.group(1)) == len(span.group(2)):
        return found  # a range such as 20000-20999 (ports)
    return "[phone]"


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with personal data redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


NOISY_LIBRARIES = (
    "aioice",  # a line per ICE candidate pair and state change
    "aiortc",
    "aiohttp.access",  # a line per request, /metrics scrapes included
    "faster_whisper",  # a line per stock-path decode
    "libav",  # PyAV's decoder warnings come through at WARNING still
    "urllib3",
)
"""Third-party loggers kept at WARNING unless verbose: their INFO lines drown the agent's."""


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr at INFO (DEBUG when verbose), every handler redacting personal data;
    chatty libraries at WARNING unless verbose."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=_FORMAT)
    install_redaction(logging.getLogger())
    quiet_libraries(verbose)


def quiet_libraries(verbose: bool = False) -> None:
    """NOISY_LIBRARIES at WARNING, or back to the root's level (NOTSET) when verbose."""
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)


def install_redaction(logger: logging.Logger) -> None:
    """Put the redacting filter on every handler of `logger` (once each)."""
    for handler in logger.handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
