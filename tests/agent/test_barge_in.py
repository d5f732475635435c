"""One barge-in's decision on scripted VAD events and words with explicit times (no session).

With the default settings: the VAD must confirm speech within 0.3 s, speech still going at
0.4 s is judged on its words so far, and speech going on 0.9 s (+0.3 s for the VAD's hangover)
stops the reply whatever its words. A reply resumes only after 0.5 s of quiet (LINE_GOES_ON_S).
"""

from voice_agent.agent.backchannel import BackchannelJudge
from voice_agent.agent.barge_in import LINE_GOES_ON_S, BargeInDecision, Transcribe, Verdict
from voice_agent.settings import BargeInSettings
from voice_agent.stages.asr import Transcript

_ONSET = 10.0
_REPLY = "You said: where is my order. Is there anything else I can help you with today?"


def _barge(confirmed: bool = True, line_goes_on: bool = False) -> BargeInDecision:
    settings = BargeInSettings()
    return BargeInDecision(_ONSET, confirmed, settings, BackchannelJudge(settings), line_goes_on)


def _words(text: str, confidence: float = 0.9) -> Transcript:
    return Transcript(text=text, language="en", confidence=confidence)


def test_sound_the_vad_does_not_confirm_was_a_noise_and_the_reply_resumes() -> None:
    barge = _barge(confirmed=False)
    assert barge.next_step(10.2) is None
    assert barge.next_step(10.32) == Verdict(interrupted=False, heard="")


def test_speech_the_vad_confirms_after_the_onset_is_not_taken_for_a_noise() -> None:
    barge = _barge(confirmed=False)
    barge.speech_started()
    assert barge.next_step(10.32) is None


def test_speech_that_ended_is_judged_on_all_its_words() -> None:
    barge = _barge()
    barge.speech_ended(10.3)
    assert barge.next_step(10.32) == Transcribe(final=True)
    assert barge.next_step(10.34) is None  # waiting for the words
    assert barge.judged(_words("Mm-hmm."), 10.4, _REPLY) is None
    assert barge.next_step(10.3 + LINE_GOES_ON_S - 0.02) is None  # a pause inside a line?
    assert barge.next_step(10.3 + LINE_GOES_ON_S) == Verdict(False, "Mm-hmm.")


def test_speech_that_ended_with_words_that_take_the_floor_stops_the_reply() -> None:
    barge = _barge()
    barge.speech_ended(10.3)
    barge.next_step(10.32)
    assert barge.judged(_words("No, stop."), 10.4, _REPLY) == Verdict(True, "No, stop.")


def test_speech_going_on_is_judged_on_its_words_so_far() -> None:
    barge = _barge()
    assert barge.next_step(10.3) is None
    assert barge.next_step(10.42) == Transcribe(final=False)
    assert barge.judged(_words("Wait"), 10.5, _REPLY) == Verdict(True, "Wait")


def test_a_backchannel_so_far_waits_for_the_end_of_the_speech() -> None:
    barge = _barge()
    assert barge.next_step(10.42) == Transcribe(final=False)
    assert barge.judged(_words("Okay"), 10.5, _REPLY) is None
    assert barge.next_step(10.6) is None  # no second judgement of words so far
    barge.speech_ended(10.7)
    assert barge.next_step(10.72) == Transcribe(final=True)
    assert barge.judged(_words("Okay."), 10.8, _REPLY) is None
    assert barge.next_step(10.7 + LINE_GOES_ON_S) == Verdict(False, "Okay.")


def test_speech_going_on_past_the_longest_backchannel_stops_the_reply() -> None:
    barge = _barge()
    barge.next_step(10.42)
    barge.judged(_words("Okay"), 10.5, _REPLY)
    assert barge.next_step(11.1) is None
    assert barge.next_step(11.22) == Verdict(interrupted=True, heard="")


def test_speech_resumed_after_an_end_goes_on() -> None:
    barge = _barge()
    barge.speech_ended(10.2)
    barge.speech_started()
    assert barge.speech_end is None
    assert barge.next_step(10.24) is None


def test_the_replys_own_words_were_its_echo_and_it_resumes() -> None:
    barge = _barge()
    barge.speech_ended(10.6)
    barge.next_step(10.62)
    verdict = barge.judged(_words("where is my order"), 10.7, _REPLY)
    assert verdict == Verdict(False, "where is my order", was_echo=True)


def test_the_same_words_with_no_reply_playing_are_the_callers() -> None:
    barge = _barge()
    barge.speech_ended(10.6)
    barge.next_step(10.62)
    verdict = barge.judged(_words("where is my order"), 10.7, None)
    assert verdict == Verdict(True, "where is my order")


def test_a_failed_judgement_of_a_short_sound_resumes_the_reply() -> None:
    barge = _barge()
    assert barge.next_step(10.42) == Transcribe(final=False)
    assert barge.judged(None, 10.5, _REPLY) is None  # final, though asked early ...
    barge.speech_ended(10.55)
    assert barge.next_step(10.55 + LINE_GOES_ON_S) == Verdict(False, "?")  # ... once it ends


def test_a_failed_judgement_of_long_speech_stops_the_reply() -> None:
    barge = _barge()
    barge.speech_ended(11.0)
    barge.next_step(11.02)
    assert barge.judged(None, 11.1, _REPLY) == Verdict(True, "?")


def test_a_line_that_goes_on_after_a_pause_is_judged_again_with_what_followed() -> None:
    # "A person, | please." over a phone line: the VAD ends the speech at the comma, and the
    # first words are misheard as a backchannel ("Apple")
    barge = _barge()
    for frame_end in (10.1, 10.3, 10.5):
        barge.heard_sound(frame_end)
    barge.speech_ended(10.5)
    assert barge.next_step(10.62) == Transcribe(final=True)
    assert barge.judged(_words("Apple,", confidence=0.4), 10.66, _REPLY) is None
    barge.heard_sound(10.72)  # "please": the VAD missed it, the loudness did not
    assert barge.next_step(10.72) == Transcribe(final=True)
    assert barge.judged(_words("Apple, please.", 0.4), 10.8, _REPLY) is None
    assert barge.next_step(10.8) is None
    barge.heard_sound(10.9)
    barge.heard_sound(10.92)  # the sound has gone on longer than any backchannel
    assert barge.next_step(10.92) == Verdict(interrupted=True, heard="")


def test_sound_longer_than_a_backchannel_stops_the_reply_while_its_words_are_judged() -> None:
    barge = _barge()
    barge.speech_ended(10.5)
    assert barge.next_step(10.62) == Transcribe(final=True)
    for frame_end in (10.7, 10.8, 10.92):  # the words are slow to come; the caller goes on
        barge.heard_sound(frame_end)
    assert barge.next_step(10.92) == Verdict(interrupted=True, heard="")


def test_the_length_that_judges_a_backchannel_counts_the_sound_after_the_vads_end() -> None:
    barge = _barge()
    barge.speech_ended(10.3)  # the VAD heard the first words only
    assert barge.next_step(10.42) == Transcribe(final=True)
    barge.heard_sound(10.95)  # the caller's sound went on while the words were transcribed
    # two words are a backchannel's count, but not said over 0.95 s
    assert barge.judged(_words("Yes, please."), 10.96, _REPLY) == Verdict(True, "Yes, please.")


def test_speech_the_vad_hears_again_drops_a_resume_not_yet_let_go() -> None:
    barge = _barge()
    barge.speech_ended(10.3)
    barge.next_step(10.32)
    assert barge.judged(_words("Okay."), 10.4, _REPLY) is None
    barge.speech_started()
    barge.speech_ended(10.6)
    assert barge.next_step(10.62) == Transcribe(final=True)  # judged again, all of it
    assert barge.judged(_words("Okay, stop."), 10.7, _REPLY) == Verdict(True, "Okay, stop.")


def test_the_callers_line_going_on_over_the_reply_is_no_backchannel() -> None:
    # "..., thank you very much, | goodbye." the reply began in the pause before "goodbye"
    barge = _barge(line_goes_on=True)
    barge.speech_ended(10.35)
    barge.next_step(10.48)
    assert barge.judged(_words("Goodbye."), 10.5, _REPLY) == Verdict(True, "Goodbye.")


def test_the_replys_echo_at_its_start_is_echo_though_the_caller_just_stopped() -> None:
    barge = _barge(line_goes_on=True)
    barge.speech_ended(10.6)
    barge.next_step(10.62)
    verdict = barge.judged(_words("where is my order"), 10.7, _REPLY)
    assert verdict == Verdict(False, "where is my order", was_echo=True)


def test_the_callers_line_going_on_is_judged_on_its_words_without_waiting_for_the_vad() -> None:
    barge = _barge(confirmed=False, line_goes_on=True)  # the VAD has not heard it again yet
    assert barge.next_step(10.32) is None  # not taken for a noise
    assert barge.next_step(10.42) == Transcribe(final=False)
    assert barge.judged(_words("something from"), 10.5, _REPLY) == Verdict(True, "something from")


def test_a_noise_without_words_after_the_callers_line_lets_the_reply_resume() -> None:
    barge = _barge(confirmed=False, line_goes_on=True)
    assert barge.next_step(10.42) == Transcribe(final=False)
    assert barge.judged(_words(""), 10.5, _REPLY) == Verdict(False, "")
