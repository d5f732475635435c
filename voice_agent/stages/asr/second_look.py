"""A second look at a doubtful first guess of a caller's language (open-language passes).

Whisper's language token alone takes German and Brazilian Portuguese for English or Spanish
on synthetic and accented speech (benchmarks/results/asr-languages.md). When its guess is
doubtful (its share among the offered languages below ``AsrSettings.lid_recheck_below``),
whisper.py decodes the same encoder output in the runner-up languages too, and each reading
is scored by what all three know:

- the language token's log-share (the acoustic guess);
- ``LOGPROB_WEIGHT`` times the decode's mean token log-probability: a decode in the wrong
  language translates or transliterates, and is less sure of its tokens on average;
- ``OWN_WORDS_BONUS`` when the words read as that language
  (``voice_agent.lexicon.text_language``).

The weights were chosen on benchmarks/corpus/callers_<lang>.txt (benchmarks/asr_lid.py,
``--set tuning``) and reported on a held-out set (``--set heldout``).

``chosen`` gives the chosen language's share among the offered languages after combining:
the decoded readings share the mass the language token gave them, by their combined weight
with the decode's part softened by ``SHARE_TEMPERATURE`` (a pick made on a second look is
less certain than its margin says); the languages not decoded keep their own share.
whisper.py reports ``language_probability`` as that share times the mass the token gave the
offered languages together, the scale it has without a second look (the probability among
all languages), so that the dialogue's thresholds (0.5 adopts a first guess, 0.8 switches a
settled call) keep their meaning: speech the model hears as none of the offered languages
is never reported sure. On the tuning set, guesses at 0.5 or more were 97% right (45% of
them), at 0.8 or more 100% (29%), as without the second look; as shares alone they were
83% and 94% right, which would adopt far more wrong guesses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LOGPROB_WEIGHT = 8.0
"""Weight of a reading's mean token log-probability against the language token's log-share."""
OWN_WORDS_BONUS = 1.0
"""Added (log scale) when a reading's words read as the language it was decoded in."""
SHARE_TEMPERATURE = 2.0
"""The decode's part of the weight is divided by this in the reported share (not the pick)."""
_FLOOR = 1e-9
"""A share the language token gave as 0 still has a log."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One decoding of the utterance in `language`, as the second look weighs it."""

    language: str
    share: float
    """The language token's share for `language` among the offered languages."""
    avg_logprob: float
    """The decode's mean token log-probability."""
    reads_as_own: bool
    """Whether the decoded words read as `language` (the lexicon's text guess)."""

    def evidence(self) -> float:
        """What the decode says for `language` (log scale), the language token left out."""
        return LOGPROB_WEIGHT * self.avg_logprob + (OWN_WORDS_BONUS if self.reads_as_own else 0.0)

    def score(self) -> float:
        return math.log(max(self.share, _FLOOR)) + self.evidence()


def shares(ranked: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """`ranked` (language, probability) with each probability as its share of them all."""
    total = sum(probability for _, probability in ranked) or 1.0  # never 0 from a softmax
    return [(language, probability / total) for language, probability in ranked]


def doubtful(top_share: float, below: float) -> bool:
    """Whether the language token's guess, `top_share` sure, needs a second look."""
    return top_share < below


def chosen(readings: Sequence[Reading]) -> tuple[Reading, float]:
    """The reading the evidence favours, and its language's share after combining (see the
    module's doc). Raises ValueError for no readings."""
    if not readings:
        raise ValueError("a second look needs at least one reading")
    best = max(readings, key=Reading.score)
    strongest = max(reading.evidence() for reading in readings)
    weights = {
        reading.language: max(reading.share, _FLOOR)
        * math.exp((reading.evidence() - strongest) / SHARE_TEMPERATURE)
        for reading in readings
    }
    decoded_mass = sum(reading.share for reading in readings)
    probability = decoded_mass * weights[best.language] / sum(weights.values())
    return best, min(max(probability, 0.0), 1.0)
