"""The far end of the SIP user agent's tests: builds what a phone or trunk sends, reads what
the agent sends back. Bytes only; no sockets."""

from __future__ import annotations

from dataclasses import dataclass, field

from voice_agent.protocol.sdp import LocalMedia
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_calls import AgentConfig, TrunkAccount
from voice_agent.protocol.sip.agent_events import Address, Event, Output
from voice_agent.protocol.sip.message import (
    SipMessage,
    SipRequest,
    SipResponse,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)
from voice_agent.protocol.sip.timers import SipTimers

AGENT: Address = ("127.0.0.1", 5060)
PHONE: Address = ("127.0.0.1", 5070)
TRUNK = TrunkAccount("sip:127.0.0.1:5080", "shop", "s3cret", expires_s=300, retry_s=30.0)
CONFIG = AgentConfig(
    host=AGENT[0], port=AGENT[1], timers=SipTimers(t1=0.5), no_answer_timeout_s=60.0, trunk=TRUNK
)


def local_media(port: int = 20_000) -> LocalMedia:
    return LocalMedia(address=AGENT[0], port=port, session_id="4711")


def sdp(
    direction: str = "sendrecv", address: str = "127.0.0.1", port: int = 10_018, pt: str = "0 101"
) -> bytes:
    lines = [
        "v=0",
        f"o=- 1 1 IN IP4 {address}",
        "s=-",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {pt}",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        f"a={direction}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def messages(output: Output) -> list[SipMessage]:
    return [parse_message(datagram.data) for datagram in output.send]


def statuses(output: Output) -> list[int]:
    return [m.status for m in messages(output) if isinstance(m, SipResponse)]


def requests(output: Output, method: str) -> list[SipRequest]:
    return [m for m in messages(output) if isinstance(m, SipRequest) and m.method == method]


def events_of(output: Output, kind: type[Event]) -> list[Event]:
    return [event for event in output.events if isinstance(event, kind)]


@dataclass
class Phone:
    """One caller's side of one call."""

    call_id: str = field(default_factory=lambda: new_call_id("127.0.0.1"))
    tag: str = field(default_factory=new_tag)
    seq: int = 100
    agent_tag: str | None = None
    address: Address = PHONE

    def request(
        self,
        method: str,
        body: bytes = b"",
        content_type: str | None = "application/sdp",
        *,
        branch: str | None = None,
        seq: int | None = None,
        extra: tuple[tuple[str, str], ...] = (),
        in_dialog: bool = True,
    ) -> SipRequest:
        if seq is None:
            self.seq += 1
            seq = self.seq
        to = "<sip:support@127.0.0.1:5060>"
        if in_dialog and self.agent_tag:
            to += f";tag={self.agent_tag}"
        host, port = self.address
        fields = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={branch or new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:alice@{host}>;tag={self.tag}"),
            ("To", to),
            ("Call-ID", self.call_id),
            ("CSeq", f"{seq} {method}"),
            ("Contact", f"<sip:alice@{host}:{port}>"),
            *extra,
        ]
        if body and content_type:
            fields.append(("Content-Type", content_type))
        return SipRequest.create(method, "sip:support@127.0.0.1:5060", fields, body)

    def invite(self, body: bytes | None = None, *, in_dialog: bool = False) -> SipRequest:
        return self.request("INVITE", sdp() if body is None else body, in_dialog=in_dialog)

    def ack(self, invite: SipRequest, body: bytes = b"") -> SipRequest:
        return self.request("ACK", body, seq=invite.cseq.seq)

    def learn(self, response: SipResponse) -> None:
        self.agent_tag = response.to_addr.tag


def answered_call(agent: UserAgent, phone: Phone, now: float = 0.0) -> SipResponse:
    """INVITE, ring, answer, ACK: a call that is up; the agent's 200."""
    invite = phone.invite()
    agent.receive(bytes(invite), phone.address, now)
    agent.ring(phone.call_id, local_media(), now)
    output = agent.answer(phone.call_id, now)
    ok = [m for m in messages(output) if isinstance(m, SipResponse)][-1]
    assert ok.status == 200
    phone.learn(ok)
    agent.receive(bytes(phone.ack(invite)), phone.address, now)
    return ok


def respond(
    request: SipRequest,
    status: int,
    *,
    to_tag: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> bytes:
    """The far end's response to a request the agent sent."""
    content_type = "application/sdp" if body else None
    response = build_response(
        request, status, to_tag=to_tag, headers=headers, body=body, content_type=content_type
    )
    return bytes(response)
