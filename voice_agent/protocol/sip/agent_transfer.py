"""Transferring a call (RFC 3515 REFER, RFC 5589 call transfer): the agent, in a call, asks
the caller's phone to call someone else (the team) and follows how that goes.

`Transfers.start` sends REFER in the call's dialog with Refer-To the target; the hand-off
headers go both into the Refer-To URI (`?X-Handoff-Reference=...`: RFC 3515 §2.1 makes the
transferee copy them into its INVITE, so the team's phone sees the reference) and onto the
REFER itself (a PBX that acts on the REFER, rather than passing it on, reads them there).
Progress comes back as NOTIFY with a message/sipfrag body ("SIP/2.0 180 Ringing"), each
answered 200 and told as `TransferProgress`. A 2xx sipfrag means the caller now talks to the
team: the user agent ends its own leg (BYE). A refused REFER, a sipfrag of 300 or more, a
subscription ended without a final status, or no final NOTIFY within `transfer_timeout_s`
is a failed transfer: the call goes on with the agent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from voice_agent.protocol.sip.agent_calls import ActiveCall, AgentConfig
from voice_agent.protocol.sip.agent_events import TransferProgress
from voice_agent.protocol.sip.agent_transactions import ServerEntry, TransactionLayer
from voice_agent.protocol.sip.message import SipRequest, SipResponse, SipUri

logger = logging.getLogger(__name__)

TIMED_OUT = 408
"""The status told when the REFER or its final NOTIFY never came."""
ENDED_UNFINISHED = 487
"""The status told when the transferee ended the subscription before a final status."""

_SIPFRAG_STATUS = re.compile(r"^SIP/2\.0 ([1-6]\d\d)(?: |$)")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")

Succeeded = Callable[[str, float], None]
"""Called with the call's id when the transfer succeeded: the user agent ends its leg."""


@dataclass
class _Transfer:
    call_id: str
    target: str
    expires_at: float  # no final NOTIFY by then: the transfer failed


def refer_to(target: str, headers: Sequence[tuple[str, str]]) -> str:
    """The Refer-To value: the target with `headers` as URI headers (escaped, RFC 3261 §19.1.1),
    in angle brackets (a URI with '?' or ';' must be)."""
    uri = SipUri.parse(target)  # SipParseError names what is wrong with a bad target
    if uri.headers:
        raise ValueError(f"the transfer target {target!r} already has URI headers")
    for name, _ in headers:
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"not a SIP header name: {name!r}")
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in headers)
    return f"<{uri}{'?' + query if query else ''}>"


def sipfrag_status(body: bytes) -> int | None:
    """The status of a message/sipfrag body's status line ("SIP/2.0 180 Ringing"), or None."""
    first = body.decode("utf-8", "replace").lstrip().split("\r\n", 1)[0].split("\n", 1)[0]
    match = _SIPFRAG_STATUS.match(first.strip())
    return int(match.group(1)) if match else None


class Transfers:
    def __init__(self, wire: TransactionLayer, config: AgentConfig, succeeded: Succeeded) -> None:
        self._wire = wire
        self._config = config
        self._succeeded = succeeded
        self._transfers: dict[str, _Transfer] = {}

    @property
    def deadlines(self) -> list[float]:
        return [transfer.expires_at for transfer in self._transfers.values()]

    def start(
        self, call: ActiveCall, target: str, headers: Sequence[tuple[str, str]], now: float
    ) -> None:
        """Send REFER for `call` to `target` (a SIP URI); ValueError or SipParseError when the
        target or a header is unusable, before anything is sent."""
        if call.call_id in self._transfers:
            raise ValueError(f"call {call.call_id} is already being transferred")
        refer_to_value = refer_to(target, headers)
        refer = call.dialog.create_request(
            "REFER",
            headers=[
                ("Refer-To", refer_to_value),
                ("Referred-By", str(self._config.contact)),
                *headers,
            ],
        )
        transfer = _Transfer(call.call_id, target, now + self._config.transfer_timeout_s)
        self._transfers[call.call_id] = transfer
        logger.info("call %s: transferring to %s", call.call_id, target)
        self._wire.request(
            refer,
            call.peer,
            lambda response, at: self._on_refer_response(transfer, response),
            lambda at: self._fail(transfer, TIMED_OUT, "the REFER was never answered"),
            now,
        )

    def on_notify(
        self, call: ActiveCall, notify: SipRequest, entry: ServerEntry, now: float
    ) -> None:
        """A NOTIFY in `call`'s dialog: the progress of our REFER (answered in every case)."""
        transfer = self._transfers.get(call.call_id)
        event = (notify.headers.get("Event") or "").split(";")[0].strip().lower()
        if transfer is None or event != "refer":
            response = call.dialog.response_for(notify, 489 if event != "refer" else 481)
            self._wire.respond(entry, response, f"NOTIFY for no transfer (Event {event!r})", now)
            return
        status = sipfrag_status(notify.body)
        if notify.content_type != "message/sipfrag" or status is None:
            response = call.dialog.response_for(notify, 400, "Bad Sipfrag")
            self._wire.respond(entry, response, "NOTIFY without a sipfrag status line", now)
            return
        self._wire.respond(entry, call.dialog.response_for(notify, 200), None, now)
        state = (notify.headers.get("Subscription-State") or "").split(";")[0].strip().lower()
        if 200 <= status < 300:
            self._finish(transfer, status)
            logger.info("call %s: transferred to %s", call.call_id, transfer.target)
            self._succeeded(call.call_id, now)
        elif status >= 300:
            self._fail(transfer, status, f"the transfer target answered {status}")
        elif state == "terminated":
            self._fail(transfer, ENDED_UNFINISHED, "the subscription ended without a result")
        else:
            self._wire.emit(TransferProgress(call.call_id, status, final=False))

    def on_timer(self, now: float) -> None:
        for transfer in list(self._transfers.values()):
            if now >= transfer.expires_at:
                why = f"no final NOTIFY in {self._config.transfer_timeout_s:g} s"
                self._fail(transfer, TIMED_OUT, why)

    def forget(self, call_id: str) -> None:
        """The call ended: a transfer still under way is over without a result."""
        self._transfers.pop(call_id, None)

    def _on_refer_response(self, transfer: _Transfer, response: SipResponse) -> None:
        if self._transfers.get(transfer.call_id) is not transfer:
            return  # already decided (a NOTIFY overtook the 202)
        if response.is_success:
            self._wire.emit(TransferProgress(transfer.call_id, response.status, final=False))
        elif response.status >= 300:
            self._fail(transfer, response.status, f"REFER refused: {response.status}")

    def _finish(self, transfer: _Transfer, status: int) -> None:
        self._transfers.pop(transfer.call_id, None)
        self._wire.emit(TransferProgress(transfer.call_id, status, final=True))

    def _fail(self, transfer: _Transfer, status: int, why: str) -> None:
        if self._transfers.get(transfer.call_id) is not transfer:
            return
        logger.info("call %s: transfer to %s failed: %s", transfer.call_id, transfer.target, why)
        self._finish(transfer, status)
