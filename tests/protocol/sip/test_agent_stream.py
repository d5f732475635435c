"""The user agent configured for a reliable transport (TCP, TLS): Via and Contact say so, and
its transactions send each message once (RFC 3261 §17: no timers A, E, G); SRTP offers are
answered or refused by the media's policy."""

from __future__ import annotations

import base64
from dataclasses import replace

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
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.message import SipResponse

TLS_CONFIG = replace(CONFIG, transport="TLS")
KEY = base64.b64encode(bytes(range(30))).decode()


def _savp_offer() -> bytes:
    plain = sdp().decode()
    secure = plain.replace("RTP/AVP", "RTP/SAVP")
    return (secure + f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\n").encode()


def test_over_tls_our_contact_says_tls_and_the_bye_we_send_is_not_retransmitted() -> None:
    agent = UserAgent(TLS_CONFIG)
    phone = Phone()
    ok = answered_call(agent, phone)
    [contact] = ok.contacts
    assert contact.uri.params.get("transport") == "tls"
    output = agent.hang_up(phone.call_id, "done", 1.0)
    [bye] = requests(output, "BYE")
    assert bye.top_via.transport == "TLS"
    for now in (1.6, 2.1, 3.1, 5.1, 9.1):  # over UDP the BYE would go again at each of these
        assert agent.on_timer(now).send == ()


def test_over_udp_the_same_bye_is_retransmitted() -> None:
    agent = UserAgent(CONFIG)
    phone = Phone()
    answered_call(agent, phone)
    agent.hang_up(phone.call_id, "done", 1.0)
    assert [m.method for m in messages(agent.on_timer(1.6))] == ["BYE"]  # type: ignore[union-attr]


def test_over_tls_a_refusal_is_sent_once_and_the_transaction_does_not_wait_for_copies() -> None:
    agent = UserAgent(TLS_CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite()), PHONE, 0.0)
    output = agent.refuse(phone.call_id, 486, "busy", 0.0)
    assert statuses(output) == [486]
    assert agent.on_timer(0.6).send == ()  # timer G does not run over a reliable transport
    assert agent.on_timer(1.6).send == ()


def test_an_srtp_offer_is_answered_with_a_key_when_the_media_allows_it() -> None:
    agent = UserAgent(TLS_CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite(_savp_offer())), PHONE, 0.0)
    media = replace(local_media(), srtp="optional", master_key=bytes(30))
    agent.ring(phone.call_id, media, 0.0)
    [ok] = [m for m in messages(agent.answer(phone.call_id, 0.0)) if isinstance(m, SipResponse)]
    assert ok.status == 200
    assert b"m=audio 20000 RTP/SAVP 0 101" in ok.body
    assert b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in ok.body


def test_an_srtp_offer_is_refused_with_488_when_srtp_is_off() -> None:
    agent = UserAgent(TLS_CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite(_savp_offer())), PHONE, 0.0)
    output = agent.ring(phone.call_id, local_media(), 0.0)  # srtp "off"
    assert statuses(output) == [488]


def test_a_plain_offer_is_refused_with_488_when_srtp_is_required() -> None:
    agent = UserAgent(TLS_CONFIG)
    phone = Phone()
    agent.receive(bytes(phone.invite()), PHONE, 0.0)
    media = replace(local_media(), srtp="required", master_key=bytes(30))
    [refusal] = [
        m for m in messages(agent.ring(phone.call_id, media, 0.0)) if isinstance(m, SipResponse)
    ]
    assert refusal.status == 488
    assert "SRTP is required" in (refusal.headers.get("Warning") or "")
