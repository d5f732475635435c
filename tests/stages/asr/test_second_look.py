"""Weighing the readings of a doubtful language guess (pure; the real model's second look is
tested in test_whisper.py)."""

import math

import pytest

from voice_agent.stages.asr.second_look import Reading, chosen, doubtful, shares


def test_probabilities_become_shares_of_the_candidates() -> None:
    ranked = shares([("en", 0.3), ("de", 0.1), ("pt", 0.1)])
    assert [code for code, _ in ranked] == ["en", "de", "pt"]
    assert [round(share, 2) for _, share in ranked] == [0.6, 0.2, 0.2]


def test_only_a_guess_below_the_threshold_is_doubtful() -> None:
    assert doubtful(0.79, below=0.8)
    assert not doubtful(0.8, below=0.8)
    assert not doubtful(0.99, below=0.0)  # 0: never a second look


def test_a_much_surer_reading_wins_over_a_somewhat_likelier_language() -> None:
    translated = Reading("en", 0.6, avg_logprob=-1.3, reads_as_own=True)
    heard = Reading("pt", 0.3, avg_logprob=-0.5, reads_as_own=True)
    best, probability = chosen([translated, heard])
    assert best is heard
    assert 0.5 < probability <= 0.9  # at most the mass of the two decoded languages


def test_a_far_likelier_language_keeps_its_guess_over_a_slightly_surer_reading() -> None:
    sure = Reading("de", 0.75, avg_logprob=-0.8, reads_as_own=True)
    other = Reading("en", 0.2, avg_logprob=-0.75, reads_as_own=True)
    best, probability = chosen([sure, other])
    assert best is sure
    assert probability > 0.5


def test_words_that_read_as_the_language_tip_an_even_balance() -> None:
    garbled = Reading("es", 0.5, avg_logprob=-0.9, reads_as_own=False)
    fluent = Reading("pt", 0.5, avg_logprob=-0.9, reads_as_own=True)
    assert chosen([garbled, fluent])[0] is fluent
    assert chosen([fluent, garbled])[0] is fluent


def test_the_reported_share_is_softer_than_the_pick() -> None:
    """The chosen language's share is below what its evidence gives at full weight, above
    an even split of the decoded mass, and leaves out the mass of the languages not decoded."""
    first = Reading("en", 0.5, avg_logprob=-1.2, reads_as_own=True)
    second = Reading("de", 0.3, avg_logprob=-0.6, reads_as_own=True)
    best, probability = chosen([first, second])
    assert best is second
    weights = [r.share * math.exp(r.evidence()) for r in (first, second)]
    at_full_weight = 0.8 * weights[1] / sum(weights)
    assert 0.4 < probability < at_full_weight < 0.8


def test_a_single_reading_keeps_its_own_share() -> None:
    only = Reading("fr", 0.7, avg_logprob=-0.4, reads_as_own=True)
    best, probability = chosen([only])
    assert best is only
    assert probability == pytest.approx(0.7)


def test_no_readings_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least one reading"):
        chosen([])
