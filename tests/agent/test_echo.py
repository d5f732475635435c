import numpy as np

from voice_agent.agent.echo import EchoGuard
from voice_agent.agent.playout import Playout
from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import gain
from voice_agent.bench.voices import EspeakVoice
from voice_agent.clock import FakeClock
from voice_agent.settings import EchoSettings
from voice_agent.transport.wavfile import LineEcho


def _play_and_listen(
    agent: AudioFrame, caller: AudioFrame | None, echo_db: float, delay_s: float
) -> list[bool]:
    """Feed the agent's speech through the playout and a line echo; return the guard's verdicts."""
    clock = FakeClock()
    playout = Playout(clock)
    guard = EchoGuard(EchoSettings(), playout)
    line = LineEcho(delay_s, echo_db)
    playout.begin_reply(["reply"])
    playout.write(agent, 0)
    playout.finish_writing()
    verdicts: list[bool] = []
    caller_frames = caller.chunks(0.02) if caller is not None else []
    for index in range(len(agent.samples) // 320):
        heard = playout.read(320)
        mic = line.process(heard)
        if index < len(caller_frames) and len(caller_frames[index].samples) == 320:
            mic = np.clip(
                mic.astype(np.int32) + caller_frames[index].samples, -32768, 32767
            ).astype(np.int16)
        verdicts.append(guard.caller_dominant(AudioFrame(mic, 16000, clock.now())))
        clock.advance(0.02)
    return verdicts


def test_echo_of_the_agent_alone_is_not_the_caller() -> None:
    agent = EspeakVoice("en-us").speak("Your parcel cleared customs in Frankfurt on Tuesday.")
    for delay in (0.04, 0.08, 0.12):
        assert not any(_play_and_listen(agent, None, echo_db=-12, delay_s=delay))


def test_caller_talking_over_the_echo_is_detected() -> None:
    agent = EspeakVoice("en-us").speak("Your parcel cleared customs in Frankfurt on Tuesday.")
    caller = EspeakVoice("en-gb+f3").speak("No wait, I moved house last month.")
    verdicts = _play_and_listen(agent, gain(caller, 0), echo_db=-12, delay_s=0.08)
    assert sum(verdicts) >= 10  # many frames of the caller's speech stand out
