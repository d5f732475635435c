"""Word error rate as the speech benchmarks and tests score it.

Whisper's English normaliser, then spoken and written forms of a number or a code made one
word: "four five", "4, 5" and "45" are the same, and so are "k l m" and "KLM".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import jiwer
from whisper_normalizer.english import EnglishTextNormalizer

_NORMALIZE = EnglishTextNormalizer()
_DIGITS = {
    word: str(value)
    for value, word in enumerate("zero one two three four five six seven eight nine".split())
}


def scored_form(text: str, *, join_digit_groups: bool = True) -> str:
    """`text` as it is scored: normalised, digits spoken or written ("four five", "4 5",
    "45") as one word, runs of single letters or digits joined; with `join_digit_groups`, also
    any run of digit groups ("365 9" is "3659": a streamed pass that confirmed "365" before the
    next one heard "9"; the dialogue reads digits one by one either way).

    benchmarks/stages.py scores without `join_digit_groups`, as its committed results were."""
    normal = _NORMALIZE(re.sub(r"(\d)[,.-]\s*(?=\d)", r"\1 ", text))
    digits = " ".join(_DIGITS.get(word, word) for word in normal.split())
    joined = re.sub(r"\b(\w)\s+(?=\w\b)", r"\1", digits)
    return re.sub(r"(?<=\d) (?=\d)", "", joined) if join_digit_groups else joined


def word_error_rate(
    said: Sequence[str], heard: Sequence[str], *, join_digit_groups: bool = True
) -> float:
    """Corpus WER (0..1) of `heard` against `said`, both in their scored form: all the errors
    over all the words said."""
    return float(
        jiwer.wer(
            [scored_form(text, join_digit_groups=join_digit_groups) for text in said],
            [scored_form(text, join_digit_groups=join_digit_groups) for text in heard],
        )
    )
