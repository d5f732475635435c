"""Scenario files: the callers' language, its voices, and where the files are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_agent.bench.scenario import (
    VOICES,
    ScenarioError,
    by_language,
    caller_voice,
    load_scenario,
    parse_scenario,
    scenario_files,
    voice_for,
)
from voice_agent.bench.voices import LANGUAGE_VOICES
from voice_agent.languages import SUPPORTED

LANGUAGE_SCENARIOS = Path(__file__).parents[2] / "benchmarks" / "scenarios-languages"


def _scenario(language: str | None = None, name: str = "call") -> dict[str, object]:
    data: dict[str, object] = {"name": name, "turns": [{"say": "Hallo."}]}
    if language is not None:
        data["language"] = language
    return data


def test_a_scenario_in_a_language_is_spoken_by_that_languages_voices() -> None:
    german = parse_scenario(_scenario("de"))
    assert german.language == "de"
    assert german.voices == LANGUAGE_VOICES["de"]
    assert all(voice.startswith("de") for voice in german.voices)
    assert parse_scenario(_scenario("pt")).voices[0] == "pt-br"  # Brazil's, as the agent's


def test_a_scenario_without_a_language_keeps_the_english_voices_and_piper() -> None:
    english = parse_scenario(_scenario())
    assert english.language is None
    assert english.voices == VOICES
    assert any(voice.startswith("piper:") for voice in english.voices)


def test_every_language_the_agent_speaks_has_caller_voices() -> None:
    assert set(LANGUAGE_VOICES) == set(SUPPORTED)
    assert all(len(voices) >= 2 for voices in LANGUAGE_VOICES.values())


@pytest.mark.parametrize("language", ["xx", "de-DE", 7, ""])
def test_a_language_without_caller_voices_is_refused_saying_which_exist(language: object) -> None:
    with pytest.raises(ScenarioError, match=r"language must be one of en, de, es, fr, pt"):
        parse_scenario({**_scenario(), "language": language}, Path("bad.toml"))


def test_a_languages_calls_hear_every_scenario_in_every_voice() -> None:
    # as many scenarios as voices: rotating with the calls would pin each scenario to one voice
    scenarios = [parse_scenario(_scenario("de", f"call-{n}")) for n in range(3)]
    heard: dict[str, set[str]] = {}
    for call in range(9):
        scenario = scenarios[call % 3]
        heard.setdefault(scenario.name, set()).add(caller_voice(scenario, call, 3))
    assert all(voices == set(LANGUAGE_VOICES["de"]) for voices in heard.values())


def test_scenarios_without_a_language_rotate_voices_as_before() -> None:
    scenario = parse_scenario(_scenario())
    assert [caller_voice(scenario, call, 2) for call in range(8)] == [
        voice_for(call) for call in range(8)
    ]


def test_a_folder_of_language_folders_is_read_and_grouped_by_language(tmp_path: Path) -> None:
    for language in ("fr", "de"):
        (tmp_path / language).mkdir()
        for name in ("b", "a"):
            (tmp_path / language / f"{name}.toml").write_text(
                f'language = "{language}"\n[[turns]]\nsay = "Oui."\n', encoding="utf-8"
            )
    files = scenario_files(tmp_path)
    assert [f"{path.parent.name}/{path.name}" for path in files] == [
        "de/a.toml",
        "de/b.toml",
        "fr/a.toml",
        "fr/b.toml",
    ]
    groups = by_language([load_scenario(path) for path in files])
    assert list(groups) == ["de", "fr"]
    assert [scenario.name for scenario in groups["fr"]] == ["a", "b"]


def test_a_folder_with_scenarios_of_its_own_ignores_its_sub_folders(tmp_path: Path) -> None:
    (tmp_path / "top.toml").write_text('[[turns]]\nsay = "Hi."\n', encoding="utf-8")
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "x.toml").write_text('[[turns]]\nsay = "Hallo."\n', encoding="utf-8")
    assert scenario_files(tmp_path) == [tmp_path / "top.toml"]
    with pytest.raises(ScenarioError, match="no scenario files"):
        scenario_files(tmp_path / "de" / "none")


def test_the_shipped_language_scenarios_are_three_calls_per_language() -> None:
    scenarios = [load_scenario(path) for path in scenario_files(LANGUAGE_SCENARIOS)]
    groups = by_language(scenarios)
    assert set(groups) == set(SUPPORTED)
    for language, group in groups.items():
        assert {s.source.parent.name for s in group if s.source} == {language}
        assert sorted(s.name for s in group) == [
            f"{language}-{call}" for call in ("customs-duties", "order-status", "person")
        ]
        assert all(turn.expect for scenario in group for turn in scenario.turns)
    # the same calls in every language: turns and callers line up with English's
    shape = {s.name[3:]: (len(s.turns), len(s.callers)) for s in groups["en"]}
    for group in groups.values():
        assert {s.name[3:]: (len(s.turns), len(s.callers)) for s in group} == shape
