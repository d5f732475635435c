import pytest

from tests.protocol.fixtures import sip_fixture
from voice_agent.protocol.sip.dialog import build_cancel
from voice_agent.protocol.sip.message import SipRequest, SipResponse, build_response
from voice_agent.protocol.sip.transaction import (
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    TransactionError,
    TransactionState,
    cancelled_invite_key,
    client_transaction,
    server_transaction,
    transaction_key,
)

ClientOrServer = (
    InviteClientTransaction
    | NonInviteClientTransaction
    | InviteServerTransaction
    | NonInviteServerTransaction
)


def _state(transaction: ClientOrServer) -> TransactionState:
    return transaction.state  # read afresh: mypy would narrow transaction.state across calls


def _invite() -> SipRequest:
    return SipRequest.parse(sip_fixture("baresip_invite.sip"))


def _register() -> SipRequest:
    return SipRequest.parse(sip_fixture("baresip_register.sip"))


def _run_timers(transaction: ClientOrServer) -> tuple[list[float], float | None]:
    """Step from deadline to deadline; the times something was sent, and when it timed out."""
    sent_at: list[float] = []
    timed_out_at = None
    while (deadline := transaction.deadline) is not None:
        output = transaction.on_timer(deadline)
        sent_at += [deadline] * len(output.send)
        if output.timed_out:
            timed_out_at = deadline
    return sent_at, timed_out_at


# --- INVITE client -------------------------------------------------------------------------


def test_invite_client_retransmits_with_doubling_intervals_and_times_out_at_32_s() -> None:
    transaction = InviteClientTransaction(_invite())
    start = transaction.start(0.0)
    assert start.send == (transaction.request,) and start.deadline == 0.5
    sent_at, timed_out_at = _run_timers(transaction)
    assert sent_at == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert timed_out_at == 32.0
    assert _state(transaction) is TransactionState.TERMINATED


def test_invite_client_on_a_reliable_transport_only_waits_for_timer_b() -> None:
    transaction = InviteClientTransaction(_invite(), reliable=True)
    assert transaction.start(10.0).deadline == 42.0
    assert _run_timers(transaction) == ([], 42.0)


def test_on_timer_before_the_deadline_does_nothing() -> None:
    transaction = InviteClientTransaction(_invite())
    transaction.start(0.0)
    output = transaction.on_timer(0.4)
    assert output.send == () and not output.timed_out and output.deadline == 0.5


def test_invite_client_failure_is_acknowledged_and_retransmissions_absorbed() -> None:
    invite = _invite()
    transaction = InviteClientTransaction(invite)
    transaction.start(0.0)
    ringing = build_response(invite, 180, to_tag="srv1")
    proceeding = transaction.receive(ringing, 0.2)
    assert proceeding.deliver == (ringing,) and proceeding.deadline is None  # no A, no B
    assert _state(transaction) is TransactionState.PROCEEDING

    busy = build_response(invite, 486, to_tag="srv1")
    completed = transaction.receive(busy, 1.0)
    assert completed.deliver == (busy,)
    (ack,) = completed.send
    assert isinstance(ack, SipRequest)
    assert ack.method == "ACK" and ack.uri == invite.uri
    assert ack.top_via.branch == invite.top_via.branch  # same transaction as the INVITE
    assert ack.to_addr.tag == "srv1" and ack.from_addr == invite.from_addr
    assert (ack.cseq.seq, ack.cseq.method) == (invite.cseq.seq, "ACK")
    assert _state(transaction) is TransactionState.COMPLETED

    again = transaction.receive(busy, 1.6)
    assert again.send == (ack,) and again.deliver == ()
    assert again.deadline == 33.0  # timer D: 32 s after the final response
    assert _run_timers(transaction) == ([], None)
    assert transaction.terminated


def test_invite_client_acks_the_captured_baresip_way() -> None:
    """Our ACK for a 486 carries what baresip's own ACK carried (tests/data/sip/baresip_ack.sip)."""
    invite = _invite()
    transaction = InviteClientTransaction(invite)
    transaction.start(0.0)
    (ack,) = transaction.receive(build_response(invite, 486, to_tag="srv1"), 0.1).send
    captured = SipRequest.parse(sip_fixture("baresip_ack.sip"))
    assert isinstance(ack, SipRequest)
    for name in ("Via", "To", "From", "Call-ID", "CSeq", "Max-Forwards"):
        assert ack.headers.get(name) == captured.headers.get(name)


def test_invite_client_passes_every_2xx_up_while_accepted() -> None:
    invite = _invite()
    transaction = InviteClientTransaction(invite)
    transaction.start(0.0)
    ok = build_response(invite, 200, to_tag="srv1")
    first = transaction.receive(ok, 0.3)
    assert first.deliver == (ok,) and first.send == ()  # the TU sends the ACK for a 2xx
    assert _state(transaction) is TransactionState.ACCEPTED
    assert transaction.receive(ok, 0.8).deliver == (ok,)
    assert transaction.receive(build_response(invite, 180), 0.9).deliver == ()
    assert transaction.deadline == 32.3  # timer M
    _run_timers(transaction)
    assert transaction.terminated


def test_invite_client_failure_on_a_reliable_transport_terminates_at_once() -> None:
    invite = _invite()
    transaction = InviteClientTransaction(invite, reliable=True)
    transaction.start(0.0)
    output = transaction.receive(build_response(invite, 503, to_tag="x"), 1.0)
    assert len(output.send) == 1 and transaction.terminated and output.deadline is None


# --- non-INVITE client ---------------------------------------------------------------------


def test_non_invite_client_retransmits_up_to_t2_and_times_out() -> None:
    transaction = NonInviteClientTransaction(_register())
    transaction.start(0.0)
    sent_at, timed_out_at = _run_timers(transaction)
    assert sent_at == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert timed_out_at == 32.0


def test_non_invite_client_retransmits_every_t2_once_proceeding() -> None:
    register = _register()
    transaction = NonInviteClientTransaction(register)
    transaction.start(0.0)
    assert len(transaction.on_timer(0.5).send) == 1
    trying = build_response(register, 100)
    assert transaction.receive(trying, 0.7).deliver == (trying,)
    assert _state(transaction) is TransactionState.PROCEEDING
    assert len(transaction.on_timer(1.5).send) == 1
    assert transaction.deadline == 5.5  # T2 after the last retransmission
    ok = build_response(register, 200, to_tag="r1")
    done = transaction.receive(ok, 6.0)
    assert done.deliver == (ok,) and done.deadline == 11.0  # timer K = T4
    assert transaction.receive(ok, 6.5).deliver == ()  # absorbed
    assert _run_timers(transaction) == ([], None)
    assert transaction.terminated


def test_non_invite_client_on_a_reliable_transport() -> None:
    register = _register()
    transaction = NonInviteClientTransaction(register, reliable=True)
    assert transaction.start(0.0).deadline == 32.0
    transaction.receive(build_response(register, 401, to_tag="r1"), 0.1)
    assert transaction.terminated


# --- INVITE server -------------------------------------------------------------------------


def test_invite_server_answers_trying_and_repeats_the_last_provisional() -> None:
    invite = _invite()
    transaction = InviteServerTransaction(invite)
    (trying,) = transaction.start(0.0).send
    assert isinstance(trying, SipResponse) and trying.status == 100
    assert trying.to_addr.tag is None
    assert transaction.receive(invite, 0.5).send == (trying,)
    ringing = build_response(invite, 180, to_tag="a1")
    assert transaction.respond(ringing, 0.6).send == (ringing,)
    assert transaction.receive(invite, 1.0).send == (ringing,)
    assert transaction.deadline is None


def test_invite_server_retransmits_a_failure_until_acknowledged() -> None:
    invite = _invite()
    transaction = InviteServerTransaction(invite)
    transaction.start(0.0)
    busy = build_response(invite, 486, to_tag="a1")
    transaction.respond(busy, 0.0)
    assert transaction.on_timer(0.5).send == (busy,)  # timer G
    assert transaction.on_timer(1.5).send == (busy,)
    assert transaction.receive(invite, 2.0).send == (busy,)  # a retransmitted INVITE
    ack = SipRequest.parse(sip_fixture("baresip_ack.sip"))
    confirmed = transaction.receive(ack, 2.1)
    assert confirmed.send == () and confirmed.deliver == ()  # the ACK of a failure stays here
    assert _state(transaction) is TransactionState.CONFIRMED
    assert confirmed.deadline == pytest.approx(7.1)  # timer I = T4
    assert transaction.receive(ack, 3.0).send == ()
    assert _run_timers(transaction) == ([], None)
    assert transaction.terminated


def test_invite_server_gives_up_without_ack_at_timer_h() -> None:
    invite = _invite()
    transaction = InviteServerTransaction(invite)
    transaction.start(0.0)
    transaction.respond(build_response(invite, 603, to_tag="a1"), 0.0)
    sent_at, timed_out_at = _run_timers(transaction)
    assert sent_at == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert timed_out_at == 32.0


def test_invite_server_leaves_2xx_retransmission_to_the_tu() -> None:
    invite = _invite()
    transaction = InviteServerTransaction(invite)
    transaction.start(0.0)
    ok = build_response(invite, 200, to_tag="a1")
    assert transaction.respond(ok, 1.0).send == (ok,)
    assert _state(transaction) is TransactionState.ACCEPTED
    assert transaction.on_timer(1.5).send == ()  # no timer G for a 2xx
    assert transaction.receive(invite, 1.6).send == ()  # INVITE copies are absorbed
    assert transaction.respond(ok, 1.5).send == (ok,)  # the TU's own retransmission
    ack = SipRequest.parse(sip_fixture("baresip_ack.sip"))
    assert transaction.receive(ack, 1.7).deliver == (ack,)
    assert transaction.deadline == 33.0  # timer L
    _run_timers(transaction)
    assert transaction.terminated


def test_invite_server_refuses_responses_out_of_turn() -> None:
    invite = _invite()
    transaction = InviteServerTransaction(invite)
    transaction.start(0.0)
    transaction.respond(build_response(invite, 486, to_tag="a1"), 0.0)
    with pytest.raises(TransactionError, match="cannot send 200 in state completed"):
        transaction.respond(build_response(invite, 200, to_tag="a1"), 0.1)
    with pytest.raises(TransactionError):
        InviteServerTransaction(_register())


# --- non-INVITE server ---------------------------------------------------------------------


def test_non_invite_server_absorbs_retransmissions_and_repeats_its_answer() -> None:
    register = _register()
    transaction = NonInviteServerTransaction(register)
    assert transaction.start(0.0).send == ()
    assert transaction.receive(register, 0.5).send == ()  # nothing to repeat yet
    trying = build_response(register, 100)
    transaction.respond(trying, 0.6)
    assert transaction.receive(register, 0.7).send == (trying,)
    challenge = build_response(register, 401, to_tag="r1")
    assert transaction.respond(challenge, 1.0).deadline == 33.0  # timer J
    assert transaction.receive(register, 1.5).send == (challenge,)
    assert _state(transaction) is TransactionState.COMPLETED
    with pytest.raises(TransactionError):
        transaction.respond(build_response(register, 200, to_tag="r1"), 2.0)
    assert _run_timers(transaction) == ([], None)
    assert transaction.terminated
    assert transaction.receive(register, 40.0).send == ()


def test_non_invite_server_on_a_reliable_transport_ends_with_its_answer() -> None:
    register = _register()
    transaction = NonInviteServerTransaction(register, reliable=True)
    transaction.start(0.0)
    transaction.respond(build_response(register, 200, to_tag="r1"), 0.1)
    assert transaction.terminated


# --- matching ------------------------------------------------------------------------------


def test_keys_match_requests_responses_acks_and_cancels() -> None:
    invite = _invite()
    key = transaction_key(invite)
    assert key == ("z9hG4bK5616a08598812ded", "127.0.0.1:5070", "INVITE")
    assert transaction_key(build_response(invite, 180)) == key
    assert transaction_key(SipRequest.parse(sip_fixture("baresip_ack.sip"))) == key
    cancel = build_cancel(invite)
    assert transaction_key(cancel) != key
    assert cancelled_invite_key(cancel) == key
    register = _register()
    assert transaction_key(register)[2] == "REGISTER"


def test_keys_for_pre_rfc3261_branches_use_dialog_fields() -> None:
    invite = _invite()
    invite.headers.set("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=old1")
    other = SipRequest.parse(bytes(invite))
    other.headers.set("CSeq", "54590 INVITE")
    assert transaction_key(invite) != transaction_key(other)
    assert transaction_key(invite)[0].startswith("e41f110ff3bb90ba|f0da06139a26e5d8|54589")


def test_factories_pick_the_kind() -> None:
    assert isinstance(client_transaction(_invite()), InviteClientTransaction)
    assert isinstance(client_transaction(_register()), NonInviteClientTransaction)
    assert isinstance(server_transaction(_invite()), InviteServerTransaction)
    assert isinstance(server_transaction(_register()), NonInviteServerTransaction)
