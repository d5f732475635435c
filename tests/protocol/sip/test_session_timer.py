"""Session-Expires and Min-SE read and agreed (RFC 4028), and the per-call clock."""

from __future__ import annotations

import pytest

from tests.protocol.sip.ua_peer import Phone, respond
from voice_agent.protocol.sip.message import SipParseError, SipResponse, parse_message
from voice_agent.protocol.sip.session_timer import (
    Agreement,
    SessionExpires,
    SessionTimer,
    TooSmall,
    agree_to_request,
    agree_to_response,
    read_min_se,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1800", SessionExpires(1800)),
        ("90;refresher=uac", SessionExpires(90, "uac")),
        ("120 ; Refresher=UAS", SessionExpires(120, "uas")),
    ],
)
def test_session_expires_is_read(value: str, expected: SessionExpires) -> None:
    request = Phone().request("INVITE", extra=(("Session-Expires", value),), in_dialog=False)
    assert SessionExpires.read(request) == expected


def test_the_compact_form_x_is_read_too() -> None:
    request = Phone().request("INVITE", extra=(("x", "300;refresher=uac"),), in_dialog=False)
    assert SessionExpires.read(request) == SessionExpires(300, "uac")


@pytest.mark.parametrize("value", ["soon", "0", "²", "90;refresher=proxy", "-5"])
def test_a_bad_session_expires_says_what_is_wrong(value: str) -> None:
    request = Phone().request("INVITE", extra=(("Session-Expires", value),), in_dialog=False)
    with pytest.raises(SipParseError, match="Session-Expires"):
        SessionExpires.read(request)


def test_a_bad_min_se_says_what_is_wrong() -> None:
    request = Phone().request("INVITE", extra=(("Min-SE", "lots"),), in_dialog=False)
    with pytest.raises(SipParseError, match="Min-SE"):
        read_min_se(request)


def _agree(*headers: tuple[str, str]) -> Agreement | TooSmall | None:
    request = Phone().request("INVITE", extra=headers, in_dialog=False)
    return agree_to_request(request, session_expires_s=1800, min_se_s=90)


def test_agreement_to_requests() -> None:
    supported = ("Supported", "timer")
    assert _agree() is None
    assert _agree(supported) == Agreement(1800, we_refresh=False)
    assert _agree(supported, ("Session-Expires", "89")) == TooSmall(90)
    assert _agree(supported, ("Session-Expires", "600;refresher=uas")) == Agreement(600, True)
    # the caller's Min-SE is a floor too; ours caps what it asks for
    assert _agree(supported, ("Session-Expires", "9000"), ("Min-SE", "3600")) == Agreement(
        3600, False
    )
    # a proxy asked for timers the caller does not support: we refresh, and Require nothing
    agreement = _agree(("Session-Expires", "300;refresher=uac"))
    assert agreement == Agreement(300, we_refresh=True, peer_supports=False)
    assert isinstance(agreement, Agreement)
    assert agreement.response_headers() == [("Session-Expires", "300;refresher=uas")]


def test_agreement_read_from_a_response_to_our_request() -> None:
    invite = Phone().request("INVITE", in_dialog=False)

    def response(*headers: tuple[str, str]) -> SipResponse:
        message = parse_message(respond(invite, 200, to_tag="t", headers=headers))
        assert isinstance(message, SipResponse)
        return message

    assert agree_to_response(response()) is None
    assert agree_to_response(response(("Session-Expires", "90;refresher=uac"))) == Agreement(
        90, we_refresh=True, peer_supports=False
    )
    assert agree_to_response(response(("Session-Expires", "90;refresher=uas"))) == Agreement(
        90, we_refresh=False, peer_supports=False
    )


def test_the_clock_refreshes_at_half_and_expires_before_the_interval() -> None:
    ours = SessionTimer(Agreement(1800, we_refresh=True), use_update=False, now=100.0)
    assert ours.deadline == 1000.0 and not ours.refresh_due(999.0) and ours.refresh_due(1000.0)
    ours.refresh_sent()
    assert ours.deadline == 100.0 + 1800 - 32  # no answer: the call ends before it expires
    theirs = SessionTimer(Agreement(90, we_refresh=False), use_update=False, now=0.0)
    assert theirs.deadline == 60.0 and not theirs.expired(59.9) and theirs.expired(60.0)
    theirs.restart(Agreement(90, we_refresh=False), now=50.0)
    assert theirs.deadline == 110.0
