"""The caller behind a trusted proxy: its address in the Via below the proxy's own."""

from __future__ import annotations

from dataclasses import replace

from tests.protocol.sip.ua_peer import CONFIG, Phone
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_calls import caller_address
from voice_agent.protocol.sip.agent_events import Address, CallOffered
from voice_agent.protocol.sip.message import SipRequest

KAMAILIO: Address = ("10.0.0.5", 5060)
EDGE: Address = ("10.0.0.6", 5060)


def _is_proxy(host: str) -> bool:
    return host in (KAMAILIO[0], EDGE[0])


def _through(request: SipRequest, *vias: str) -> SipRequest:
    """`request` as the proxies forward it: the caller's Via stamped, theirs on top."""
    own = request.headers.values("Via")[0]
    request.headers.set("Via", f"{own};received=203.0.113.9;rport=40000")
    for via in vias:
        request.headers.prepend("Via", via)
    return request


def test_a_request_from_no_proxy_comes_from_its_source() -> None:
    invite = _through(Phone().invite(), "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKk1")
    assert caller_address(invite, ("198.51.100.4", 5060), _is_proxy) == ("198.51.100.4", 5060)


def test_through_a_proxy_the_caller_is_where_the_proxy_saw_it_come_from() -> None:
    invite = _through(Phone().invite(), "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKk1")
    assert caller_address(invite, KAMAILIO, _is_proxy) == ("203.0.113.9", 40000)


def test_through_two_proxies_the_walk_goes_on_below_the_second() -> None:
    invite = _through(
        Phone().invite(),
        "SIP/2.0/UDP 10.0.0.6;branch=z9hG4bKedge;received=10.0.0.6",
        "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKk1",
    )
    assert caller_address(invite, KAMAILIO, _is_proxy) == ("203.0.113.9", 40000)


def test_a_caller_via_without_received_gives_its_sent_by() -> None:
    invite = Phone().invite()  # Via 127.0.0.1:5070, as sent
    invite.headers.prepend("Via", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKk1")
    assert caller_address(invite, KAMAILIO, _is_proxy) == ("127.0.0.1", 5070)


def test_a_proxy_that_is_a_b2bua_leaves_only_its_own_via_so_the_caller_is_the_proxy() -> None:
    invite = Phone().invite()
    invite.headers.set("Via", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKb2b")
    assert caller_address(invite, KAMAILIO, _is_proxy) == KAMAILIO


def test_the_user_agent_offers_a_proxied_call_under_the_callers_address() -> None:
    agent = UserAgent(replace(CONFIG, is_proxy=_is_proxy))
    phone = Phone()
    invite = _through(phone.invite(), "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKk1")
    output = agent.receive(bytes(invite), KAMAILIO, 0.0)
    [offered] = [event for event in output.events if isinstance(event, CallOffered)]
    assert (offered.caller_id, offered.source) == ("alice@203.0.113.9", KAMAILIO)
    assert {datagram.destination for datagram in output.send} == {KAMAILIO}  # replies: proxy
