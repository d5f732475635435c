"""The SIP user agent driven with bytes and stepped times only: no sockets, no clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.protocol.sip.ua_peer import (
    CONFIG,
    PHONE,
    Phone,
    answered_call,
    local_media,
    messages,
    requests,
    sdp,
    statuses,
)
from voice_agent.protocol.sdp import Direction
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_calls import Refusal
from voice_agent.protocol.sip.agent_events import (
    Address,
    CallAnswered,
    CallEnded,
    CallHeld,
    CallOffered,
    CallResumed,
    CallRinging,
    Digit,
    MalformedMessage,
    MediaChanged,
    Output,
)
from voice_agent.protocol.sip.message import SipRequest, SipResponse, build_response, new_tag


def _only(output: Output, kind: type[object]) -> object:
    found = [event for event in output.events if isinstance(event, kind)]
    assert len(found) == 1, output.events
    return found[0]


# --- calls in --------------------------------------------------------------------------------


def test_a_call_in_is_offered_rung_answered_acknowledged_and_ended_by_bye() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    invite = phone.invite()
    output = agent.receive(bytes(invite), PHONE, 0.0)
    assert statuses(output) == [100]
    offered = _only(output, CallOffered)
    assert isinstance(offered, CallOffered)
    assert (offered.call_id, offered.caller_id, offered.dialled) == (
        phone.call_id,
        "alice@127.0.0.1",
        "support",
    )
    assert offered.offer is not None

    output = agent.ring(phone.call_id, local_media(), 0.0)
    assert statuses(output) == [180]
    ringing = _only(output, CallRinging)
    assert isinstance(ringing, CallRinging)
    assert (ringing.params.codec.name, ringing.params.remote_port) == ("PCMU", 10_018)

    output = agent.answer(phone.call_id, 0.5)
    [ok] = messages(output)
    assert isinstance(ok, SipResponse) and ok.status == 200
    assert b"m=audio 20000 RTP/AVP 0 101" in ok.body
    assert output.send[0].destination == PHONE
    answered = _only(output, CallAnswered)
    assert isinstance(answered, CallAnswered)
    assert (answered.peer, answered.outbound) == (PHONE, False)
    assert output.deadline == pytest.approx(1.0)  # the 200 again after T1 unless acknowledged

    phone.learn(ok)
    assert agent.receive(bytes(phone.ack(invite)), PHONE, 0.6).send == ()
    assert agent.on_timer(5.0).send == ()  # acknowledged: no more copies of the 200

    output = agent.receive(bytes(phone.request("BYE")), PHONE, 6.0)
    assert statuses(output) == [200]
    ended = _only(output, CallEnded)
    assert isinstance(ended, CallEnded)
    assert (ended.reason, ended.status) == ("the caller hung up", None)
    assert agent.call_ids == []


def test_a_retransmitted_invite_is_absorbed_by_its_transaction() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    invite = bytes(phone.invite())
    agent.receive(invite, PHONE, 0.0)
    again = agent.receive(invite, PHONE, 0.4)
    assert statuses(again) == [100] and again.events == ()
    agent.ring(phone.call_id, local_media(), 0.5)
    assert statuses(agent.receive(invite, PHONE, 0.9)) == [180]
    agent.answer(phone.call_id, 1.0)
    late = agent.receive(invite, PHONE, 1.1)
    assert late.send == () and late.events == ()
    assert agent.call_ids == [phone.call_id]


def test_the_200_is_retransmitted_until_the_ack_and_the_call_ended_when_none_comes() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite()), PHONE, 0.0)
    agent.ring(phone.call_id, local_media(), 0.0)
    output = agent.answer(phone.call_id, 0.0)
    copies: list[float] = []
    ended: list[CallEnded] = []
    byes: list[SipRequest] = []
    while not ended:
        assert output.deadline is not None and output.deadline <= 32.0
        now = output.deadline
        output = agent.on_timer(now)
        copies += [now] * statuses(output).count(200)
        byes += requests(output, "BYE")
        ended += [e for e in output.events if isinstance(e, CallEnded)]
    # T1, then doubling up to T2 (4 s), until 64*T1 = 32 s
    assert copies == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert ended[0].reason == "the caller never acknowledged the answer (no ACK)"
    [bye] = byes
    assert bye.call_id == phone.call_id
    assert agent.call_ids == []


def test_cancel_before_the_answer_ends_the_call_with_487() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    invite = phone.invite()
    agent.receive(bytes(invite), PHONE, 0.0)
    agent.ring(phone.call_id, local_media(), 0.0)
    cancel = phone.request(
        "CANCEL", branch=invite.top_via.branch, seq=invite.cseq.seq, in_dialog=False
    )
    output = agent.receive(bytes(cancel), PHONE, 1.0)
    assert statuses(output) == [200, 487]
    ended = _only(output, CallEnded)
    assert isinstance(ended, CallEnded) and ended.status == 487
    refusal = messages(output)[1]
    assert isinstance(refusal, SipResponse)
    phone.learn(refusal)
    ack = phone.request("ACK", branch=invite.top_via.branch, seq=invite.cseq.seq)
    assert agent.receive(bytes(ack), PHONE, 1.1).send == ()
    assert agent.on_timer(2.0).send == ()  # acknowledged: the 487 is not sent again
    assert agent.answer(phone.call_id, 2.0).send == ()  # too late to answer
    assert agent.call_ids == []


def test_cancel_of_an_unknown_invite_is_answered_481() -> None:
    agent = UserAgent(CONFIG)
    cancel = Phone().request("CANCEL", in_dialog=False)
    assert statuses(agent.receive(bytes(cancel), PHONE, 0.0)) == [481]


def test_a_refusal_is_retransmitted_until_acknowledged_then_given_up() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite()), PHONE, 0.0)
    output = agent.refuse(phone.call_id, 486, "2 calls active", 0.0)
    assert statuses(output) == [486]
    ended = _only(output, CallEnded)
    assert isinstance(ended, CallEnded) and (ended.status, ended.reason) == (486, "2 calls active")
    assert statuses(agent.on_timer(0.5)) == [486]  # timer G
    assert statuses(agent.on_timer(1.5)) == [486]
    agent.on_timer(32.0)  # timer H: the caller is gone
    assert agent.on_timer(40.0).deadline is None


def test_a_second_invite_for_a_call_in_progress_is_refused_482() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite()), PHONE, 0.0)
    output = agent.receive(bytes(phone.invite()), PHONE, 0.1)  # a new branch: not a copy
    assert statuses(output) == [100, 482] and output.events == ()


def test_an_invite_without_an_offer_gets_ours_in_the_200_and_the_answer_in_the_ack() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    invite = phone.invite(b"")
    offered = _only(agent.receive(bytes(invite), PHONE, 0.0), CallOffered)
    assert isinstance(offered, CallOffered) and offered.offer is None
    ringing = _only(agent.ring(phone.call_id, local_media(), 0.0), CallRinging)
    assert isinstance(ringing, CallRinging)
    assert ringing.params.direction is Direction.RECVONLY  # nothing is sent before the answer
    [ok] = messages(agent.answer(phone.call_id, 0.0))
    assert isinstance(ok, SipResponse) and b"a=sendrecv" in ok.body
    phone.learn(ok)
    output = agent.receive(bytes(phone.ack(invite, sdp(port=10_500))), PHONE, 0.1)
    changed = _only(output, MediaChanged)
    assert isinstance(changed, MediaChanged) and changed.params.remote_port == 10_500


def test_an_offer_without_a_common_codec_is_refused_488() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite(sdp(pt="18"))), PHONE, 0.0)
    output = agent.ring(phone.call_id, local_media(), 0.0)
    assert statuses(output) == [488]
    ended = _only(output, CallEnded)
    assert isinstance(ended, CallEnded) and ended.status == 488


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [("text/plain", b"hello", 415), ("application/sdp", b"not sdp at all", 400)],
)
def test_an_unreadable_offer_is_refused(content_type: str, body: bytes, status: int) -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    invite = phone.request("INVITE", body, content_type, in_dialog=False)
    output = agent.receive(bytes(invite), PHONE, 0.0)
    assert statuses(output) == [100, status] and output.events == ()


def test_the_app_may_refuse_and_hang_up_an_offered_call() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite()), PHONE, 0.0)
    output = agent.hang_up(phone.call_id, "server shutting down", 0.0)
    assert statuses(output) == [480]
    assert agent.call_ids == []


# --- within a call ---------------------------------------------------------------------------


def test_re_invites_put_the_call_on_hold_and_take_it_off() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    answered_call(agent, phone)
    seen: list[str] = []
    for step, (direction, address) in enumerate(
        [
            ("sendonly", "127.0.0.1"),
            ("inactive", "127.0.0.1"),
            ("sendrecv", "127.0.0.1"),
            ("sendrecv", "0.0.0.0"),  # RFC 2543 hold, from old PBXs
            ("sendrecv", "127.0.0.1"),
        ]
    ):
        now = 10.0 * (step + 1)
        reinvite = phone.request("INVITE", sdp(direction, address))
        output = agent.receive(bytes(reinvite), PHONE, now)
        assert statuses(output) == [100, 200]
        assert any(isinstance(e, MediaChanged) for e in output.events)
        seen += [type(e).__name__ for e in output.events if isinstance(e, CallHeld | CallResumed)]
        agent.receive(bytes(phone.ack(reinvite)), PHONE, now)
        # the answer says what the agent does meanwhile: hears only, or nothing at all
        answered = {"sendonly": "recvonly", "inactive": "inactive"}.get(direction, "sendrecv")
        if address == "0.0.0.0":
            answered = "recvonly"  # nowhere to send to
        ok = messages(output)[1]
        assert isinstance(ok, SipResponse) and f"a={answered}".encode() in ok.body
    assert seen == ["CallHeld", "CallResumed", "CallHeld", "CallResumed"]
    call = agent.call(phone.call_id)
    assert call is not None and call.local.session_version == 6  # one new version per answer


def test_a_bye_for_no_call_is_answered_481_and_out_of_order_cseq_500() -> None:
    agent = UserAgent(CONFIG)
    stranger = Phone(agent_tag="nosuchtag")
    assert statuses(agent.receive(bytes(stranger.request("BYE")), PHONE, 0.0)) == [481]
    phone = Phone()
    answered_call(agent, phone)
    stale = phone.request("BYE", seq=1)
    assert statuses(agent.receive(bytes(stale), PHONE, 1.0)) == [500]
    assert agent.call_ids == [phone.call_id]


@pytest.mark.parametrize(
    ("content_type", "body", "digit"),
    [
        ("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n", "5"),
        ("application/dtmf-relay", b"Signal=11\r\nDuration=160\r\n", "#"),
        ("application/dtmf", b"*", "*"),
    ],
)
def test_info_carries_keypad_digits(content_type: str, body: bytes, digit: str) -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    answered_call(agent, phone)
    output = agent.receive(bytes(phone.request("INFO", body, content_type)), PHONE, 1.0)
    assert statuses(output) == [200]
    assert output.events == (Digit(phone.call_id, digit),)


def test_info_without_a_digit_or_outside_a_call_is_refused() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    answered_call(agent, phone)
    text = phone.request("INFO", b"hello", "text/plain")
    assert statuses(agent.receive(bytes(text), PHONE, 1.0)) == [415]
    outside = Phone().request("INFO", b"Signal=1", "application/dtmf-relay", in_dialog=False)
    assert statuses(agent.receive(bytes(outside), PHONE, 1.0)) == [481]


def test_we_hang_up_with_bye_and_the_call_ends_at_once() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    answered_call(agent, phone)
    output = agent.hang_up(phone.call_id, "agent hung up", 5.0)
    [bye] = requests(output, "BYE")
    assert output.send[0].destination == PHONE
    assert (bye.from_addr.tag, bye.to_addr.tag) == (phone.agent_tag, phone.tag)
    ended = _only(output, CallEnded)
    assert isinstance(ended, CallEnded) and ended.reason == "agent hung up"
    assert statuses(agent.receive(bytes(build_response(bye, 200)), PHONE, 5.1)) == []
    assert agent.hang_up(phone.call_id, "again", 6.0).send == ()  # once


# --- out of dialog ---------------------------------------------------------------------------


def test_options_lists_what_we_serve() -> None:
    agent = UserAgent(CONFIG)
    output = agent.receive(bytes(Phone().request("OPTIONS", in_dialog=False)), PHONE, 0.0)
    [ok] = messages(output)
    assert isinstance(ok, SipResponse) and ok.status == 200
    assert ok.headers.get("Allow") == "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, NOTIFY"


def test_options_get_503_with_retry_after_while_the_shell_takes_no_calls() -> None:
    taking = [True]
    config = replace(CONFIG, accepting=lambda: taking[0], retry_after_s=45)
    agent = UserAgent(config)
    phone = Phone()

    def probe(now: float) -> SipResponse:
        options = phone.request("OPTIONS", in_dialog=False)
        [answer] = messages(agent.receive(bytes(options), PHONE, now))
        assert isinstance(answer, SipResponse)
        return answer

    assert probe(0.0).status == 200
    taking[0] = False  # full, or draining
    unavailable = probe(1.0)
    assert (unavailable.status, unavailable.headers.get("Retry-After")) == (503, "45")
    assert unavailable.to_addr.tag
    taking[0] = True
    assert probe(2.0).status == 200


def test_options_within_a_call_are_answered_200_even_when_taking_no_calls() -> None:
    taking = [True]
    agent = UserAgent(replace(CONFIG, accepting=lambda: taking[0]))
    phone = Phone()
    answered_call(agent, phone)
    taking[0] = False
    assert statuses(agent.receive(bytes(phone.request("OPTIONS")), PHONE, 3.0)) == [200]


def test_a_refusal_carries_the_retry_after_it_is_given() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite()), PHONE, 0.0)
    [refused] = messages(agent.refuse(phone.call_id, 503, "all 2 lines are busy", 0.0, 30))
    assert isinstance(refused, SipResponse)
    assert (refused.status, refused.headers.get("Retry-After")) == (503, "30")


@pytest.mark.parametrize(
    ("method", "extra", "status"),
    [
        ("SUBSCRIBE", (), 405),
        ("FROBNICATE", (), 501),
        ("OPTIONS", (("Require", "100rel"),), 420),
        ("BYE", (("Max-Forwards", "0"),), 483),
    ],
)
def test_what_we_do_not_serve_is_refused(
    method: str, extra: tuple[tuple[str, str], ...], status: int
) -> None:
    agent = UserAgent(CONFIG)
    request = Phone().request(method, in_dialog=False, extra=extra)
    if extra and extra[0][0] == "Max-Forwards":
        request.headers.set("Max-Forwards", "0")
    assert statuses(agent.receive(bytes(request), PHONE, 0.0)) == [status]


def test_the_shell_screens_requests_from_outside_any_dialog() -> None:
    def screen(request: SipRequest, source: Address) -> Refusal | None:
        if source[0] == "203.0.113.9":
            return build_response(request, 403, to_tag=new_tag()), "not an allowed network"
        return None

    agent = UserAgent(CONFIG, screen)
    phone = Phone(address=("203.0.113.9", 5060))
    output = agent.receive(bytes(phone.invite()), phone.address, 0.0)
    assert statuses(output) == [100, 403] and output.events == ()
    assert output.send[-1].destination == ("203.0.113.9", 5060)
    friend = Phone()
    assert any(
        isinstance(e, CallOffered) for e in agent.receive(bytes(friend.invite()), PHONE, 0.0).events
    )


def test_malformed_input_is_answered_400_or_dropped_without_harming_other_calls() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    answered_call(agent, phone)
    readable_head = (
        b"INVITE sip:support@127.0.0.1 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbad1\r\n"
        b"From: <sip:mallory@127.0.0.1>;tag=1\r\n"
        b"To: <sip:support@127.0.0.1>\r\n"
        b"Call-ID: broken-1\r\n"
        b"CSeq: one INVITE\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    output = agent.receive(readable_head, PHONE, 1.0)
    [refusal] = output.send  # it copies the unreadable CSeq, so it is read as bytes
    assert refusal.data.startswith(b"SIP/2.0 400 Bad Request\r\n")
    assert refusal.destination == PHONE
    assert any(isinstance(e, MalformedMessage) for e in output.events)
    noise = agent.receive(b"\x00\xff\x13 not SIP at all", PHONE, 1.1)
    assert noise.send == ()
    assert [type(e) for e in noise.events] == [MalformedMessage]
    keepalive = agent.receive(b"\r\n\r\n", PHONE, 1.2)
    assert (keepalive.send, keepalive.events) == ((), ())
    output = agent.receive(bytes(phone.request("BYE")), PHONE, 2.0)
    assert statuses(output) == [200] and agent.call_ids == []


def test_an_invite_whose_contact_cannot_be_read_is_answered_400() -> None:
    agent = UserAgent(CONFIG)
    invite = Phone().invite()
    invite.headers.set("Contact", "<sip:alice@[nonsense")
    output = agent.receive(bytes(invite), PHONE, 0.0)
    assert statuses(output) == [400]
    assert [type(e) for e in output.events] == [MalformedMessage]
    assert agent.call_ids == []


def test_a_header_the_screen_cannot_read_is_answered_400_through_the_transaction() -> None:
    def screen(request: SipRequest, source: Address) -> Refusal | None:
        raise ValueError("unreadable Authorization header")

    agent = UserAgent(CONFIG, screen)
    output = agent.receive(bytes(Phone().invite()), PHONE, 0.0)
    assert statuses(output) == [100, 400]
    assert [type(e) for e in output.events] == [MalformedMessage]
    assert statuses(agent.on_timer(0.5)) == [400]  # retransmitted until the ACK (timer G)
    agent.on_timer(32.0)
    assert agent.on_timer(40.0).deadline is None  # and then forgotten (timer H)
