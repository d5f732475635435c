"""Streaming recognition: the transcript grows while the caller speaks.

While an utterance grows it is decoded again every ~0.5-1 s of new audio (a *pass*). Words
that two successive passes agree on are *confirmed* (``LocalAgreement``, the policy of
whisper_streaming: Macháček, Dabre and Bojar, "Turning Whisper into Real-Time Transcription
System", 2023). Then the utterance is *cut* at a confirmed word boundary: the next pass
decodes only the audio after it, with the confirmed text before it as its prompt
(previous-text conditioning; a forced decoder prefix would cost the same decoder steps as
decoding the words again, docs/asr-short-window.md). At the pause the final pass covers only
the unconfirmed tail and the last ``context_s`` of confirmed speech, so the transcript is
ready soon after the caller stops.

Why the cut keeps a second of confirmed speech (measured: 32 espeak clips of 3-5 s, 16 support
requests by two voices each, tiny.en, a pass every 0.5 s; WER against what was said): cutting
right at the end of the last confirmed word made the streamed transcripts 45.6% wrong against
32.0% for one pass over each whole utterance. Word ends from alignment are often a few frames
late, so the next pass starts inside the next word's onset and mishears it ("tell me" ->
"tell Be"), and two passes that start at the same clipped onset then agree on the error.
Starting the pass a second earlier, at a word boundary, keeps the onset whole: 28.1% (64
clips, four voices each: 29.0% streamed and 29.0% whole), while the final pass covers 60-64%
of the audio instead of 42%. The words heard again are dropped by their times
(``LocalAgreement.after_confirmed``) and are left out of the prompt: a prompt that already
holds the words the audio starts with made passes skip or garble them.

``LocalAgreement`` and ``StreamingUtterance`` are sans-I/O: words and audio in, words and pass
inputs out; who runs the passes, on which thread and when, is the caller's choice.
``WhisperAsr.transcribe_words_blocking`` is one blocking pass over the real model.

Times are seconds on the utterance's clock: 0 is its first sample.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.stages.asr import Word

__all__ = [
    "CONTEXT_S",
    "LocalAgreement",
    "PassInput",
    "StreamingUtterance",
    "Word",
    "comparable",
    "words_text",
]

logger = logging.getLogger(__name__)

CONTEXT_S = 1.0
"""Confirmed speech a pass hears again before its new words (see the module's docstring)."""

CUT_LEAD_S = 0.1
"""How far before a confirmed word's aligned end the cut is made."""

_NOT_WORD = re.compile(r"[^\w]+")
_TIMING_JITTER_S = 0.06
"""How far two passes' times for one word's start may differ (a spoken "4" may last 80 ms)."""
_RECHECKED_WORDS = 3
"""Confirmed words, from the last, that a new word may be the same as."""


def comparable(text: str) -> str:
    """A word as two passes are compared on: case and punctuation dropped ("Parcel?" is
    "parcel", "don't" is "dont")."""
    return _NOT_WORD.sub("", text.casefold())


def words_text(words: Sequence[Word]) -> str:
    return " ".join(word.text for word in words)


class LocalAgreement:
    """Confirms the words that the last two passes agree on (LocalAgreement-2).

    Each pass's hypothesis is compared with the previous pass's unconfirmed words: their
    longest common prefix, on ``comparable`` text, is confirmed. Confirmed words are final:
    a later pass that reads them differently changes nothing. A confirmed word keeps the times
    of the newer pass, which heard more of what followed it.
    """

    def __init__(self) -> None:
        self._confirmed: list[Word] = []
        self._pending: list[Word] = []

    @classmethod
    def after(cls, confirmed: Sequence[Word]) -> LocalAgreement:
        """An agreement that has confirmed `confirmed` so far."""
        agreement = cls()
        agreement._confirmed = list(confirmed)
        return agreement

    @property
    def confirmed(self) -> tuple[Word, ...]:
        return tuple(self._confirmed)

    @property
    def pending(self) -> tuple[Word, ...]:
        """The latest pass's words after the confirmed ones: not agreed on yet (interim)."""
        return tuple(self._pending)

    @property
    def confirmed_end_s(self) -> float:
        """Where the last confirmed word ends (0 before any is confirmed)."""
        return self._confirmed[-1].end_s if self._confirmed else 0.0

    def feed(self, hypothesis: Sequence[Word]) -> list[Word]:
        """Take one pass's words (times on the utterance's clock); return the newly confirmed."""
        fresh = self.after_confirmed(hypothesis)
        agreed = 0
        for earlier, later in zip(self._pending, fresh, strict=False):
            if comparable(earlier.text) != comparable(later.text):
                break
            agreed += 1
        newly = fresh[:agreed]
        self._confirmed.extend(newly)
        self._pending = fresh[agreed:]
        return newly

    def after_confirmed(self, hypothesis: Sequence[Word]) -> list[Word]:
        """The words of `hypothesis` that come after what is confirmed.

        A pass that starts before the end of the confirmed words hears some of them again:
        a word is new when its middle lies after that end (the middle, not the start: word
        times of two passes differ by a few 20 ms frames, and "4" may last only 80 ms), unless
        it is a confirmed word again, stretched over the pause after it (alignment gives a
        word before silence the silence too): the same text, starting where that word started.
        A digit said twice ("0 0") starts a whole word later the second time.
        Words with nothing comparable in them (a lone dash) carry no vote.
        """
        end = self.confirmed_end_s if self._confirmed else -1.0
        return [
            word
            for word in hypothesis
            if (word.start_s + word.end_s) / 2 >= end
            and comparable(word.text)
            and not self._heard_again(word)
        ]

    def _heard_again(self, word: Word) -> bool:
        text = comparable(word.text)
        return any(
            comparable(confirmed.text) == text
            and abs(word.start_s - confirmed.start_s) <= _TIMING_JITTER_S
            for confirmed in self._confirmed[-_RECHECKED_WORDS:]
        )


@dataclass(frozen=True, slots=True)
class PassInput:
    """What one pass decodes: audio from the cut on, after the confirmed text before it."""

    audio: AudioFrame
    """At the utterance's rate; its timestamp is `offset_s`, so words timed on its clock are on
    the utterance's."""
    prompt: str
    """The confirmed words before the cut, given to the decoder as what was said before."""
    offset_s: float
    """Where the audio starts in the utterance: the cut, the end of a confirmed word."""
    confirmed: tuple[Word, ...] = ()
    """The words confirmed when the input was taken: a final pass's text follows on them."""


class StreamingUtterance:
    """One growing utterance, decoded in passes while it grows (sans-I/O).

    The caller appends the utterance's audio as it arrives. When ``due_for_pass`` it takes a
    ``pass_input``, decodes it (``WhisperAsr.transcribe_words_blocking``, off the event loop)
    and hands the words to ``on_pass``, which confirms what two passes agree on and moves the
    cut to the end of the confirmed word that ends `context_s` before the last confirmed one (0:
    the end of the last confirmed word itself). At a pause, ``final_input`` is the unconfirmed
    tail with that context only, and ``final_text`` joins the words confirmed then with the
    final pass's new ones.

    One partial pass at a time: none is due while one is out. A final input leaves the
    utterance open: a caller who goes on after the pause is heard on, and the final pass taken
    at the pause is simply not used.
    """

    def __init__(self, context_s: float = CONTEXT_S, cut_lead_s: float = CUT_LEAD_S) -> None:
        self._context_s = context_s
        self._cut_lead_s = cut_lead_s
        self._rate: int | None = None
        self._chunks: list[Int16Array] = []
        self._samples = 0
        self._agreement = LocalAgreement()
        self._cut = 0
        """Sample where the next pass starts."""
        self._passed = 0
        """Sample where the audio of the last partial pass ended."""
        self._unpassed = 0
        """The same before the last pass was taken (it may be refused)."""
        self._in_flight = False

    def append(self, frame: AudioFrame) -> None:
        if self._rate is None:
            self._rate = frame.rate
        elif frame.rate != self._rate:
            raise ValueError(f"an utterance has one rate: {self._rate} Hz, not {frame.rate} Hz")
        self._chunks.append(frame.samples)
        self._samples += len(frame.samples)

    @property
    def rate(self) -> int:
        return self._rate or PIPELINE_RATE

    @property
    def duration_s(self) -> float:
        return self._samples / self.rate

    @property
    def confirmed(self) -> tuple[Word, ...]:
        return self._agreement.confirmed

    @property
    def confirmed_text(self) -> str:
        return words_text(self._agreement.confirmed)

    @property
    def pending(self) -> tuple[Word, ...]:
        """The latest pass's unconfirmed words (interim captions)."""
        return self._agreement.pending

    @property
    def cut_s(self) -> float:
        """Where the next pass starts: the end of a confirmed word (0 at first)."""
        return self._cut / self.rate

    def due_for_pass(self, min_new_s: float) -> bool:
        """Whether at least `min_new_s` of audio came since the last pass's input ended."""
        if self._in_flight:
            return False
        return self._samples - self._passed >= self._sample(min_new_s)

    def pass_input(self) -> PassInput:
        """The next partial pass: the audio from the cut to now, the confirmed text before it."""
        self._in_flight = True
        self._unpassed, self._passed = self._passed, self._samples
        return self._input()

    def pass_refused(self) -> None:
        """The pass just taken was not run (no room for it): it is due again at once."""
        self._in_flight = False
        self._passed = self._unpassed

    def on_pass(self, words: Sequence[Word]) -> list[Word]:
        """Take a partial pass's words (on the utterance's clock); return the newly confirmed.

        The cut moves on to the end of the confirmed word that ends `context_s` before the
        last confirmed one: the next pass starts there.
        """
        self._in_flight = False
        newly = self._agreement.feed(words)
        if newly:
            limit = self._agreement.confirmed_end_s - self._context_s
            boundaries = [word.end_s for word in self._agreement.confirmed if word.end_s <= limit]
            if boundaries:
                # A little before the boundary: aligned word ends run late, and a pass that
                # starts inside the next word's onset mishears it, or stops short after it.
                # Never past the audio the pass heard, never back before an earlier cut.
                end = min(self._sample(boundaries[-1] - self._cut_lead_s), self._passed)
                self._cut = max(self._cut, end)
        return newly

    def final_input(self) -> PassInput:
        """The final pass, at a pause: the unconfirmed tail and the context before it."""
        return self._input()

    def audio(self) -> AudioFrame:
        """All of the utterance so far."""
        return self._audio_from(0)

    def final_text(self, final: PassInput, words: Sequence[Word]) -> str:
        """The transcript up to `final`: the words confirmed when it was taken, then the final
        pass's words after them."""
        agreement = LocalAgreement.after(final.confirmed)
        return words_text([*final.confirmed, *agreement.after_confirmed(words)])

    def _input(self) -> PassInput:
        audio = self._audio_from(self._cut)
        # What was said before the audio only: a decoder told that the words the audio starts
        # with were already said skips or garbles them.
        confirmed = self.confirmed
        before = [word for word in confirmed if self._sample(word.end_s) <= self._cut]
        return PassInput(audio, words_text(before), audio.timestamp, confirmed)

    def _audio_from(self, sample: int) -> AudioFrame:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]  # joined once per pass, not per read
        samples = self._chunks[0] if self._chunks else np.zeros(0, dtype=np.int16)
        return AudioFrame(samples[sample:].copy(), self.rate, sample / self.rate)

    def _sample(self, seconds: float) -> int:
        return round(seconds * self.rate)
