"""The phone line against real SIP software on 127.0.0.1: sipp, baresip and kamailio.

Each peer runs as a subprocess with its own time limit and stops by itself (sipp after its
scenario, baresip after -t seconds, kamailio when the test ends). The Debian packages
sip-tester, baresip and kamailio provide them (scripts/system-deps.sh).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.transport.sip.support import (
    SIPP_PCAPS,
    SIPP_SCENARIOS,
    Baresip,
    Session,
    demo_shop_agent,
    kamailio,
    run_sipp,
)
from voice_agent.agent.events import AgentSaid, CallerSaid
from voice_agent.agent.limits import CallLimiter
from voice_agent.agent.playout import Playout
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import rms_dbfs
from voice_agent.audio.resample import resample
from voice_agent.audio.wav import read_wav, write_wav
from voice_agent.bench.voices import EspeakVoice
from voice_agent.clock import RealClock
from voice_agent.phone_line import call_out, start_sip
from voice_agent.settings import SipSettings, SipTrunkSettings
from voice_agent.transport.sip import SipCall, SipEndpoint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The real agent (models, dialogue, the demo shop) with its line on a free port."""
    with demo_shop_agent(tmp_path_factory.mktemp("sip_app")) as app:
        yield app


def _run(scenario: Callable[[], Awaitable[None]], limit_s: float = 120.0) -> None:
    asyncio.run(asyncio.wait_for(scenario(), limit_s))


async def _endpoint(session: Session, **settings: object) -> SipEndpoint:
    values: dict[str, object] = {"listen_port": 0, **settings}
    endpoint = SipEndpoint(SipSettings.model_validate(values), RealClock(), CallLimiter(2), session)
    await endpoint.start()
    return endpoint


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _loud_frames(frames: list[AudioFrame]) -> int:
    return sum(rms_dbfs(frame.samples) > -40 for frame in frames)


# --- sipp ------------------------------------------------------------------------------------


def test_sipp_uac_pcap_scenario_pcma_speech_and_a_keypad_digit(tmp_path: Path) -> None:
    (tmp_path / "pcap").mkdir()
    for capture in SIPP_PCAPS.glob("*.pcap"):
        shutil.copy(capture, tmp_path / "pcap")

    async def scenario() -> None:
        session = Session()
        endpoint = await _endpoint(session)
        try:
            result = await run_sipp(endpoint.address, tmp_path, "-sn", "uac_pcap")
            assert result.returncode == 0, result.output
            await session.calls[0].wait()
        finally:
            await endpoint.aclose()
        call = session.calls[0]
        assert call.rtp.params.codec.name == "PCMA"
        assert call.ended == "the caller hung up"
        assert session.digits == ["1"]
        assert _loud_frames(session.frames) > 100  # g711a.pcap holds ~7 s of sound
        assert call.rtp.stats.lost == 0

    _run(scenario)


def test_sipp_streams_pcmu_speech_that_the_asr_understands(tmp_path: Path, app: App) -> None:
    speech = EspeakVoice("en-gb+f3").speak("Where is my parcel? I ordered it two weeks ago.", 8000)
    padded = AudioFrame.concat([AudioFrame.silence(0.3, 8000), speech])
    write_wav(tmp_path / "speech16.wav", padded)
    subprocess.run(  # sipp streams the file as it is: it must be mu-law already
        ["sox", "speech16.wav", "-e", "u-law", "speech.wav"], cwd=tmp_path, check=True
    )
    scenario_file = tmp_path / "pcmu_wav.xml"
    shutil.copy(SIPP_SCENARIOS / "pcmu_wav.xml", scenario_file)
    pause_ms = str(round(padded.duration * 1000) + 800)

    async def scenario() -> None:
        session = Session()
        endpoint = await _endpoint(session)
        try:
            result = await run_sipp(
                endpoint.address, tmp_path, "-sf", str(scenario_file), "-d", pause_ms
            )
            assert result.returncode == 0, result.output
            await session.calls[0].wait()
        finally:
            await endpoint.aclose()
        assert session.calls[0].rtp.params.codec.name == "PCMU"
        heard = AudioFrame.concat(session.frames)
        assert heard.rate == 16_000  # the pipeline's rate, converted explicitly
        transcript = await app.asr.transcribe(heard)
        assert {"parcel", "ordered", "weeks"} <= _words(transcript.text), transcript.text

    _run(scenario)


def test_sipp_cancels_while_the_agent_rings(tmp_path: Path) -> None:
    async def scenario() -> None:
        session = Session()
        limiter = CallLimiter(1)
        endpoint = SipEndpoint(
            SipSettings(listen_port=0, ring_s=5.0), RealClock(), limiter, session
        )
        await endpoint.start()
        try:
            result = await run_sipp(
                endpoint.address, tmp_path, "-sf", str(SIPP_SCENARIOS / "cancel.xml")
            )
        finally:
            await endpoint.aclose()
        assert result.returncode == 0, result.output
        assert not session.calls, "a cancelled call reached the session"
        assert limiter.active == 0

    _run(scenario)


def test_sipp_puts_the_call_on_hold_and_resumes_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        session = Session()
        endpoint = await _endpoint(session)
        try:
            result = await run_sipp(
                endpoint.address, tmp_path, "-sf", str(SIPP_SCENARIOS / "reinvite.xml")
            )
            assert result.returncode == 0, result.output
            await session.calls[0].wait()
        finally:
            await endpoint.aclose()
        assert session.calls[0].ended == "the caller hung up"

    _run(scenario)


def _sipp_interval(directory: Path, seconds: int) -> Path:
    """The injection file giving sipp's session timer scenarios their interval ([field0])."""
    path = directory / "interval.csv"
    path.write_text(f"SEQUENTIAL\n{seconds};\n")
    return path


def test_sipp_refreshes_the_session_timer_and_the_agent_keeps_a_three_minute_call(
    tmp_path: Path,
) -> None:
    """Session-Expires: 90;refresher=uac, a re-INVITE every 45 s, BYE after three minutes."""

    async def scenario() -> None:
        session = Session()
        endpoint = await _endpoint(session, rtp_timeout_s=600.0)  # sipp sends no RTP here
        try:
            result = await run_sipp(
                endpoint.address,
                tmp_path,
                "-sf",
                str(SIPP_SCENARIOS / "session_timer.xml"),
                "-inf",
                str(_sipp_interval(tmp_path, 90)),
                "-d",
                "45000",
                limit_s=240.0,
            )
            assert result.returncode == 0, result.output
            await session.calls[0].wait()
        finally:
            await endpoint.aclose()
        assert session.calls[0].ended == "the caller hung up"

    _run(scenario, limit_s=300.0)


def test_sipp_stops_refreshing_and_the_agent_ends_the_call(tmp_path: Path) -> None:
    """Session-Expires: 10 (min_se_s lowered for the test): BYE from the agent after
    10 - min(32, 10/3) s, and the call ends with the session timer as its reason."""

    async def scenario() -> None:
        session = Session()
        endpoint = await _endpoint(session, rtp_timeout_s=600.0, min_se_s=10)
        try:
            result = await run_sipp(
                endpoint.address,
                tmp_path,
                "-sf",
                str(SIPP_SCENARIOS / "session_timer_expires.xml"),
                "-inf",
                str(_sipp_interval(tmp_path, 10)),
            )
            assert result.returncode == 0, result.output
            await session.calls[0].wait()
        finally:
            await endpoint.aclose()
        assert (session.calls[0].ended or "").startswith("session timer expired")

    _run(scenario)


async def _hang_up_after_a_second(call: SipCall, playout: Playout, frames: int) -> None:
    if frames == 50:
        await call.hang_up()


@pytest.mark.parametrize("reason", ["the agent hangs up", "the caller's RTP stops"])
def test_sipp_receives_the_agents_bye(tmp_path: Path, reason: str) -> None:
    async def scenario() -> None:
        if reason == "the agent hangs up":
            session = Session(action=_hang_up_after_a_second)
            endpoint = await _endpoint(session)
        else:
            session = Session()
            endpoint = await _endpoint(session, rtp_timeout_s=1.5)
        try:
            result = await run_sipp(
                endpoint.address, tmp_path, "-sf", str(SIPP_SCENARIOS / "wait_bye.xml")
            )
            assert result.returncode == 0, result.output
            await session.calls[0].wait()
        finally:
            await endpoint.aclose()
        expected = "agent hung up" if reason == "the agent hangs up" else "no RTP from the caller"
        assert (session.calls[0].ended or "").startswith(expected)

    _run(scenario)


def test_sipp_malformed_requests_and_a_garbage_flood_then_options_is_answered(
    tmp_path: Path,
) -> None:
    async def flood(target: tuple[str, int], count: int) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        rng = np.random.default_rng(7)
        for index in range(count):
            size = int(rng.integers(1, 1400))
            junk = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            transport.sendto(junk if index % 3 else b"INVITE sip:x SIP/2.0\r\n" + junk, target)
            if index % 200 == 0:
                await asyncio.sleep(0)
        transport.close()

    async def scenario() -> None:
        session = Session()
        endpoint = await _endpoint(session)
        try:
            malformed = await run_sipp(
                endpoint.address,
                tmp_path,
                "-sf",
                str(SIPP_SCENARIOS / "malformed.xml"),
                "-r",
                "10",
                calls=10,
            )
            assert malformed.returncode == 0, malformed.output
            await flood(endpoint.address, 20_000)
            options = await run_sipp(
                endpoint.address, tmp_path, "-sf", str(SIPP_SCENARIOS / "options.xml")
            )
            assert options.returncode == 0, options.output
        finally:
            await endpoint.aclose()
        assert not session.calls

    _run(scenario)


# --- baresip -----------------------------------------------------------------------------------

_CALLER_LINES = (
    (6.0, "Where is my order?"),
    (7.5, "Four, seven, seven, zero, zero."),
    (13.5, "The last four digits are zero, three, two, one."),
    (16.0, None),
)
"""(silence before, then what the caller says): timed to let each of the agent's replies end
(the greeting takes ~4 s, the order-number prompt ~6 s, the verification prompt ~11 s;
Piper's timing varies from run to run), and each silence short of the
8 s after which the agent asks whether the caller is still there."""


def _caller_microphone(path: Path) -> float:
    """Write the caller's side; return when the last sentence ends (seconds into the call)."""
    voice = EspeakVoice("en-us")
    parts: list[AudioFrame] = []
    last_end = 0.0
    for silence, text in _CALLER_LINES:
        parts.append(AudioFrame.silence(silence, 8000))
        if text is not None:
            parts.append(voice.speak(text, 8000))
            last_end = sum(part.duration for part in parts)
    write_wav(path, AudioFrame.concat(parts))  # trailing silence: baresip hangs up at the end
    return last_end


def test_baresip_calls_and_hears_where_the_order_is(tmp_path: Path, app: App) -> None:
    microphone = tmp_path / "caller.wav"
    asked_at = _caller_microphone(microphone)
    duration = round(read_wav(microphone).duration)

    async def scenario() -> SipEndpoint:
        endpoint = await start_sip(app)
        assert endpoint is not None
        try:
            baresip = Baresip(tmp_path, microphone, "<sip:shopper@127.0.0.1>;regint=0")
            target = f"sip:agent@127.0.0.1:{endpoint.address[1]}"
            result = await baresip.run(duration, f"/dial {target}")
            assert result.returncode == 0, result.output
            for _ in range(100):
                if endpoint.finished_calls:
                    break
                await asyncio.sleep(0.1)
        finally:
            await endpoint.aclose()
        return endpoint

    endpoint = asyncio.run(asyncio.wait_for(scenario(), 180))
    call = endpoint.finished_calls[0]
    said = [e.text for e in call.events if isinstance(e, CallerSaid)]
    assert any("47700" in text.replace(" ", "").replace(",", "") for text in said), said
    replies = [e.text for e in call.events if isinstance(e, AgentSaid)]
    assert any("Royal Mail" in text for text in replies), replies
    # what the caller actually heard, recorded by baresip, says where the parcel is
    heard = read_wav(Baresip(tmp_path, microphone, "").heard())
    answer = resample(heard.slice(asked_at, asked_at + 14.0), 16_000)
    transcript = asyncio.run(app.asr.transcribe(answer))
    words = _words(transcript.text)
    assert "delivery" in words, transcript.text
    assert {"royal", "mail"} & words, transcript.text


def test_the_agent_calls_baresip_and_greets_without_waiting(tmp_path: Path, app: App) -> None:
    microphone = tmp_path / "silence.wav"
    write_wav(microphone, AudioFrame.silence(30.0, 8000))  # the callee never says a word

    async def scenario() -> SipCall:
        baresip = Baresip(tmp_path, microphone, "<sip:shopper@127.0.0.1>;regint=0;answermode=auto")
        callee = asyncio.create_task(baresip.run(14))
        await asyncio.sleep(1.5)  # baresip is listening
        call = await call_out(app, f"sip:shopper@127.0.0.1:{baresip.port}")
        result = await callee
        assert result.returncode == 0, result.output
        return call

    call = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert call.outbound and call.ended == "the caller hung up"
    heard = read_wav(Baresip(tmp_path, microphone, "").heard())
    transcript = asyncio.run(app.asr.transcribe(resample(heard.slice(0.0, 10.0), 16_000)))
    assert {"help", "order"} <= _words(transcript.text), transcript.text


_HOLD_AT_S, _RESUME_AT_S, _ASK_AT_S = 8.0, 38.0, 40.0
"""Into baresip's call: on hold after the greeting (~4 s) for 30 s, longer than the default
re-prompts and hang-up for silence take (8 s, twice, then goodbye: ~24 s) and than the RTP
timeout (20 s; baresip sends no RTP while it holds), then a question 2 s after the resume."""


def test_baresip_holds_the_call_for_30_s_without_a_reprompt_and_then_goes_on(
    tmp_path: Path, app: App
) -> None:
    microphone = tmp_path / "caller.wav"
    question = EspeakVoice("en-us").speak("Where is my order?", 8000)
    parts = [AudioFrame.silence(_ASK_AT_S, 8000), question, AudioFrame.silence(10.0, 8000)]
    write_wav(microphone, AudioFrame.concat(parts))
    duration = round(read_wav(microphone).duration)
    window: dict[str, float] = {}

    async def hold_then_resume(baresip: Baresip, endpoint: SipEndpoint) -> None:
        dialled = app.clock.now()
        for step, at, held in (("hold", _HOLD_AT_S, True), ("resume", _RESUME_AT_S, False)):
            await asyncio.sleep(dialled + at - app.clock.now())
            response = await baresip.command(step)
            assert '"ok":true' in response, response
            for _ in range(50):  # the re-INVITE's round trip
                calls = endpoint.calls
                if calls and calls[0].held is held:
                    break
                await asyncio.sleep(0.1)
            assert calls and calls[0].held is held and calls[0].ended is None, step
            window[step] = app.clock.now()

    async def scenario() -> SipEndpoint:
        endpoint = await start_sip(app)
        assert endpoint is not None
        try:
            baresip = Baresip(tmp_path, microphone, "<sip:shopper@127.0.0.1>;regint=0", True)
            target = f"sip:agent@127.0.0.1:{endpoint.address[1]}"
            caller = asyncio.create_task(baresip.run(duration, f"/dial {target}"))
            await asyncio.sleep(1.0)  # baresip is up and dialling
            await hold_then_resume(baresip, endpoint)
            result = await caller
            assert result.returncode == 0, result.output
            for _ in range(100):
                if endpoint.finished_calls:
                    break
                await asyncio.sleep(0.1)
        finally:
            await endpoint.aclose()
        return endpoint

    endpoint = asyncio.run(asyncio.wait_for(scenario(), 180))
    call = endpoint.finished_calls[0]
    assert call.ended == "the caller hung up", call.ended  # not the RTP timeout, not a goodbye
    said = [(e.at, e.text) for e in call.events if isinstance(e, AgentSaid)]
    on_hold = [text for at, text in said if window["hold"] - 1.0 <= at <= window["resume"]]
    assert on_hold == [], on_hold  # no "are you still there?", no goodbye
    assert len([at for at, _ in said if at < window["resume"]]) == 1  # the greeting alone
    asked = [e.at for e in call.events if isinstance(e, CallerSaid) and "order" in e.text.lower()]
    assert asked and asked[0] > window["resume"], (asked, window)
    answered = [text for at, text in said if at > asked[0]]
    assert answered, said  # the line said after the resume was answered


# --- kamailio ----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_the_agent_registers_with_kamailio_and_baresip_calls_through_it(
    tmp_path: Path, algorithm: str
) -> None:
    speech = EspeakVoice("en-gb+f3").speak("I'd like to return my headphones, please.", 8000)
    microphone = tmp_path / "caller.wav"
    write_wav(microphone, AudioFrame.concat([speech, AudioFrame.silence(6.0, 8000)]))

    async def scenario() -> None:
        async with kamailio(tmp_path, "kam-pass", sha256=algorithm == "SHA-256") as registrar:
            trunk = SipTrunkSettings(
                registrar=f"sip:{registrar[0]}:{registrar[1]}",
                username="agent",
                password="kam-pass",
                expires_s=60,
            )
            session = Session()
            endpoint = await _endpoint(session, trunk=trunk, allowed_networks=())
            try:
                registration = endpoint.registration
                assert registration is not None
                await asyncio.wait_for(registration.registered.wait(), 10)
                assert registration.algorithms == [algorithm]
                # only the trunk may call: baresip dialling the agent directly is refused
                direct = Baresip(
                    tmp_path / "direct", microphone, "<sip:shopper@127.0.0.1>;regint=0"
                )
                result = await direct.run(3, f"/dial sip:agent@127.0.0.1:{endpoint.address[1]}")
                assert "403" in result.output, result.output
                assert not session.calls
                # through the registrar, the call reaches the agent at its registered contact
                caller = Baresip(tmp_path / "via", microphone, "<sip:shopper@127.0.0.1>;regint=0")
                result = await caller.run(6, f"/dial sip:agent@{registrar[0]}:{registrar[1]}")
                assert result.returncode == 0, result.output
                await asyncio.wait_for(session.calls[0].wait(), 10)
            finally:
                await endpoint.aclose()
        assert _loud_frames(session.frames) > 50, "the caller's speech did not arrive"
        log = (tmp_path / "kamailio.log").read_text(errors="replace")
        assert "REGISTER of sip:agent@127.0.0.1 authenticated" in log
        assert "relaying INVITE for agent" in log

    _run(scenario)
