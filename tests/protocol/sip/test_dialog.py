import pytest

from tests.protocol.fixtures import sip_fixture
from voice_agent.protocol.sip.dialog import (
    AnswerRetransmitter,
    Dialog,
    DialogId,
    DialogState,
    build_cancel,
)
from voice_agent.protocol.sip.message import (
    BRANCH_COOKIE,
    NameAddr,
    SipRequest,
    SipResponse,
    SipUri,
    build_response,
)

AGENT_CONTACT = NameAddr(SipUri("198.51.100.20", "agent", 5060))


def _uas_dialog(fixture: str = "trunk_compact_invite.sip") -> tuple[SipRequest, Dialog]:
    invite = SipRequest.parse(sip_fixture(fixture))
    ok = build_response(
        invite, 200, to_tag="va-7d1c2b3a", headers=[("Contact", str(AGENT_CONTACT))]
    )
    return invite, Dialog.from_uas(invite, ok, AGENT_CONTACT)


def _state(dialog: Dialog) -> DialogState:
    return dialog.state  # read afresh: mypy would narrow dialog.state across calls


def _our_invite() -> SipRequest:
    """The INVITE the agent sent that tests/data/sip/asterisk_200_ok.sip answers."""
    return SipRequest.create(
        "INVITE",
        "sip:+4930123456@203.0.113.10",
        [
            ("Via", "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK4b43c2ff8.1;rport"),
            ("Max-Forwards", "70"),
            ("From", '"Shop Agent" <sip:agent@198.51.100.20>;tag=9fxced76sl'),
            ("To", "<sip:+4930123456@203.0.113.10>"),
            ("Call-ID", "3848276298220188511@198.51.100.20"),
            ("CSeq", "1 INVITE"),
            ("Contact", str(AGENT_CONTACT)),
        ],
    )


def test_uas_dialog_from_a_trunk_invite() -> None:
    invite, dialog = _uas_dialog()
    assert dialog.id == DialogId(invite.call_id, "va-7d1c2b3a", "as5c2f1e08")
    assert dialog.remote_target == SipUri("192.0.2.77", "+4915112345678", 5060)
    assert [str(route) for route in dialog.route_set] == ["<sip:192.0.2.50;lr;ftag=as5c2f1e08>"]
    assert (dialog.remote_seq, dialog.local_seq) == (102, 0)
    assert dialog.state is DialogState.CONFIRMED
    assert dialog.local_address.tag is None and dialog.remote_address.tag is None


def test_uas_bye_goes_to_the_remote_target_through_the_route_set() -> None:
    invite, dialog = _uas_dialog()
    bye = dialog.create_bye()
    assert bye.method == "BYE"
    assert bye.request_uri == dialog.remote_target
    assert bye.headers.values("Route") == ["<sip:192.0.2.50;lr;ftag=as5c2f1e08>"]
    assert bye.from_addr.uri == invite.to_addr.uri and bye.from_addr.tag == "va-7d1c2b3a"
    assert bye.to_addr.uri == invite.from_addr.uri and bye.to_addr.tag == "as5c2f1e08"
    assert bye.call_id == invite.call_id
    assert (bye.cseq.seq, bye.cseq.method) == (1, "BYE")
    assert bye.top_via.sent_by == "198.51.100.20:5060"
    assert bye.top_via.branch is not None and bye.top_via.branch.startswith(BRANCH_COOKIE)
    assert "rport" in bye.top_via.params
    assert "Contact" not in bye.headers
    assert SipRequest.parse(bytes(bye)) == bye
    assert dialog.create_reinvite(b"v=0\r\n").cseq.seq == 2  # each new request counts up


def test_uac_dialog_reverses_the_record_route_and_acks_the_2xx() -> None:
    invite = _our_invite()
    ok = SipResponse.parse(sip_fixture("asterisk_200_ok.sip"))
    dialog = Dialog.from_uac(invite, ok)
    assert dialog.id == DialogId.of_incoming_response(ok)
    assert dialog.id.remote_tag == "ab5d8e1c-92f0-4c3b-9d6a-0f1e2d3c4b5a"
    assert [route.uri.host for route in dialog.route_set] == ["203.0.113.1", "203.0.113.2"]
    ack = dialog.create_ack(invite.cseq.seq, branch="z9hG4bKack1")
    assert (ack.cseq.seq, ack.cseq.method) == (1, "ACK")
    assert ack.uri == "sip:+4930123456@203.0.113.10:5060"
    assert ack.headers.values("Route") == [
        "<sip:203.0.113.1;lr;transport=udp>",
        "<sip:203.0.113.2;lr>",
    ]
    assert ack.top_via.branch == "z9hG4bKack1"
    assert dialog.create_bye().cseq.seq == 2
    assert dialog.local_seq == 2


def test_strict_routing_puts_the_first_route_in_the_request_uri() -> None:
    _, dialog = _uas_dialog()
    dialog.route_set = [
        NameAddr.parse("<sip:old-proxy.example;transport=udp>"),
        NameAddr.parse("<sip:p2.example;lr>"),
    ]
    bye = dialog.create_bye()
    assert bye.uri == "sip:old-proxy.example"
    assert bye.headers.values("Route") == ["<sip:p2.example;lr>", f"<{dialog.remote_target}>"]


def test_requests_from_the_peer_are_ordered_and_refresh_the_target() -> None:
    _, dialog = _uas_dialog("asterisk_invite.sip")
    reinvite = SipRequest.parse(sip_fixture("asterisk_reinvite_hold.sip"))
    assert DialogId.of_incoming_request(reinvite) == dialog.id
    reinvite.headers.set("Contact", "<sip:asterisk@203.0.113.11:5060>")
    assert dialog.receive_request(reinvite)
    assert dialog.remote_seq == 21407
    assert dialog.remote_target.host == "203.0.113.11"
    stale = SipRequest.parse(bytes(reinvite))
    stale.headers.set("CSeq", "21400 INVITE")
    assert not dialog.receive_request(stale)  # lower CSeq: answer 500
    ok = dialog.response_for(reinvite, 200, body=b"v=0\r\n", content_type="application/sdp")
    assert ok.to_addr.tag == "va-7d1c2b3a"  # the re-INVITE already carries our tag: kept once
    assert ok.headers.get_all("To") == [reinvite.header("To")]
    assert ok.contacts == [AGENT_CONTACT]
    assert ok.headers.values("Via") == reinvite.headers.values("Via")
    bye = SipRequest(headers=reinvite.headers.copy(), body=b"", method="BYE", uri=reinvite.uri)
    bye.headers.set("CSeq", "21408 BYE")
    assert dialog.receive_request(bye)
    assert dialog.state is DialogState.TERMINATED
    with pytest.raises(RuntimeError):
        dialog.create_bye()


def test_early_dialog_is_confirmed_by_the_2xx_and_ended_by_481() -> None:
    invite = _our_invite()
    ok = SipResponse.parse(sip_fixture("asterisk_200_ok.sip"))
    early_response = SipResponse.parse(bytes(ok).replace(b"200 OK", b"183 Session Progress"))
    early_response.headers.remove("Record-Route")
    dialog = Dialog.from_uac(invite, early_response)
    assert dialog.route_set == [] and _state(dialog) is DialogState.EARLY
    dialog.receive_response(ok)
    assert _state(dialog) is DialogState.CONFIRMED
    assert [route.uri.host for route in dialog.route_set] == ["203.0.113.1", "203.0.113.2"]
    bye = dialog.create_bye()
    dialog.receive_response(build_response(bye, 481))
    assert dialog.state is DialogState.TERMINATED


def test_dialog_needs_a_tag_and_one_contact() -> None:
    invite = SipRequest.parse(sip_fixture("asterisk_invite.sip"))
    with pytest.raises(ValueError, match="To tag"):
        Dialog.from_uas(invite, build_response(invite, 200), AGENT_CONTACT)
    invite.headers.remove("Contact")
    with pytest.raises(ValueError, match="one Contact"):
        Dialog.from_uas(invite, build_response(invite, 200, to_tag="x"), AGENT_CONTACT)


def test_cancel_matches_the_invite() -> None:
    invite = SipRequest.parse(sip_fixture("trunk_compact_invite.sip"))
    cancel = build_cancel(invite)
    assert cancel.uri == invite.uri
    assert cancel.headers.values("Via") == invite.headers.values("Via")[:1]
    assert (cancel.cseq.seq, cancel.cseq.method) == (102, "CANCEL")
    assert (cancel.from_addr, cancel.to_addr, cancel.call_id) == (
        invite.from_addr,
        invite.to_addr,
        invite.call_id,
    )


def test_uas_core_retransmits_the_2xx_until_the_ack() -> None:
    invite, dialog = _uas_dialog("baresip_invite.sip")
    ok = dialog.response_for(invite, 200)
    retransmitter = AnswerRetransmitter(ok, now=0.0)
    sent_at = []
    while (deadline := retransmitter.deadline) is not None and deadline < 8:
        output = retransmitter.on_timer(deadline)
        sent_at += [deadline] * len(output.send)
    assert sent_at == [0.5, 1.5, 3.5, 7.5]  # T1 doubling up to T2
    ack = dialog.create_ack(invite.cseq.seq)
    wrong = dialog.create_ack(invite.cseq.seq + 1)
    assert not retransmitter.acknowledge(wrong)
    assert retransmitter.acknowledge(ack)
    assert retransmitter.deadline is None
    assert retransmitter.on_timer(20.0).send == ()


def test_uas_core_gives_up_after_64_t1() -> None:
    invite, dialog = _uas_dialog("baresip_invite.sip")
    retransmitter = AnswerRetransmitter(dialog.response_for(invite, 200), now=100.0)
    sent = 0
    while (deadline := retransmitter.deadline) is not None:
        output = retransmitter.on_timer(deadline)
        sent += len(output.send)
        if output.timed_out:
            assert deadline == 132.0
    assert sent == 10  # 0.5, 1.5, 3.5, 7.5, 11.5 ... 31.5 s after the answer
    assert not retransmitter.acknowledged
    with pytest.raises(ValueError):
        AnswerRetransmitter(build_response(invite, 180), now=0.0)
