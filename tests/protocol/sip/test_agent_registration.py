"""Registration through the SIP user agent: digest, refresh before expiry, retries, 423."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.protocol.sip.ua_peer import AGENT, CONFIG, TRUNK, events_of, requests, respond
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_calls import AgentConfig
from voice_agent.protocol.sip.agent_events import (
    Address,
    Output,
    Registered,
    RegistrationFailed,
    Unregistered,
)
from voice_agent.protocol.sip.auth import AuthOutcome, DigestServer
from voice_agent.protocol.sip.message import SipRequest

REGISTRAR: Address = ("127.0.0.1", 5080)
OUR_CONTACT = f"<sip:{TRUNK.username}@{AGENT[0]}:{AGENT[1]}>"


def _register(agent: UserAgent, now: float = 0.0) -> SipRequest:
    output = agent.register(REGISTRAR, now)
    [register] = requests(output, "REGISTER")
    assert output.send[0].destination == REGISTRAR
    return register


def _registered(output: Output) -> Registered:
    [registered] = events_of(output, Registered)
    assert isinstance(registered, Registered)
    return registered


def test_register_answers_the_challenge_and_refreshes_at_half_the_lifetime() -> None:
    agent = UserAgent(CONFIG)
    register = _register(agent)
    assert register.headers.get("Expires") == "300"
    assert register.uri == "sip:127.0.0.1:5080"
    registrar = DigestServer("trunk", b"r" * 32, algorithms=("SHA-256", "MD5"))
    output = agent.receive(bytes(registrar.challenge(register, 0.1, to_tag="r1")), REGISTRAR, 0.1)
    [authorized] = requests(output, "REGISTER")
    assert registrar.verify(authorized, 0.1, {"shop": "s3cret"}.get).outcome is AuthOutcome.OK
    granted = (("Contact", f"{OUR_CONTACT};expires=120"),)
    output = agent.receive(respond(authorized, 200, headers=granted), REGISTRAR, 0.2)
    registered = _registered(output)
    assert (registered.expires_s, registered.until, registered.algorithm) == (120, 120.2, "SHA-256")
    assert output.deadline == pytest.approx(5.1)  # timers K of the two REGISTER transactions
    assert agent.on_timer(5.1).deadline == pytest.approx(5.2)
    assert agent.on_timer(5.2).deadline == pytest.approx(60.2)  # then the refresh

    assert agent.on_timer(60.1).send == ()
    [refresh] = requests(agent.on_timer(60.2), "REGISTER")
    assert refresh.call_id == register.call_id
    assert refresh.cseq.seq == authorized.cseq.seq + 1
    assert refresh.from_addr.tag == register.from_addr.tag


def test_a_refused_registration_is_retried_after_retry_s() -> None:
    agent = UserAgent(CONFIG)
    register = _register(agent)
    output = agent.receive(respond(register, 403), REGISTRAR, 1.0)
    [failed] = events_of(output, RegistrationFailed)
    assert isinstance(failed, RegistrationFailed)
    assert (failed.reason, failed.retry_at) == ("refused: 403 Forbidden", 31.0)
    assert agent.on_timer(30.9).send == ()
    assert len(requests(agent.on_timer(31.0), "REGISTER")) == 1


def test_a_silent_registrar_times_out_and_is_retried() -> None:
    agent = UserAgent(CONFIG)
    _register(agent)
    output = agent.on_timer(32.0)  # timer F
    [failed] = events_of(output, RegistrationFailed)
    assert isinstance(failed, RegistrationFailed) and failed.retry_at == 62.0


def test_interval_too_brief_asks_again_at_once_for_the_minimum() -> None:
    agent = UserAgent(CONFIG)
    register = _register(agent)
    output = agent.receive(respond(register, 423, headers=(("Min-Expires", "600"),)), REGISTRAR, 1)
    [again] = requests(output, "REGISTER")
    assert again.headers.get("Expires") == "600"
    output = agent.receive(respond(again, 200, headers=(("Expires", "600"),)), REGISTRAR, 2.0)
    assert _registered(output).expires_s == 600


@pytest.mark.parametrize("minimum", ["\u00b2", "600s", ""])
def test_an_unreadable_min_expires_fails_the_registration_clearly(minimum: str) -> None:
    agent = UserAgent(CONFIG)
    register = _register(agent)
    response = respond(register, 423, headers=(("Min-Expires", minimum),))
    output = agent.receive(response, REGISTRAR, 1)
    assert requests(output, "REGISTER") == []
    [failed] = events_of(output, RegistrationFailed)
    assert isinstance(failed, RegistrationFailed) and "423" in failed.reason


def test_a_granted_expires_that_is_not_a_number_keeps_the_asked_lifetime() -> None:
    agent = UserAgent(CONFIG)
    register = _register(agent)
    asked = int(register.headers.get("Expires") or 0)
    output = agent.receive(respond(register, 200, headers=(("Expires", "\u00b2"),)), REGISTRAR, 1)
    assert _registered(output).expires_s == asked


def test_a_challenge_for_another_realm_is_not_answered() -> None:
    config = replace(CONFIG, trunk=replace(TRUNK, realm="ours"))
    agent = UserAgent(config)
    register = _register(agent)
    other = DigestServer("theirs", b"r" * 32)
    output = agent.receive(bytes(other.challenge(register, 0.1, to_tag="r1")), REGISTRAR, 0.1)
    assert requests(output, "REGISTER") == []
    assert len(events_of(output, RegistrationFailed)) == 1


def test_unregister_sends_expires_zero_and_stops_refreshing() -> None:
    agent = UserAgent(CONFIG)
    register = _register(agent)
    agent.receive(respond(register, 200, headers=(("Expires", "300"),)), REGISTRAR, 0.1)
    [goodbye] = requests(agent.unregister(5.0), "REGISTER")
    assert goodbye.headers.get("Expires") == "0"
    output = agent.receive(respond(goodbye, 200), REGISTRAR, 5.1)
    assert events_of(output, Unregistered) != []
    assert agent.on_timer(400.0).send == ()


def test_register_without_a_trunk_is_a_clear_error() -> None:
    agent = UserAgent(AgentConfig(host="127.0.0.1", port=5060))
    with pytest.raises(ValueError, match="no trunk"):
        agent.register(REGISTRAR, 0.0)
