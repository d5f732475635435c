"""The per-language summary of a bench report: differences to English, first lines apart."""

from __future__ import annotations

from typing import Any

from benchmarks.languages_latency import (
    content_rows,
    first_turn_rows,
    load_turns,
    summary,
    voice_to_voice_rows,
)


def _run(
    language: str | None, hinted: bool | None, v2v: list[float], **kind: Any
) -> dict[str, Any]:
    details = [
        {
            "turn": index % 3,
            "voice_to_voice_ms": ms,
            "content_ok": index % 3 != 0 or bool(hinted),
            "stages_ms": {"reply_first_text": 300.0, "tts_first_audio": 300.0 + ms / 10},
        }
        for index, ms in enumerate(v2v)
    ]
    details.append({"turn": 4, "voice_to_voice_ms": None, "content_ok": None, "stages_ms": {}})
    return {
        "transport": kind.get("transport", "webrtc"),
        "receive": kind.get("receive", "arrival"),
        "profile": kind.get("profile", "clean"),
        "calls": 1,
        "language": language,
        "hinted": hinted,
        "turns_detail": details,
        "failures": kind.get("failures", []),
    }


def _report() -> dict[str, Any]:
    return {
        "started_at": "2026-12-02T16:00:00+00:00",
        "machine": "test",
        "command": "voice-agent bench --hint both",
        "notes": ["Machine load: low."],
        "runs": [
            _run("en", True, [500, 600, 700]),
            _run("en", False, [500, 600, 700]),
            _run("de", True, [550, 650, 750]),
            _run("de", False, [900, 650, 750]),
            _run("de", True, [5000], receive="browser"),  # another receive mode: left out
            _run("fr", True, [5000], profile="cross-border"),  # an impaired line: left out
            _run(None, None, [100]),  # no language: left out
            _run("es", True, [], failures=["call 0: busy"]),  # no turn, a failure
            _run("de", True, [5000], transport="sip"),  # another transport: apart
        ],
    }


def test_only_answered_turns_of_clean_series_in_a_language_count() -> None:
    turns = load_turns(_report())
    assert len(turns) == 12
    assert {turn.language for turn in turns} == {"en", "de"}


def test_each_language_is_compared_with_english_on_p50_and_p95() -> None:
    english, german = voice_to_voice_rows(load_turns(_report()))
    assert english[0] == "en" and english[-1] == "-"
    # de hinted 550/650/750, identified 900/650/750: together p50 700 (English 600), p95 862.5
    # (English 700): 100 and 163 ms more, over the 100 ms goal by 63 ms
    assert german[:4] == ["de", "650", "740", "3"]
    assert german[7:10] == ["700", "862", "6"]
    assert german[10:] == ["+100", "+162", "+50", "no (+62 ms over)"]


def test_the_first_line_is_shown_apart_from_the_later_ones() -> None:
    (_, german) = first_turn_rows(load_turns(_report()))
    assert german == ["de", "550 (n=1)", "700 (n=2)", "900 (n=1)", "700 (n=2)"]
    (_, german_content) = content_rows(load_turns(_report()))
    assert german_content == ["de", "100% (n=3)", "67% (n=3)", "100% (n=1)", "0% (n=1)"]


def test_the_summary_says_how_to_reproduce_it_and_under_what_load() -> None:
    text = summary(_report(), "benchmarks/results/bench-languages/report.json", {"de": "thorsten"})
    assert "voice-agent bench --hint both" in text
    assert "python -m benchmarks.languages_latency benchmarks/results/bench-languages" in text
    assert "- Machine load: low." in text
    assert "| de | thorsten |" in text
    assert "- Failed call, es hinted: call 0: busy" in text
    sip = summary(_report(), "x/report.json", transport="sip")
    assert "| de | 5000 | 5000 | 1 |" in sip and "--transport sip" in sip
