"""Session timers (RFC 4028) in the SIP user agent, with bytes and stepped times only."""

from __future__ import annotations

import pytest

from tests.protocol.sip.ua_peer import (
    CONFIG,
    PHONE,
    Phone,
    events_of,
    local_media,
    messages,
    requests,
    respond,
    sdp,
    statuses,
)
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_events import CallAnswered, CallEnded, CallOffered, Output
from voice_agent.protocol.sip.message import SipRequest, SipResponse, SipUri

TIMER_HEADERS = (("Supported", "timer"),)
REFRESH_HEADERS = (*TIMER_HEADERS, ("Session-Expires", "120;refresher=uac"))


def _invite(phone: Phone, session_expires: str | None, *extra: tuple[str, str]) -> SipRequest:
    headers = [*TIMER_HEADERS, *extra]
    if session_expires is not None:
        headers.append(("Session-Expires", session_expires))
    return phone.request("INVITE", sdp(), in_dialog=False, extra=tuple(headers))


def _answer(agent: UserAgent, phone: Phone, invite: SipRequest, now: float = 0.0) -> SipResponse:
    agent.receive(bytes(invite), PHONE, now)
    agent.ring(phone.call_id, local_media(), now)
    [ok] = [m for m in messages(agent.answer(phone.call_id, now)) if isinstance(m, SipResponse)]
    assert ok.status == 200
    phone.learn(ok)
    agent.receive(bytes(phone.ack(invite)), PHONE, now)
    return ok


def _ended(output: Output) -> CallEnded:
    [ended] = events_of(output, CallEnded)
    assert isinstance(ended, CallEnded)
    return ended


def test_the_200_carries_the_session_timer_and_requires_it_when_the_caller_supports_it() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    invite = _invite(phone, "120;refresher=uac", ("Min-SE", "90"), ("Require", "timer"))
    ok = _answer(agent, phone, invite)
    assert ok.headers.get("Session-Expires") == "120;refresher=uac"
    assert ok.headers.values("Require") == ["timer"]
    assert "timer" in ok.headers.values("Supported")


def test_a_longer_interval_than_ours_is_shortened_and_the_refresher_is_ours_to_choose() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    ok = _answer(agent, phone, _invite(phone, "7200"))
    assert ok.headers.get("Session-Expires") == "1800;refresher=uac"  # the caller refreshes


def test_without_timer_support_no_session_timer_is_agreed() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    invite = phone.request("INVITE", sdp(), in_dialog=False)
    ok = _answer(agent, phone, invite)
    assert ok.headers.get("Session-Expires") is None and ok.headers.get("Require") is None
    assert ok.headers.values("Supported") == ["timer"]  # advertised all the same
    assert agent.on_timer(10_000.0).send == ()


def test_too_small_an_interval_gets_422_with_our_min_se() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    output = agent.receive(bytes(_invite(phone, "30")), PHONE, 0.0)
    assert statuses(output) == [100, 422]
    [refusal] = [m for m in messages(output) if isinstance(m, SipResponse) and m.status == 422]
    assert refusal.headers.get("Min-SE") == "90"
    assert events_of(output, CallOffered) == []


def test_an_unreadable_session_expires_is_answered_400() -> None:
    agent = UserAgent(CONFIG)
    output = agent.receive(bytes(_invite(Phone(), "soon")), PHONE, 0.0)
    assert statuses(output) == [100, 400]


def test_the_peer_refreshes_and_when_it_stops_the_agent_sends_bye() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    ok = _answer(agent, phone, _invite(phone, "120;refresher=uac"))
    assert agent.on_timer(40.0).deadline == pytest.approx(88.0)  # 120 - min(32, 40)

    refresh = phone.request("INVITE", sdp(), extra=REFRESH_HEADERS)
    output = agent.receive(bytes(refresh), PHONE, 50.0)
    [again] = [m for m in messages(output) if isinstance(m, SipResponse) and m.status == 200]
    assert again.body == ok.body  # the session has not changed: same SDP, same o= version
    assert again.headers.get("Session-Expires") == "120;refresher=uac"
    agent.receive(bytes(phone.ack(refresh)), PHONE, 50.0)
    assert agent.on_timer(100.0).send == ()  # refreshed at 50: due at 138 now

    output = agent.on_timer(138.0)
    [bye] = requests(output, "BYE")
    assert bye.call_id == phone.call_id
    assert _ended(output).reason.startswith("session timer expired")
    assert agent.call(phone.call_id) is None


def test_the_agent_refreshes_with_a_reinvite_of_the_same_sdp_at_half_the_interval() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    ok = _answer(agent, phone, _invite(phone, "120;refresher=uas"))
    assert ok.headers.get("Session-Expires") == "120;refresher=uas"
    assert agent.on_timer(59.0).send == ()

    output = agent.on_timer(60.0)
    [reinvite] = requests(output, "INVITE")
    assert reinvite.body == ok.body
    assert reinvite.headers.get("Session-Expires") == "120;refresher=uac"
    assert "timer" in reinvite.headers.values("Supported")
    answer = respond(reinvite, 200, headers=(("Session-Expires", "120;refresher=uac"),), body=sdp())
    output = agent.receive(answer, PHONE, 60.2)
    [ack] = requests(output, "ACK")
    assert ack.cseq.seq == reinvite.cseq.seq
    assert events_of(output, CallEnded) == []
    assert [bytes(a) for a in requests(agent.receive(answer, PHONE, 60.7), "ACK")] == [bytes(ack)]

    [second] = requests(agent.on_timer(120.2), "INVITE")  # half the interval after the last
    assert second.cseq.seq == reinvite.cseq.seq + 1 and second.body == ok.body


def test_the_agent_refreshes_with_update_when_the_peer_allows_it() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    _answer(agent, phone, _invite(phone, "100;refresher=uas", ("Allow", "INVITE, ACK, UPDATE")))
    output = agent.on_timer(50.0)
    [update] = requests(output, "UPDATE")
    assert update.body == b"" and update.headers.get("Session-Expires") == "100;refresher=uac"
    output = agent.receive(respond(update, 200), PHONE, 50.1)  # no Session-Expires: timer off
    assert requests(output, "ACK") == [] and events_of(output, CallEnded) == []
    assert agent.on_timer(10_000.0).send == ()


def test_a_refresh_answered_481_ends_the_call() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    _answer(agent, phone, _invite(phone, "120;refresher=uas"))
    [reinvite] = requests(agent.on_timer(60.0), "INVITE")
    output = agent.receive(respond(reinvite, 481), PHONE, 60.1)
    assert "481" in _ended(output).reason
    assert requests(output, "BYE") == []  # the dialog is gone already


def test_a_refresh_answered_422_is_sent_again_with_the_peers_min_se() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    _answer(agent, phone, _invite(phone, "120;refresher=uas"))
    [reinvite] = requests(agent.on_timer(60.0), "INVITE")
    agent.receive(respond(reinvite, 422, headers=(("Min-SE", "300"),)), PHONE, 60.1)
    [again] = requests(agent.on_timer(60.1), "INVITE")
    assert again.headers.get("Session-Expires") == "300;refresher=uac"


@pytest.mark.parametrize("with_sdp", [False, True])
def test_an_update_is_answered_200_and_refreshes_the_session(with_sdp: bool) -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    ok = _answer(agent, phone, _invite(phone, "120;refresher=uac"))
    body = sdp() if with_sdp else b""
    update = phone.request("UPDATE", body, extra=REFRESH_HEADERS)
    output = agent.receive(bytes(update), PHONE, 80.0)
    [answer] = messages(output)
    assert isinstance(answer, SipResponse) and answer.status == 200
    assert answer.headers.get("Session-Expires") == "120;refresher=uac"
    assert answer.headers.get("Contact") is not None
    assert answer.body == (ok.body if with_sdp else b"")
    assert agent.on_timer(150.0).send == ()  # refreshed at 80: expires at 168
    assert requests(agent.on_timer(168.0), "BYE")


def test_outbound_invites_advertise_timers_and_follow_the_callees_choice() -> None:
    agent = UserAgent(CONFIG)
    callee = ("127.0.0.1", 5090)
    target = SipUri.parse("sip:+4930123456@127.0.0.1:5090")
    _, output = agent.invite(target, callee, "shop", local_media(), 0.0)
    [invite] = requests(output, "INVITE")
    assert invite.headers.values("Supported") == ["timer"]
    assert (invite.headers.get("Session-Expires"), invite.headers.get("Min-SE")) == ("1800", "90")
    headers = (
        ("Contact", "<sip:callee@127.0.0.1:5090>"),
        ("Session-Expires", "90;refresher=uac"),
        ("Require", "timer"),
    )
    ok = respond(invite, 200, to_tag="callee", headers=headers, body=sdp(port=12_000))
    output = agent.receive(ok, callee, 1.0)
    assert events_of(output, CallAnswered)
    assert requests(agent.on_timer(45.9), "INVITE") == []
    [reinvite] = requests(agent.on_timer(46.0), "INVITE")  # we are the UAC: refresher=uac is us
    assert reinvite.body == invite.body  # our offer again, unchanged


def test_an_outbound_invite_refused_422_is_sent_again_with_the_callees_min_se() -> None:
    agent = UserAgent(CONFIG)
    callee = ("127.0.0.1", 5090)
    target = SipUri.parse("sip:+4930123456@127.0.0.1:5090")
    _, output = agent.invite(target, callee, "shop", local_media(), 0.0)
    [invite] = requests(output, "INVITE")
    output = agent.receive(
        respond(invite, 422, to_tag="c", headers=(("Min-SE", "3600"),)), callee, 0.1
    )
    [again] = requests(output, "INVITE")
    assert again.cseq.seq == invite.cseq.seq + 1 and again.call_id == invite.call_id
    assert (again.headers.get("Session-Expires"), again.headers.get("Min-SE")) == ("3600", "3600")
    assert again.headers.get("Via") != invite.headers.get("Via")  # a new transaction
    output = agent.receive(
        respond(again, 422, to_tag="c", headers=(("Min-SE", "7200"),)), callee, 0.2
    )
    assert _ended(output).status == 422  # asked once only
