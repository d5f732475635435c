import pytest

from voice_agent.agent.backchannel import BackchannelJudge
from voice_agent.settings import BargeInSettings

JUDGE = BackchannelJudge(BargeInSettings())


@pytest.mark.parametrize(
    ("heard", "seconds", "backchannel"),
    [
        ("Mm-hmm.", 0.6, True),
        ("MMMMMMM", 0.8, True),  # how Whisper writes a long "mm-hm"
        ("Mmm-mm-mmm", 0.8, True),
        ("Okay.", 0.45, True),
        ("Uh-huh.", 0.4, True),
        ("The F", 0.37, True),  # "yeah" misheard: short and no floor word
        ("", 0.2, True),  # a cough
        ("Yes, right.", 0.6, True),
        ("No.", 0.3, False),
        ("Wait.", 0.3, False),
        ("Sorry?", 0.3, False),
        ("I want a refund", 0.8, False),
        ("Okay, but where is it", 0.85, False),
        ("Mm-hmm.", 1.4, False),  # too long for a backchannel, whatever the words
    ],
)
def test_backchannels_let_the_reply_resume(heard: str, seconds: float, backchannel: bool) -> None:
    assert JUDGE.is_backchannel(heard, seconds) is backchannel


@pytest.mark.parametrize(
    ("heard", "confidence", "backchannel"),
    [
        ("I'm at camp.", 0.21, True),  # a hum, misheard
        ("And then I can...", 0.39, True),
        ("I moved house.", 0.67, False),
        ("Where is it?", 0.55, False),
        ("No, I said", 0.2, False),  # unsure, but a floor word
    ],
)
def test_an_unsure_short_sound_is_a_backchannel(
    heard: str, confidence: float, backchannel: bool
) -> None:
    assert JUDGE.is_backchannel(heard, 0.7, confidence) is backchannel
