"""Streaming recognition: the agreement policy, the cut arithmetic, and real passes over speech."""

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest

from benchmarks.scoring import scored_form, word_error_rate
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.bench.voices import ESPEAK_VOICES, EspeakVoice
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, ModelsSettings, PathsSettings
from voice_agent.stages.asr import AsrHint
from voice_agent.stages.asr.streaming import (
    CONTEXT_S,
    LocalAgreement,
    PassInput,
    StreamingUtterance,
    Word,
    comparable,
    words_text,
)
from voice_agent.stages.asr.whisper import WhisperAsr

WORD_S = 0.4


def spoken(text: str, start_s: float = 0.0) -> list[Word]:
    """Scripted words, one every WORD_S seconds from `start_s`."""
    return [
        Word(piece, start_s + i * WORD_S, start_s + (i + 1) * WORD_S, 0.9)
        for i, piece in enumerate(text.split())
    ]


def texts(words: Sequence[Word]) -> list[str]:
    return [word.text for word in words]


# The agreement policy over scripted partials


def test_a_single_pass_confirms_nothing() -> None:
    agreement = LocalAgreement()
    assert agreement.feed(spoken("I want to")) == []
    assert agreement.confirmed == ()
    assert texts(agreement.pending) == ["I", "want", "to"]


def test_two_passes_confirm_their_common_prefix() -> None:
    agreement = LocalAgreement()
    agreement.feed(spoken("I want to"))
    newly = agreement.feed(spoken("I want to buy a"))
    assert texts(newly) == ["I", "want", "to"]
    assert texts(agreement.pending) == ["buy", "a"]


def test_passes_that_disagree_confirm_only_up_to_the_first_difference() -> None:
    agreement = LocalAgreement()
    agreement.feed(spoken("I want two shoes"))
    assert texts(agreement.feed(spoken("I want to buy shoes"))) == ["I", "want"]
    assert texts(agreement.pending) == ["to", "buy", "shoes"]


def test_an_unconfirmed_word_can_be_revised() -> None:
    agreement = LocalAgreement()
    agreement.feed(spoken("I want to by"))
    assert texts(agreement.feed(spoken("I want to buy a"))) == ["I", "want", "to"]
    # The next pass starts at the cut, after "to": it reads "by" again, now as "buy".
    assert texts(agreement.feed(spoken("buy a new", start_s=3 * WORD_S))) == ["buy", "a"]
    assert words_text(agreement.confirmed) == "I want to buy a"


def test_confirmed_words_are_never_unconfirmed() -> None:
    agreement = LocalAgreement()
    agreement.feed(spoken("my order number"))
    agreement.feed(spoken("my order number is"))
    # Two later passes over the same audio that hear the start differently change nothing.
    assert texts(agreement.feed(spoken("my older number is four"))) == ["is"]
    assert texts(agreement.feed(spoken("by older number is four five"))) == ["four"]
    assert words_text(agreement.confirmed) == "my order number is four"


def test_case_and_punctuation_do_not_count_as_disagreement() -> None:
    agreement = LocalAgreement()
    agreement.feed(spoken("where is my parcel"))
    newly = agreement.feed(spoken("Where is my parcel? It"))
    assert texts(newly) == ["Where", "is", "my", "parcel?"]
    assert comparable("Parcel?") == comparable("parcel,") == "parcel"
    assert comparable("Don't") == "dont"


def test_a_confirmed_word_keeps_the_newer_pass_times() -> None:
    agreement = LocalAgreement()
    agreement.feed([Word("hello", 0.0, 0.5, 0.5)])
    newly = agreement.feed([Word("hello", 0.05, 0.42, 0.9), Word("there", 0.42, 0.8, 0.9)])
    assert newly == [Word("hello", 0.05, 0.42, 0.9)]
    assert agreement.confirmed_end_s == pytest.approx(0.42)


def test_words_heard_again_before_the_confirmed_end_are_not_new() -> None:
    agreement = LocalAgreement()
    agreement.feed(spoken("my order"))
    agreement.feed(spoken("my order is"))
    # A pass over audio that was not cut hears "my order" again, a little shifted.
    again = [Word("my", 0.02, 0.41, 0.9), *spoken("order is late", start_s=0.41)]
    assert texts(agreement.after_confirmed(again)) == ["is", "late"]
    assert texts(agreement.feed(again)) == ["is"]


def test_a_short_word_heard_again_is_told_from_the_same_word_said_again() -> None:
    agreement = LocalAgreement()
    agreement.feed([Word("7", 1.5, 1.9, 0.9), Word("4", 1.9, 1.98, 0.9)])
    agreement.feed([Word("7", 1.5, 1.9, 0.9), Word("4", 1.9, 1.98, 0.9), Word("4", 1.98, 2.1, 0.9)])
    # "4" heard again a frame later, then the second "4" the caller said.
    again = [Word("4", 1.92, 1.99, 0.9), Word("4", 1.99, 2.1, 0.9)]
    assert agreement.after_confirmed(again) == again[1:]


def test_a_confirmed_word_stretched_over_the_pause_after_it_is_not_new() -> None:
    agreement = LocalAgreement()
    said = [Word("7", 0.64, 1.04, 0.9), Word("7", 1.04, 1.42, 0.9)]
    agreement.feed(said)
    agreement.feed(said)
    # The final pass gives the second "7" the 0.6 s of silence after it too.
    final = [Word("7", 0.68, 1.02, 0.9), Word("7", 1.02, 1.82, 0.9), Word("0", 1.82, 2.3, 0.9)]
    assert texts(agreement.after_confirmed(final)) == ["0"]
    # The caller saying "7" once more, right after, is new.
    again = [Word("7", 1.4, 1.7, 0.9), Word("0", 1.7, 2.0, 0.9)]
    assert texts(agreement.after_confirmed(again)) == ["7", "0"]


def test_words_without_letters_or_digits_carry_no_vote() -> None:
    agreement = LocalAgreement()
    agreement.feed(spoken("yes - please"))
    assert texts(agreement.feed(spoken("yes please now"))) == ["yes", "please"]


# The cut and prompt arithmetic of StreamingUtterance


def ramp(seconds: float, start_s: float = 0.0, rate: int = PIPELINE_RATE) -> AudioFrame:
    """Audio whose every sample tells where it is in the utterance (in the first 2 s)."""
    first = round(start_s * rate)
    positions = np.arange(first, first + round(seconds * rate)) % (1 << 15)
    return AudioFrame(positions.astype(np.int16), rate)


def grow(utterance: StreamingUtterance, seconds: float, step_s: float = 0.5) -> None:
    for chunk in ramp(seconds, start_s=utterance.duration_s).chunks(step_s):
        utterance.append(chunk)


def grown(seconds: float, context_s: float = 0.0) -> StreamingUtterance:
    """An utterance of `seconds` that cuts right at the last confirmed word (no context, no
    lead), unless told otherwise: the simplest arithmetic to check."""
    utterance = StreamingUtterance(context_s=context_s, cut_lead_s=0.0)
    grow(utterance, seconds)
    return utterance


def test_a_pass_is_due_after_enough_new_audio_and_one_at_a_time() -> None:
    utterance = StreamingUtterance()
    frames = ramp(2.0).chunks(0.25)
    utterance.append(frames[0])
    assert not utterance.due_for_pass(0.5)
    utterance.append(frames[1])
    assert utterance.due_for_pass(0.5)
    first = utterance.pass_input()
    assert (first.offset_s, first.prompt, first.audio.duration) == (0.0, "", 0.5)
    for frame in frames[2:4]:
        utterance.append(frame)
    assert not utterance.due_for_pass(0.5)  # the first pass is still out
    utterance.on_pass(spoken("my"))
    assert utterance.due_for_pass(0.5)
    assert not utterance.due_for_pass(0.75)  # counted from where the last pass's audio ended


def test_without_context_the_next_pass_starts_at_the_last_confirmed_word() -> None:
    utterance = grown(1.0)
    utterance.pass_input()
    utterance.on_pass(spoken("my order"))
    grow(utterance, 1.0)
    second = utterance.pass_input()
    assert second.audio.duration == pytest.approx(2.0)
    assert texts(utterance.on_pass(spoken("my order is four"))) == ["my", "order"]
    assert utterance.cut_s == pytest.approx(2 * WORD_S)

    grow(utterance, 0.5)
    third = utterance.pass_input()
    assert third.prompt == "my order"
    assert third.offset_s == pytest.approx(0.8)
    assert third.audio.timestamp == pytest.approx(0.8)
    assert third.audio.duration == pytest.approx(2.5 - 0.8)
    # The pass's audio is the utterance's own, from the cut on.
    assert third.audio.samples[0] == round(0.8 * PIPELINE_RATE)


def test_without_context_the_final_input_is_only_the_unconfirmed_tail() -> None:
    utterance = grown(2.0)
    utterance.pass_input()
    utterance.on_pass(spoken("where is my"))
    utterance.pass_input()
    utterance.on_pass(spoken("where is my parcel"))
    grow(utterance, 1.0)
    final = utterance.final_input()
    assert final.prompt == "where is my"
    assert final.offset_s == pytest.approx(3 * WORD_S)
    assert final.audio.duration == pytest.approx(3.0 - 3 * WORD_S)
    tail = spoken("parcel please", start_s=3 * WORD_S)
    assert utterance.final_text(final, tail) == "where is my parcel please"


def test_the_cut_keeps_a_second_of_confirmed_speech_at_a_word_boundary() -> None:
    utterance = grown(2.5, context_s=1.0)
    utterance.pass_input()
    utterance.on_pass(spoken("my order number is four five"))
    utterance.pass_input()
    newly = utterance.on_pass(spoken("my order number is four five six"))
    assert words_text(newly) == "my order number is four five"
    # The confirmed words end at 2.4 s: the cut is the last word end at or before 1.4 s.
    assert utterance.cut_s == pytest.approx(3 * WORD_S)
    grow(utterance, 0.5)
    final = utterance.final_input()
    # The prompt is what comes before the audio; the audio holds "is four five" again.
    assert final.prompt == "my order number"
    assert final.offset_s == pytest.approx(3 * WORD_S)
    assert final.audio.duration == pytest.approx(3.0 - 3 * WORD_S)
    heard = spoken("is four five six seven", start_s=3 * WORD_S)
    assert utterance.final_text(final, heard) == "my order number is four five six seven"


def test_the_cut_is_made_a_little_before_the_aligned_word_end() -> None:
    utterance = StreamingUtterance(context_s=0.0, cut_lead_s=0.1)
    grow(utterance, 1.0)
    utterance.pass_input()
    utterance.on_pass(spoken("my order"))
    utterance.pass_input()
    utterance.on_pass(spoken("my order is"))
    assert utterance.cut_s == pytest.approx(2 * WORD_S - 0.1)
    # "order" ends after the cut: the prompt stops before it, the audio holds its end.
    assert utterance.final_input().prompt == "my"


def test_the_cut_waits_for_a_second_of_confirmed_speech() -> None:
    utterance = StreamingUtterance()
    grow(utterance, 1.0)
    utterance.pass_input()
    utterance.on_pass(spoken("yes please"))
    utterance.pass_input()
    assert texts(utterance.on_pass(spoken("yes please now"))) == ["yes", "please"]
    assert utterance.cut_s == 0.0
    assert utterance.final_input().prompt == ""


def test_a_final_text_follows_the_words_confirmed_when_its_input_was_taken() -> None:
    utterance = grown(1.0)
    utterance.pass_input()
    utterance.on_pass(spoken("yes"))
    grow(utterance, 0.5)
    utterance.pass_input()
    final = utterance.final_input()
    # A partial pass out at the pause still counts: the caller may go on.
    assert texts(utterance.on_pass(spoken("yes please"))) == ["yes"]
    assert final.offset_s == 0.0 and final.confirmed == ()
    assert utterance.final_text(final, spoken("yes please")) == "yes please"


def test_the_utterance_stays_open_after_a_final_input() -> None:
    utterance = grown(1.0)
    first = utterance.final_input()
    grow(utterance, 1.0)
    assert utterance.due_for_pass(0.5)
    assert utterance.final_input().audio.duration == first.audio.duration + 1.0


def test_a_refused_pass_is_due_again_at_once() -> None:
    utterance = grown(1.0)
    assert utterance.due_for_pass(0.5)
    utterance.pass_input()
    utterance.pass_refused()
    assert utterance.due_for_pass(0.5)
    assert utterance.pass_input().audio.duration == 1.0


def test_the_cut_never_passes_the_audio_the_pass_heard() -> None:
    utterance = grown(1.0)
    utterance.pass_input()
    utterance.on_pass([Word("hello", 0.1, 0.6, 0.9)])
    utterance.pass_input()
    utterance.on_pass([Word("hello", 0.1, 1.4, 0.9)])  # a time past the audio's end
    assert utterance.cut_s == pytest.approx(1.0)


def test_an_utterance_keeps_the_rate_of_its_first_frame() -> None:
    utterance = StreamingUtterance()
    utterance.append(ramp(0.5, rate=8000))
    assert utterance.final_input().audio.rate == 8000
    with pytest.raises(ValueError, match="8000 Hz, not 16000 Hz"):
        utterance.append(ramp(0.5))


# Real passes over real speech

STEP_S = 0.5
"""Audio arrives, and partial passes run, every STEP_S seconds of speech."""
REQUESTS = (
    "Hello, my order number is four five six seven and it has not arrived yet.",
    "I would like to return the shoes from order two nine one eight, they are too small.",
    "The parcel for order seven seven three one was delivered to the wrong address.",
    "Can you tell me when order number eight zero four two will be shipped?",
    "I was charged twice for order three six five nine, please refund my money.",
    "My package with order number one two eight four arrived damaged.",
    "Please change the delivery address for order five five zero nine to my office.",
    "I have been waiting three weeks for order six one four seven to arrive.",
    "My email is john dot smith at gmail dot com and my order is three three one two.",
    "The tracking page says order nine four four zero is still in the warehouse.",
    "I live at twenty two Baker Street, can you send the replacement there?",
    "Could you cancel order seven one zero five before it ships, please?",
    "Order number two two eight six came with the wrong size, I need a large.",
    "I paid for express delivery on order four zero zero one but it took a week.",
    "Hi, I am calling about my refund for order eight eight five three.",
    "The courier left my parcel outside and now order one nine seven six is missing.",
)
"""Support requests of 3-8 s with order numbers."""


@dataclass(frozen=True, slots=True)
class Streamed:
    """One clip streamed through StreamingUtterance, and its whole-utterance transcript."""

    said: str
    audio: AudioFrame
    confirmed_before_final: tuple[Word, ...]
    final: PassInput
    text: str
    whole_text: str

    @property
    def unconfirmed_s(self) -> float:
        """The audio after the last confirmed word when the final pass began."""
        confirmed = self.confirmed_before_final
        return self.audio.duration - (confirmed[-1].end_s if confirmed else 0.0)


def stream(asr: WhisperAsr, said: str, audio: AudioFrame) -> Streamed:
    """The clip as it would arrive on a call: partial passes every STEP_S s, then the final."""
    hint = AsrHint()
    utterance = StreamingUtterance()
    for chunk in audio.chunks(STEP_S):
        utterance.append(chunk)
        if utterance.due_for_pass(STEP_S):
            job = utterance.pass_input()
            heard = asr.transcribe_words_blocking(job.audio, hint, job.prompt, fallback=False)
            utterance.on_pass(heard.words)
    confirmed = utterance.confirmed
    final = utterance.final_input()
    heard_final = asr.transcribe_words_blocking(final.audio, hint, final.prompt)
    text = utterance.final_text(final, heard_final.words)
    whole = asr.transcribe_blocking(audio, hint).text
    return Streamed(said, audio, confirmed, final, text, whole)


@pytest.fixture(scope="module")
def tiny() -> Iterator[WhisperAsr]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        asr = WhisperAsr(AsrSettings(), ModelStore(ModelsSettings(), PathsSettings()), pool)
        asr.load()
        yield asr


@pytest.fixture(scope="module")
def streamed(tiny: WhisperAsr) -> list[Streamed]:
    """Each request said by two voices (32 clips): tiny.en's reading of one clip varies too
    much for a smaller set to tell a streamed transcript's errors from chance."""
    clips: list[Streamed] = []
    for i, said in enumerate(REQUESTS):
        for voice in (ESPEAK_VOICES[i % 4], ESPEAK_VOICES[(i + 1) % 4]):
            clips.append(stream(tiny, said, EspeakVoice(voice).speak(said)))
    return clips


@pytest.mark.slow
def test_the_clips_are_support_requests_of_3_to_8_seconds(streamed: list[Streamed]) -> None:
    assert all(3.0 <= clip.audio.duration <= 8.0 for clip in streamed)


@pytest.mark.slow
def test_the_final_pass_is_given_only_the_unconfirmed_tail(streamed: list[Streamed]) -> None:
    longest_word_s = 0.8
    for clip in streamed:
        final, confirmed = clip.final, clip.confirmed_before_final
        # Its prompt is the confirmed words before its audio; its audio, the rest of the clip:
        # the unconfirmed tail and the last CONTEXT_S of confirmed speech, from a word's end.
        before = [word for word in confirmed if word.end_s <= final.offset_s + 1e-3]
        assert final.prompt == words_text(before)
        assert final.audio.end == pytest.approx(clip.audio.duration)
        assert final.audio.duration <= clip.unconfirmed_s + CONTEXT_S + longest_word_s
        assert clip.text.startswith(final.prompt)
    # Passes that keep disagreeing (a spelled e-mail address) confirm nothing to cut at.
    cut = [clip for clip in streamed if clip.final.prompt]
    assert len(cut) >= 0.75 * len(streamed), [clip.text for clip in streamed]
    assert all(clip.final.audio.duration < clip.audio.duration for clip in cut)
    tail_s = sum(clip.final.audio.duration for clip in streamed)
    whole_s = sum(clip.audio.duration for clip in streamed)
    assert tail_s < 0.75 * whole_s, (tail_s, whole_s)


@pytest.mark.slow
def test_the_streamed_text_is_as_accurate_as_the_whole_utterance_pass(
    streamed: list[Streamed],
) -> None:
    said = [clip.said for clip in streamed]
    whole = word_error_rate(said, [clip.whole_text for clip in streamed])
    streamed_wer = word_error_rate(said, [clip.text for clip in streamed])
    # Against what was said, not against the whole pass's own reading: tiny.en reads these
    # clips differently when as little as their first 50 ms are cut away (30% of words).
    assert streamed_wer <= whole + 0.05, (streamed_wer, whole)


@pytest.mark.slow
def test_words_are_timed_on_the_audio_clock(tiny: WhisperAsr) -> None:
    speech = EspeakVoice("en-us").speak("Where is my parcel? It has not arrived.")
    audio = AudioFrame(speech.samples, speech.rate, timestamp=2.0)
    words = tiny.transcribe_words_blocking(audio, AsrHint()).words
    assert comparable(words[0].text) == "where"
    assert all(audio.timestamp <= w.start_s <= w.end_s <= audio.end for w in words)
    assert [w.start_s for w in words] == sorted(w.start_s for w in words)
    assert all(0.0 < w.probability <= 1.0 for w in words)


@pytest.mark.slow
def test_the_prompt_conditions_the_pass_without_being_echoed(tiny: WhisperAsr) -> None:
    audio = EspeakVoice("en-gb+f3").speak("four five six seven")
    words = tiny.transcribe_words_blocking(audio, AsrHint(), "My order number is").words
    assert "order" not in [comparable(word.text) for word in words]
    assert scored_form(words_text(words)) == "4567"
