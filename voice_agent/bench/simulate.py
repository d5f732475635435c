"""Whole calls against the real agent over the WAV transport, with a scripted caller."""

from __future__ import annotations

from dataclasses import dataclass

from voice_agent.agent.events import CallEvent
from voice_agent.agent.playout import Playout
from voice_agent.agent.session import CallSession
from voice_agent.app import App
from voice_agent.bench.caller import Line, ScriptedCaller, Spoken
from voice_agent.clock import Clock, FakeClock, RealClock
from voice_agent.transport.wavfile import LineEcho, Pacing, WavCall, WavCallTransport


@dataclass(frozen=True, slots=True)
class EchoPath:
    """A line without echo cancellation: the agent hears itself this late and this quiet."""

    delay_s: float = 0.08
    gain_db: float = -12.0


@dataclass(slots=True)
class SimulatedCall:
    call: WavCall
    spoken: list[Spoken]
    session: CallSession

    @property
    def events(self) -> list[CallEvent]:
        return self.call.events

    def of_type(self, kind: type[CallEvent]) -> list[CallEvent]:
        return [event for event in self.call.events if isinstance(event, kind)]


async def simulate_call(
    app: App,
    lines: list[Line],
    pacing: Pacing = Pacing.STEPPED,
    echo: EchoPath | None = None,
    noise_dbfs: float | None = None,
    max_s: float = 180.0,
    channel: str = "wav",
) -> SimulatedCall:
    """Run one call to its end; stepped pacing is deterministic and faster than real time.
    With `channel` "sip" the caller is recognized as on a phone line (each utterance decoded
    whole, no streaming); their lines should then sound like one (`audio.telephone`)."""
    clock: Clock = FakeClock(1000.0) if pacing is Pacing.STEPPED else RealClock()
    playout = Playout(clock)
    caller = ScriptedCaller(lines, noise_dbfs=noise_dbfs)
    line_echo = None if echo is None else LineEcho(echo.delay_s, echo.gain_db)
    transport = WavCallTransport(caller, playout, clock, pacing, echo=line_echo, max_s=max_s)
    session = await app.run_call(transport, playout, channel, "simulated caller")
    return SimulatedCall(transport.call, caller.spoken, session)
