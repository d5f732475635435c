import numpy as np
import pytest

from voice_agent.agent.echo import EchoGuard, repeats_reply
from voice_agent.agent.playout import Playout
from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import gain
from voice_agent.bench.voices import EspeakVoice
from voice_agent.clock import FakeClock
from voice_agent.settings import EchoSettings
from voice_agent.transport.wavfile import LineEcho


def _play_and_listen(
    agent: AudioFrame,
    caller: AudioFrame | None,
    echo_db: float,
    delay_s: float,
    settings: EchoSettings | None = None,
    guard: EchoGuard | None = None,
    clock: FakeClock | None = None,
) -> list[bool]:
    """Feed the agent's speech through the playout and a line echo; return the guard's verdicts."""
    if guard is None or clock is None:
        clock = FakeClock()
        guard = EchoGuard(settings or EchoSettings(), Playout(clock))
    playout = guard.playout
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


SENTENCE = "Your parcel cleared customs in Frankfurt on Tuesday, and it is with the courier now."


@pytest.mark.parametrize("adaptive", [True, False])
def test_echo_near_the_worst_return_loss_is_never_the_caller(adaptive: bool) -> None:
    agent = EspeakVoice("en-gb+f3").speak(SENTENCE)
    settings = EchoSettings(adaptive=adaptive)
    for delay in (0.04, 0.12, 0.25):
        assert not any(_play_and_listen(agent, None, -9, delay, settings))


def test_a_quiet_caller_over_a_line_without_echo_is_heard_at_once_once_the_echo_is_known() -> None:
    # The caller 20 dB under the agent: below the worst-case bound (6 dB return loss), far above
    # the echo this line really returns (-30 dB).
    agent = EspeakVoice("en-us").speak(SENTENCE)
    caller = gain(EspeakVoice("en-gb+f3").speak("No wait, I moved house last month."), -20)
    fixed = EchoSettings(adaptive=False)
    clock = FakeClock()
    guard = EchoGuard(EchoSettings(), Playout(clock))
    _play_and_listen(agent, None, -30, 0.08, guard=guard, clock=clock)  # learns the echo
    adaptive_verdicts = _play_and_listen(agent, caller, -30, 0.08, guard=guard, clock=clock)
    fixed_verdicts = _play_and_listen(agent, caller, -30, 0.08, fixed)
    assert sum(adaptive_verdicts) > 2 * sum(fixed_verdicts)
    assert sum(adaptive_verdicts[:10]) >= 5  # the first words already stand out


def test_before_enough_echo_is_heard_the_worst_case_holds() -> None:
    guard = EchoGuard(EchoSettings(), Playout(FakeClock()))
    assert guard.ratio == pytest.approx(10 ** (-6 / 10))


def test_input_later_known_as_echo_raises_the_bound() -> None:
    agent = EspeakVoice("en-us").speak(SENTENCE)
    clock = FakeClock()
    guard = EchoGuard(EchoSettings(), Playout(clock))
    _play_and_listen(agent, None, -40, 0.08, guard=guard, clock=clock)
    low = guard.ratio
    louder = _play_and_listen(agent, None, -12, 0.08, guard=guard, clock=clock)
    assert any(louder)  # the echo grew past what was measured: it sounds like the caller
    guard.was_echo()  # ... until its words turn out to be the agent's own
    assert guard.ratio > 4 * low


def test_a_caller_heard_while_the_reply_is_paused_does_not_teach_the_echo_level() -> None:
    # A barge-in pauses the reply; the echo of its last 300 ms still bounds what is the caller's.
    # The caller's quieter sounds then fall under the bound: learnt as echo, each would raise the
    # bound 6 dB, until the caller's own voice passed for echo.
    agent = EspeakVoice("en-us").speak(SENTENCE)
    caller = EspeakVoice("en-gb+f3").speak("I ordered something from your shop two weeks ago.")
    clock = FakeClock()
    playout = Playout(clock)
    guard = EchoGuard(EchoSettings(), playout)
    _play_and_listen(agent, None, -40, 0.08, guard=guard, clock=clock)  # learns a quiet line
    learnt = guard.ratio
    playout.begin_reply(["reply"])
    playout.write(agent, 0)
    for _ in range(15):  # the reply plays, then pauses for the caller
        playout.read(320)
        guard.caller_dominant(AudioFrame(np.zeros(320, np.int16), 16000, clock.now()))
        clock.advance(0.02)
    playout.pause()
    for frame in caller.chunks(0.02):
        playout.read(320)
        guard.caller_dominant(AudioFrame(gain(frame, -12).samples, 16000, clock.now()))
        clock.advance(0.02)
    assert guard.ratio == pytest.approx(learnt)


@pytest.mark.parametrize(
    ("heard", "echo"),
    [
        ("order four five zero six", True),
        ("order for five zero six nine", True),  # one word misheard
        ("left our warehouse", True),
        ("your order", False),  # too short to tell
        ("Sorry, I would rather talk to a person.", False),
        ("warehouse our left", False),  # not in the reply's order
    ],
)
def test_words_heard_over_the_reply_that_are_its_own(heard: str, echo: bool) -> None:
    reply = "Sure. Your order four five zero six nine left our warehouse in Shenzhen on Tuesday."
    assert repeats_reply(heard, reply) is echo
