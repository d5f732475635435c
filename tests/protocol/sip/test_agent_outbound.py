"""Calls out through the SIP user agent: digest, answer, refusal, timeout, no answer."""

from __future__ import annotations

import pytest

from tests.protocol.sip.ua_peer import CONFIG, events_of, local_media, requests, respond, sdp
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_events import Address, CallAnswered, CallEnded, Output
from voice_agent.protocol.sip.auth import AuthOutcome, DigestServer
from voice_agent.protocol.sip.message import SipRequest, SipUri

CALLEE: Address = ("127.0.0.1", 5090)
TARGET = SipUri.parse("sip:+4930123456@127.0.0.1:5090")
CALLEE_CONTACT = (("Contact", "<sip:callee@127.0.0.1:5090>"),)


def _ring(agent: UserAgent, now: float = 0.0) -> tuple[str, SipRequest, Output]:
    call_id, output = agent.invite(TARGET, CALLEE, "shop", local_media(), now)
    [invite] = requests(output, "INVITE")
    assert output.send[0].destination == CALLEE
    return call_id, invite, output


def _ended(output: Output) -> CallEnded:
    [ended] = events_of(output, CallEnded)
    assert isinstance(ended, CallEnded)
    return ended


@pytest.mark.parametrize("proxy", [False, True])
def test_an_outbound_call_answers_the_digest_challenge_and_is_answered(proxy: bool) -> None:
    agent = UserAgent(CONFIG)
    call_id, invite, _ = _ring(agent)
    assert invite.call_id == call_id and invite.content_type == "application/sdp"
    trunk = DigestServer("trunk", b"k" * 32, algorithms=("SHA-256",), proxy=proxy)
    output = agent.receive(bytes(trunk.challenge(invite, 0.1, to_tag="t1")), CALLEE, 0.1)
    [failure_ack] = requests(output, "ACK")
    assert failure_ack.cseq.seq == invite.cseq.seq
    [authorized] = requests(output, "INVITE")
    assert authorized.cseq.seq == invite.cseq.seq + 1
    verdict = trunk.verify(authorized, 0.1, {"shop": "s3cret"}.get)
    assert verdict.outcome is AuthOutcome.OK

    assert agent.receive(respond(authorized, 180, to_tag="callee"), CALLEE, 0.2).events == ()
    ok = respond(authorized, 200, to_tag="callee", headers=CALLEE_CONTACT, body=sdp(port=12_000))
    output = agent.receive(ok, CALLEE, 3.0)
    [ack] = requests(output, "ACK")
    assert (ack.cseq.seq, ack.to_addr.tag) == (authorized.cseq.seq, "callee")
    assert output.send[0].destination == CALLEE
    [answered] = events_of(output, CallAnswered)
    assert isinstance(answered, CallAnswered)
    assert (answered.outbound, answered.params.remote_port) == (True, 12_000)

    again = agent.receive(ok, CALLEE, 3.5)  # our ACK was lost: the copy gets it again
    assert [bytes(a) for a in requests(again, "ACK")] == [bytes(ack)]
    assert again.events == ()
    agent.on_timer(40.0)  # the INVITE transaction is gone (timer M); the dialog still answers
    late = agent.receive(ok, CALLEE, 40.5)
    assert [bytes(a) for a in requests(late, "ACK")] == [bytes(ack)]

    output = agent.hang_up(call_id, "the session ended", 41.0)
    [bye] = requests(output, "BYE")
    assert bye.from_addr.tag == invite.from_addr.tag
    assert _ended(output).reason == "the session ended"


def test_a_second_challenge_is_not_answered() -> None:
    agent = UserAgent(CONFIG)
    _, invite, _ = _ring(agent)
    trunk = DigestServer("trunk", b"k" * 32)
    output = agent.receive(bytes(trunk.challenge(invite, 0.1, to_tag="t1")), CALLEE, 0.1)
    [authorized] = requests(output, "INVITE")
    output = agent.receive(bytes(trunk.challenge(authorized, 0.2, to_tag="t2")), CALLEE, 0.2)
    assert requests(output, "INVITE") == []
    assert _ended(output).status == 401


def test_a_busy_callee_ends_the_call_with_486() -> None:
    agent = UserAgent(CONFIG)
    call_id, invite, _ = _ring(agent)
    output = agent.receive(respond(invite, 486, to_tag="callee"), CALLEE, 0.5)
    assert len(requests(output, "ACK")) == 1
    ended = _ended(output)
    assert (ended.call_id, ended.status, ended.reason) == (call_id, 486, "Busy Here")
    assert agent.call_ids == []


def test_a_callee_that_never_answers_the_invite_times_out_with_408() -> None:
    agent = UserAgent(CONFIG)
    _, _, output = _ring(agent)
    sent_at: list[float] = []
    ended: list[CallEnded] = []
    while not ended:
        assert output.deadline is not None
        now = output.deadline
        output = agent.on_timer(now)
        sent_at += [now] * len(requests(output, "INVITE"))
        ended += [e for e in output.events if isinstance(e, CallEnded)]
    assert sent_at == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]  # timer A doubling, uncapped
    assert (now, ended[0].status) == (32.0, 408)  # timer B: 64*T1


def test_an_unanswered_call_is_cancelled_after_the_no_answer_timeout() -> None:
    agent = UserAgent(CONFIG)
    call_id, invite, _ = _ring(agent)
    output = agent.receive(respond(invite, 180, to_tag="callee"), CALLEE, 0.1)
    assert output.deadline == pytest.approx(CONFIG.no_answer_timeout_s)
    assert agent.on_timer(59.9).send == ()
    output = agent.on_timer(60.0)
    [cancel] = requests(output, "CANCEL")
    assert (cancel.top_via.branch, cancel.cseq.seq) == (invite.top_via.branch, invite.cseq.seq)
    agent.receive(respond(cancel, 200), CALLEE, 60.1)
    output = agent.receive(respond(invite, 487, to_tag="callee"), CALLEE, 60.2)
    assert _ended(output).status == 487
    assert call_id not in agent.call_ids


def test_an_unusable_answer_is_acknowledged_then_hung_up() -> None:
    agent = UserAgent(CONFIG)
    _, invite, _ = _ring(agent)
    ok = respond(invite, 200, to_tag="callee", headers=CALLEE_CONTACT, body=sdp(pt="18"))
    output = agent.receive(ok, CALLEE, 0.5)
    assert [r.method for r in requests(output, "ACK") + requests(output, "BYE")] == ["ACK", "BYE"]
    assert _ended(output).status == 488


def test_hanging_up_a_ringing_call_cancels_it_and_gives_up_when_nothing_comes() -> None:
    agent = UserAgent(CONFIG)
    call_id, invite, _ = _ring(agent)
    agent.receive(respond(invite, 183, to_tag="callee"), CALLEE, 0.1)
    output = agent.hang_up(call_id, "server shutting down", 5.0)
    assert len(requests(output, "CANCEL")) == 1 and output.events == ()
    output = agent.on_timer(36.9)
    assert events_of(output, CallEnded) == []
    output = agent.on_timer(37.0)  # 64*T1 after the CANCEL, without a final response
    assert _ended(output).status == 408
    assert agent.call_ids == []
