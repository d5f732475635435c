"""REFER and its NOTIFY progress, driven with bytes and stepped times only."""

from __future__ import annotations

import pytest

from tests.protocol.sip.ua_peer import (
    CONFIG,
    PHONE,
    Phone,
    answered_call,
    events_of,
    requests,
    respond,
    statuses,
)
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_events import CallEnded, Output, TransferProgress
from voice_agent.protocol.sip.agent_transfer import refer_to, sipfrag_status
from voice_agent.protocol.sip.message import SipParseError, SipRequest

TEAM = "sip:team@127.0.0.1:5090"
REFERENCE = [("X-Handoff-Reference", "4711 0815")]


def _progress(output: Output) -> list[tuple[int, bool]]:
    found = events_of(output, TransferProgress)
    return [(e.status, e.final) for e in found if isinstance(e, TransferProgress)]


def _referred(agent: UserAgent, phone: Phone, now: float = 1.0) -> tuple[SipRequest, Output]:
    answered_call(agent, phone)
    output = agent.refer(phone.call_id, TEAM, REFERENCE, now)
    [refer] = requests(output, "REFER")
    return refer, output


def _notify(phone: Phone, sipfrag: str, state: str = "active;expires=60") -> bytes:
    notify = phone.request(
        "NOTIFY",
        f"{sipfrag}\r\n".encode(),
        "message/sipfrag;version=2.0",
        extra=(("Event", "refer"), ("Subscription-State", state)),
    )
    return bytes(notify)


def test_refer_carries_the_target_and_the_reference_in_the_call() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    refer, output = _referred(agent, phone)
    assert output.send[0].destination == PHONE
    assert refer.call_id == phone.call_id
    assert refer.from_addr.tag == phone.agent_tag  # within the caller's dialog
    assert refer.headers.get("Refer-To") == f"<{TEAM}?X-Handoff-Reference=4711%200815>"
    assert refer.headers.get("X-Handoff-Reference") == "4711 0815"
    assert refer.headers.get("Referred-By") == "<sip:agent@127.0.0.1:5060>"
    assert output.deadline is not None


def test_a_transfer_that_succeeds_ends_our_leg_with_bye() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    refer, _ = _referred(agent, phone)
    output = agent.receive(respond(refer, 202), PHONE, 1.1)
    assert _progress(output) == [(202, False)]
    output = agent.receive(_notify(phone, "SIP/2.0 100 Trying"), PHONE, 1.2)
    assert statuses(output) == [200]
    assert _progress(output) == [(100, False)]
    output = agent.receive(_notify(phone, "SIP/2.0 180 Ringing"), PHONE, 2.0)
    assert _progress(output) == [(180, False)]
    output = agent.receive(
        _notify(phone, "SIP/2.0 200 OK", "terminated;reason=noresource"), PHONE, 5.0
    )
    assert statuses(output) == [200]
    assert _progress(output) == [(200, True)]
    [progress] = events_of(output, TransferProgress)
    assert isinstance(progress, TransferProgress) and progress.succeeded
    assert len(requests(output, "BYE")) == 1
    [ended] = events_of(output, CallEnded)
    assert isinstance(ended, CallEnded) and ended.reason == "transferred"
    assert agent.call(phone.call_id) is None


def test_a_refused_refer_leaves_the_call_up() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    refer, _ = _referred(agent, phone)
    output = agent.receive(respond(refer, 603), PHONE, 1.1)
    assert _progress(output) == [(603, True)]
    assert requests(output, "BYE") == [] and events_of(output, CallEnded) == []
    assert agent.call(phone.call_id) is not None
    assert _progress(agent.on_timer(100.0)) == []  # decided: no timeout later


def test_a_busy_team_leaves_the_call_up_and_a_second_transfer_may_follow() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    refer, _ = _referred(agent, phone)
    agent.receive(respond(refer, 202), PHONE, 1.1)
    output = agent.receive(_notify(phone, "SIP/2.0 486 Busy Here", "terminated"), PHONE, 3.0)
    assert statuses(output) == [200]
    assert _progress(output) == [(486, True)]
    assert requests(output, "BYE") == [] and agent.call(phone.call_id) is not None
    assert len(requests(agent.refer(phone.call_id, TEAM, (), 4.0), "REFER")) == 1


def test_no_final_notify_in_time_fails_the_transfer_and_the_call_goes_on() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    refer, _ = _referred(agent, phone, now=1.0)
    agent.receive(respond(refer, 202), PHONE, 1.1)
    agent.receive(_notify(phone, "SIP/2.0 100 Trying"), PHONE, 1.2)
    assert _progress(agent.on_timer(1.0 + CONFIG.transfer_timeout_s - 0.1)) == []
    output = agent.on_timer(1.0 + CONFIG.transfer_timeout_s)
    assert _progress(output) == [(408, True)]
    assert requests(output, "BYE") == [] and agent.call(phone.call_id) is not None
    late = agent.receive(_notify(phone, "SIP/2.0 200 OK"), PHONE, 60.0)
    assert statuses(late) == [481]  # the transfer is over for us: no BYE on a late success
    assert requests(late, "BYE") == []


def test_an_unanswered_refer_fails_the_transfer() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    _referred(agent, phone, now=1.0)
    progress: list[tuple[int, bool]] = []
    for step in range(1, 80):
        progress += _progress(agent.on_timer(1.0 + step * 0.5))
    assert progress == [(408, True)]  # timer F (64 T1 = 32 s) before the NOTIFY bound
    assert agent.call(phone.call_id) is not None


def test_a_subscription_ended_without_a_result_fails_the_transfer() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    refer, _ = _referred(agent, phone)
    agent.receive(respond(refer, 202), PHONE, 1.1)
    output = agent.receive(_notify(phone, "SIP/2.0 100 Trying", "terminated"), PHONE, 2.0)
    assert _progress(output) == [(487, True)]
    assert agent.call(phone.call_id) is not None


def test_notify_that_is_not_a_transfers_is_refused() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    answered_call(agent, phone)
    assert statuses(agent.receive(_notify(phone, "SIP/2.0 200 OK"), PHONE, 1.0)) == [481]
    outside = Phone().request("NOTIFY", b"SIP/2.0 200 OK\r\n", "message/sipfrag", in_dialog=False)
    assert statuses(agent.receive(bytes(outside), PHONE, 1.1)) == [481]
    other = Phone()
    answered_call(agent, other)
    agent.refer(other.call_id, TEAM, (), 2.0)
    garbled = other.request("NOTIFY", b"hello\r\n", "message/sipfrag", extra=(("Event", "refer"),))
    assert statuses(agent.receive(bytes(garbled), PHONE, 2.1)) == [400]
    dialog = other.request("NOTIFY", b"", None, extra=(("Event", "dialog"),))
    assert statuses(agent.receive(bytes(dialog), PHONE, 2.2)) == [489]


def test_a_bad_target_or_an_unknown_call_is_refused_before_anything_is_sent() -> None:
    agent, phone = UserAgent(CONFIG), Phone()
    answered_call(agent, phone)
    with pytest.raises(SipParseError, match="not a sip"):
        agent.refer(phone.call_id, "http://team", (), 1.0)
    with pytest.raises(ValueError, match="header name"):
        agent.refer(phone.call_id, TEAM, [("Bad Name", "x")], 1.0)
    with pytest.raises(ValueError, match="no call"):
        agent.refer("nobody", TEAM, (), 1.0)
    assert requests(agent.on_timer(1.0), "REFER") == []


def test_refer_to_and_sipfrag_helpers() -> None:
    assert refer_to(TEAM, ()) == f"<{TEAM}>"
    assert refer_to(TEAM, [("X-A", "a&b=c")]) == f"<{TEAM}?X-A=a%26b%3Dc>"
    assert sipfrag_status(b"SIP/2.0 180 Ringing\r\n") == 180
    assert sipfrag_status(b"SIP/2.0 200\r\n") == 200
    assert sipfrag_status(b"SIP/2.0 2000 OK\r\n") is None
    assert sipfrag_status(b"") is None
