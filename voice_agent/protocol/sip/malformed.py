"""Answering what cannot be parsed: a 400 when the request's head can be read well enough."""

from __future__ import annotations

import re

from voice_agent.protocol.sip.message import new_tag

_REQUEST_LINE = re.compile(rb"^([A-Za-z]+) (\S+) SIP/2\.0\r?$")
_NEEDED = {"via": "v", "from": "f", "to": "t", "call-id": "i", "cseq": None}


def bad_request_response(data: bytes, error: str, server: str) -> bytes | None:
    """A 400 for a request whose head can be read well enough to answer, or None.

    A response needs the request's Via, From, To, Call-ID and CSeq; without them (random
    bytes, a truncated datagram) nothing can be answered and the message is dropped.
    """
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    lines = re.split(rb"\r?\n", head)
    match = _REQUEST_LINE.match(lines[0]) if lines else None
    if match is None or match[1].upper() == b"ACK":
        return None
    fields: dict[str, list[str]] = {}
    for raw in lines[1:]:
        name, colon, value = raw.partition(b":")
        if not colon:
            continue
        key = name.strip().decode("latin-1").lower()
        key = next((full for full, short in _NEEDED.items() if key == short), key)
        if key in _NEEDED:
            fields.setdefault(key, []).append(value.strip().decode("latin-1"))
    if any(key not in fields for key in _NEEDED) or any(
        _unsafe(value) for values in fields.values() for value in values
    ):
        return None
    to = fields["to"][0] if "tag=" in fields["to"][0] else f"{fields['to'][0]};tag={new_tag()}"
    warning = error.replace('"', "'")[:200]
    lines_out = [
        "SIP/2.0 400 Bad Request",
        *(f"Via: {value}" for value in fields["via"]),
        f"From: {fields['from'][0]}",
        f"To: {to}",
        f"Call-ID: {fields['call-id'][0]}",
        f"CSeq: {fields['cseq'][0]}",
        f'Warning: 399 {server} "{warning}"',
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines_out) + "\r\n\r\n").encode("utf-8", "replace")


def _unsafe(value: str) -> bool:
    return any(ord(char) < 32 and char != "\t" for char in value)
