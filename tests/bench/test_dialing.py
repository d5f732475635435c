"""A call's language hint over SIP: the number it dials, which our agent maps to the language."""

from __future__ import annotations

import json

import pytest

from tests.bench.test_sip_caller import our_agent, run, target_of, until
from tests.transport.sip.support import Session
from voice_agent.bench.dialing import HINT_NUMBERS, dial, dialled_uri, numbers_by_language
from voice_agent.bench.relay import profile_named
from voice_agent.bench.runner import Target
from voice_agent.bench.sip_caller import parse_target
from voice_agent.languages import SUPPORTED, language_for_number
from voice_agent.settings import load_settings


@pytest.mark.parametrize("language", SUPPORTED)
def test_a_hinted_sip_call_dials_a_number_our_agent_takes_for_its_language(language: str) -> None:
    uri = parse_target(dialled_uri("sip:agent@127.0.0.1:5062", language))
    assert (uri.host, uri.port) == ("127.0.0.1", 5062)
    assert language_for_number(uri.user, numbers_by_language()) == language


def test_the_hint_numbers_are_valid_settings_for_our_agent() -> None:
    numbers = json.dumps(numbers_by_language())
    settings = load_settings(environ={"VOICE_AGENT_LANGUAGES__BY_NUMBER": numbers})
    assert settings.languages.by_number == numbers_by_language()
    assert len(set(HINT_NUMBERS.values())) == len(HINT_NUMBERS)


def test_a_language_without_a_number_cannot_be_hinted_over_sip() -> None:
    with pytest.raises(ValueError, match="no number to dial for language 'xx'"):
        dialled_uri("sip:agent@127.0.0.1:5062", "xx")


@pytest.mark.parametrize(("language", "dialled"), [("es", HINT_NUMBERS["es"]), (None, "agent")])
def test_our_sip_agent_is_told_the_language_by_the_number_a_hinted_call_dials(
    language: str | None, dialled: str
) -> None:
    async def scenario() -> None:
        session = Session()
        async with our_agent(session) as endpoint:
            target = Target(target_of(endpoint))
            async with dial(target, "sip", profile_named("clean"), language):
                await until(lambda: bool(session.calls), "the agent to take the call")
            (call,) = session.calls
            assert call.dialled == dialled
            assert language_for_number(call.dialled, numbers_by_language()) == language

    run(scenario)
