"""`voice-agent bench --calibrate`: is the instrument right?

A scripted fake agent of ours answers after known delays (250 and 500 ms, with and without
jitter) over real WebRTC and real SIP/RTP, and another stops talking a known delay after the
caller starts over it. The caller's figures minus the configured delays are what the line and
the instrument add: each must be recovered within `TOLERANCE_MS` in `arrival` mode. The
impairment relay's loss and delay are measured against each profile (within 10%).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from voice_agent.audio import AudioFrame
from voice_agent.bench.fake_sip import fake_sip_agent
from voice_agent.bench.fake_webrtc import fake_webrtc_agent
from voice_agent.bench.measures import AUDIBLE_LEVEL, PlayedTurn, measure_call, sounds
from voice_agent.bench.player import LiveCall, play_scenario
from voice_agent.bench.relay import PROFILES, measure_profile
from voice_agent.bench.responder import Delays, KnownDelayResponder, Mode
from voice_agent.bench.results import TurnKind
from voice_agent.bench.scenario import RenderedTurn, ScenarioTurn
from voice_agent.bench.sip_caller import sip_call
from voice_agent.bench.timeline import browser_playout
from voice_agent.bench.voices import EspeakVoice, trim_silence

TOLERANCE_MS = 20.0
RELAY_TOLERANCE = 0.10
REPLY_DELAYS = (Delays(0.25), Delays(0.5), Delays(0.25, 0.05, seed=1), Delays(0.5, 0.1, seed=2))
STOP_DELAYS = (Delays(0.3), Delays(0.3, 0.1, seed=3))
LINES = (
    ("en-us", "Hello I would like to know where my parcel is."),
    ("en-gb+f3", "My order number is four seven seven zero zero."),
    ("en-us+m7", "Can you tell me when it will arrive?"),
    ("en-gb-scotland+f2", "Thanks that is all I needed to know."),
)
TURNS_PER_SETTING = 6


@dataclass(frozen=True, slots=True)
class Fake:
    name: str
    open: Callable[[Callable[[], KnownDelayResponder]], contextlib.AbstractAsyncContextManager[str]]
    dial: Callable[[str], contextlib.AbstractAsyncContextManager[LiveCall]]
    telephone: bool


def _fakes() -> list[Fake]:
    from voice_agent.bench.webrtc_caller import webrtc_call

    @contextlib.asynccontextmanager
    async def sip_agent(factory: Callable[[], KnownDelayResponder]) -> AsyncIterator[str]:
        async with fake_sip_agent(factory) as (host, port):
            yield f"sip:agent@{host}:{port}"

    @contextlib.asynccontextmanager
    async def web_agent(factory: Callable[[], KnownDelayResponder]) -> AsyncIterator[str]:
        async with fake_webrtc_agent(factory) as agent:
            yield agent.url

    return [
        Fake("webrtc", web_agent, lambda url: webrtc_call(url), telephone=False),
        Fake("sip", sip_agent, lambda url: sip_call(url), telephone=True),
    ]


def _voice() -> AudioFrame:
    speech = EspeakVoice("en-gb+f3").speak("Thanks for waiting here is the answer you asked for")
    return trim_silence(speech, AUDIBLE_LEVEL)  # the reply's first sample is already loud


def _lines(telephone: bool) -> list[RenderedTurn]:
    from voice_agent.audio.telephone import telephone_line

    turns = []
    for index in range(TURNS_PER_SETTING):
        voice, text = LINES[index % len(LINES)]
        audio = EspeakVoice(voice).speak(text)
        audio = telephone_line(audio) if telephone else audio
        turns.append(RenderedTurn(ScenarioTurn(text, gap_s=0.8), text, audio, ()))
    return turns


async def calibrate(progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Every check's configured and measured figures, and whether each was within tolerance."""
    voice = await asyncio.to_thread(_voice)
    rows: list[dict[str, Any]] = []
    for fake in _fakes():
        lines = await asyncio.to_thread(_lines, fake.telephone)
        for delays in REPLY_DELAYS:
            rows.append(await _check(fake, Mode.REPLY, delays, voice, lines))
            progress(_describe(rows[-1]))
        for delays in STOP_DELAYS:
            rows.append(await _check(fake, Mode.STOP, delays, voice, lines))
            progress(_describe(rows[-1]))
    relay_rows = []
    for name in ("cross-border", "bad-mobile"):
        relay_rows.append(await _relay_check(name))
        progress(f"relay {name}: {relay_rows[-1]}")
    ok = all(row["ok"] for row in rows) and all(row["ok"] for row in relay_rows)
    return {"ok": ok, "tolerance_ms": TOLERANCE_MS, "delays": rows, "relay": relay_rows}


async def _check(
    fake: Fake, mode: Mode, delays: Delays, voice: AudioFrame, lines: list[RenderedTurn]
) -> dict[str, Any]:
    """One call to a fake answering (REPLY) or yielding (STOP) after `delays`."""
    responders: list[KnownDelayResponder] = []

    def factory() -> KnownDelayResponder:
        rate = 8000 if fake.telephone else 48000
        responders.append(KnownDelayResponder(mode, delays, voice, rate))
        return responders[-1]

    async with fake.open(factory) as address, fake.dial(address) as call:
        if mode is Mode.REPLY:
            played = await play_scenario(call, lines)
        else:
            played = await _talk_over(call, lines)
        recording = call.recording
    measured: dict[str, list[float | None]] = {}
    for receive, packets in (
        ("arrival", recording.heard),
        ("browser", browser_playout(recording.heard)),
    ):
        figures = measure_call(recording, played, sounds(packets))
        measured[receive] = [
            f.voice_to_voice_ms if mode is Mode.REPLY else f.barge_in_stop_ms for f in figures
        ]
    applied = responders[0].applied_s if responders else []
    return _row(fake.name, mode.value, delays, applied, measured)


async def _talk_over(call: LiveCall, lines: list[RenderedTurn]) -> list[PlayedTurn]:
    """Each line over the fake, which talks from the start and again after each line."""
    played: list[PlayedTurn] = []
    await asyncio.sleep(1.5)
    for index, line in enumerate(lines):
        call.microphone.say(line.audio, index)
        played.append(PlayedTurn(index, TurnKind.BARGE_IN))
        await asyncio.sleep(line.audio.duration + 1.5)
    return played


def _row(
    transport: str,
    kind: str,
    delays: Delays,
    applied: list[float],
    measured: dict[str, list[float | None]],
) -> dict[str, Any]:
    errors: dict[str, list[float]] = {}
    for mode, figures in measured.items():
        errors[mode] = [
            round(figure - delay * 1000, 1)
            for figure, delay in zip(figures, applied, strict=False)
            if figure is not None
        ]
    arrival = errors["arrival"]
    complete = len(arrival) == len(applied) == TURNS_PER_SETTING
    return {
        "transport": transport,
        "check": kind,
        "delay_ms": round(delays.base_s * 1000),
        "jitter_ms": round(delays.jitter_s * 1000),
        "turns": len(arrival),
        "arrival_error_median_ms": _median(arrival),
        "arrival_error_worst_ms": max(arrival, key=abs) if arrival else None,
        "browser_error_median_ms": _median(errors["browser"]),
        "ok": complete and all(abs(error) <= TOLERANCE_MS for error in arrival),
    }


def _median(errors: list[float]) -> float | None:
    return round(statistics.median(errors), 1) if errors else None


async def _relay_check(name: str) -> dict[str, Any]:
    profile = PROFILES[name]
    measured = await measure_profile(profile)
    loss = float(measured["loss"])
    delay = float(measured["delay_mean_ms"])
    return {
        "profile": name,
        "loss": round(loss, 4),
        "loss_configured": profile.loss,
        "delay_mean_ms": round(delay, 1),
        "delay_configured_ms": profile.delay_ms,
        "ok": abs(loss - profile.loss) <= RELAY_TOLERANCE * profile.loss
        and abs(delay - profile.delay_ms) <= RELAY_TOLERANCE * profile.delay_ms,
    }


def _describe(row: dict[str, Any]) -> str:
    verdict = "ok" if row["ok"] else "OUT OF TOLERANCE"
    return (
        f"{row['transport']:6} {row['check']:5} {row['delay_ms']} ± {row['jitter_ms']} ms: "
        f"caller minus configured: median {row['arrival_error_median_ms']} ms, worst "
        f"{row['arrival_error_worst_ms']} ms over {row['turns']} turns: {verdict}"
    )
