"""A hand-off transferred to the team's phone, with real baresip peers on 127.0.0.1.

The caller is one baresip (a WAV as its microphone), the team's phone a second one that
auto-answers and records what it hears. baresip 1.0.0 answers the agent's REFER by calling
the Refer-To target itself (it puts the URI, headers and all, in its INVITE's Request-URI),
reports the progress by NOTIFY, and its aufile microphone starts over on the new call: the
team hears the caller's recording from its beginning. The policy's hours are set so that
"now" is inside them (or, for the out-of-hours call, on a day the team does not work).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.transport.sip.support import Baresip, demo_shop_agent
from voice_agent.agent.events import AgentSaid, CallerSaid
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.audio.wav import read_wav, write_wav
from voice_agent.bench.voices import EspeakVoice
from voice_agent.phone_line import start_sip
from voice_agent.transport.sip import SipCall, SipEndpoint

pytestmark = pytest.mark.slow

CALLER = "<sip:+4930123456@127.0.0.1>;regint=0"
"""A caller ID with a number: the agent offers to call back on it, and the caller says yes."""
_CALLER_LINES = (
    (6.0, "I'd like to speak to a person, please."),
    (9.0, "Yes, please."),
    (30.0, None),
)
"""(silence before, then what the caller says): after the greeting (~4 s), after "Shall we
call you back on the number ... ending three, four, five, six?" (~6 s), then long enough for
"I'm putting you through ..." and the team to hear the recording from its start."""


def _weekday_code(moment: datetime) -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[moment.weekday()]


def _team_hours(app: App, open_now: bool) -> None:
    """Team hours around "now": 09:00 to 17:00 in a zone where it is noon now, every day; or
    only on tomorrow's weekday there (closed today)."""
    offset = 12 - datetime.now(UTC).hour  # Etc/GMT-N is UTC+N
    zone = ZoneInfo(f"Etc/GMT{-offset:+d}" if offset else "UTC")
    local_now = datetime.now(zone)
    tomorrow = _weekday_code(local_now + timedelta(days=1))
    days = {0, 1, 2, 3, 4, 5, 6} if open_now else {(local_now.weekday() + 1) % 7}
    engine = app.dialogue_engine
    handoff = replace(
        engine.policies.handoff,
        timezone=zone,
        opening_hour=9,
        closing_hour=17,
        business_days=frozenset(days),
    )
    engine.policies = replace(engine.policies, handoff=handoff)
    assert handoff.is_open(datetime.now(UTC)) is open_now, (zone, tomorrow)


@pytest.fixture(scope="module")
def team_phone(tmp_path_factory: pytest.TempPathFactory) -> Baresip:
    quiet = tmp_path_factory.mktemp("team") / "quiet.wav"
    write_wav(quiet, AudioFrame.silence(60.0, 8000))  # the team listens
    return Baresip(quiet.parent, quiet, "<sip:team@127.0.0.1>;regint=0;answermode=auto")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, team_phone: Baresip) -> Iterator[App]:
    """The real agent (models, dialogue, the demo shop), transferring to the team's phone."""
    extra = {
        "VOICE_AGENT_SIP__TRANSFER_TO": f"sip:team@127.0.0.1:{team_phone.port}",
    }
    with demo_shop_agent(tmp_path_factory.mktemp("sip_transfer_app"), extra) as app:
        yield app


def _caller_microphone(path: Path) -> None:
    voice = EspeakVoice("en-us")
    parts: list[AudioFrame] = []
    for silence, text in _CALLER_LINES:
        parts.append(AudioFrame.silence(silence, 8000))
        if text is not None:
            parts.append(voice.speak(text, 8000))
    write_wav(path, AudioFrame.concat(parts))


async def _call(app: App, caller: Baresip, team: Baresip, seconds: int) -> SipCall:
    endpoint = await start_sip(app)
    assert endpoint is not None
    try:
        team_run = asyncio.create_task(team.run(seconds + 4))
        await asyncio.sleep(1.5)  # the team's phone is listening
        result = await caller.run(seconds, f"/dial sip:agent@127.0.0.1:{endpoint.address[1]}")
        assert result.returncode == 0, result.output
        team_result = await team_run
        assert team_result.returncode == 0, team_result.output
        await _until_finished(endpoint)
    finally:
        await endpoint.aclose()
    return endpoint.finished_calls[0]


async def _until_finished(endpoint: SipEndpoint) -> None:
    for _ in range(100):
        if endpoint.finished_calls:
            return
        await asyncio.sleep(0.1)


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() else " " for c in text.lower()).split())


def test_during_hours_the_caller_is_put_through_to_the_team(
    tmp_path: Path, app: App, team_phone: Baresip
) -> None:
    _team_hours(app, open_now=True)
    microphone = tmp_path / "caller.wav"
    _caller_microphone(microphone)
    caller = Baresip(tmp_path / "caller", microphone, CALLER)
    call = asyncio.run(asyncio.wait_for(_call(app, caller, team_phone, 48), 120))

    replies = [e.text for e in call.events if isinstance(e, AgentSaid | CallerSaid)]
    assert call.transferred_to == app.settings.sip.transfer_to, f"{call.ended}: {replies}"
    [handoff] = app.repository.handoffs()
    assert handoff.facts["transferred_to"] == app.settings.sip.transfer_to
    spoken = ", ".join(handoff.reference)
    assert any("putting you through" in r and spoken in r for r in replies), replies
    assert not any("call you back today" in r for r in replies), replies
    # the team's phone rang, answered and heard the caller (its microphone started over)
    heard = read_wav(team_phone.heard())
    assert heard.duration > 10.0
    transcript = asyncio.run(app.asr.transcribe(resample(heard.slice(0.0, 10.0), 16_000)))
    assert {"speak", "person"} <= _words(transcript.text), transcript.text


def test_out_of_hours_the_caller_gets_the_ticket_and_no_transfer(
    tmp_path: Path, app: App, team_phone: Baresip
) -> None:
    _team_hours(app, open_now=False)
    before = {h.reference for h in app.repository.handoffs()}
    recordings = set(team_phone.recordings.glob("*.wav"))
    microphone = tmp_path / "caller.wav"
    _caller_microphone(microphone)
    caller = Baresip(tmp_path / "caller", microphone, CALLER)
    call = asyncio.run(asyncio.wait_for(_call(app, caller, team_phone, 30), 90))

    replies = [e.text for e in call.events if isinstance(e, AgentSaid | CallerSaid)]
    assert call.transferred_to is None and call.ended != "transferred", replies
    assert any("call you back" in r for r in replies), replies
    assert not any("putting you through" in r for r in replies), replies
    [handoff] = [h for h in app.repository.handoffs() if h.reference not in before]
    assert "transferred_to" not in handoff.facts
    assert set(team_phone.recordings.glob("*.wav")) == recordings  # the team never rang
