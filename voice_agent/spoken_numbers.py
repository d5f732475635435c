"""English number words, shared by the ASR's digit rewriting and the dialogue's entities."""

from __future__ import annotations

DIGIT_WORDS = {
    word: value
    for value, word in enumerate("zero one two three four five six seven eight nine".split())
}
TEENS = {
    word: value + 10
    for value, word in enumerate(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,  # as ASR sometimes spells it
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
REPEATS = {"double": 2, "triple": 3, "treble": 3}
"""Words that repeat the next digit: "double seven" is 7 7."""
SOUNDALIKES = {"to": "2", "too": "2", "for": "4", "ate": "8", "won": "1"}
"""Words ASR writes for a digit said alone ("0 3 to 1"); a digit only between other digits."""
