"""The benchmark report: exact figures in report.json, the goals and by how much they were missed,
the comparison of two targets and the machine. The Markdown and HTML pages and their plots are in
test_report_pages.py, the runner's progress bar in test_progress.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from voice_agent.bench.report import (
    GOALS,
    NETWORK_AND_CALLER,
    Report,
    SeriesSummary,
    check_goals,
    compare_targets,
    describe_check,
    describe_machine,
    stage_segments,
    summarize,
    write_report,
)
from voice_agent.bench.results import Series, TurnFigures, TurnKind

# Characters that must be escaped in HTML, in the target URL
TARGET = "http://agent.test/<a>?x=1&y=2"


def _stages(endpoint: float) -> dict[str, float]:
    # asr_final before the endpoint: ASR finishes while the endpoint is still being decided
    return {
        "endpoint": endpoint,
        "asr_final": endpoint - 20,
        "reply_first_text": endpoint + 60,
        "tts_first_audio": endpoint + 100,
        "first_audio_sent": endpoint + 110,
    }


def _figures(p50: float, p95: float, p99: float, most: float, count: int) -> dict[str, float]:
    """Percentiles as report.json writes them."""
    return {"p50": p50, "p95": p95, "p99": p99, "max": most, "count": count}


def _reply(turn: int, v2v: float | None, **figures: Any) -> TurnFigures:
    return TurnFigures(call=0, turn=turn, kind=TurnKind.REPLY, voice_to_voice_ms=v2v, **figures)


def _clean_webrtc() -> Series:
    """Voice-to-voice 400, 450, 512, 600, 700 ms: p50 512, p95 680, p99 696 (interpolated)."""
    return Series(
        target=TARGET,
        transport="webrtc",
        profile="clean",
        receive="arrival",
        calls=1,
        turns=[
            _reply(0, 400, cut_off=True, content_ok=True, stages_ms=_stages(200)),
            _reply(1, 450, cut_off=False, content_ok=True, stages_ms=_stages(220)),
            _reply(2, 512, content_ok=True),
            _reply(3, 600, content_ok=False),
            _reply(4, 700),
            _reply(5, None, overlapped=True),
            _reply(6, None, no_reply=True),
            TurnFigures(0, 7, TurnKind.BARGE_IN, barge_in_pause_ms=40, barge_in_stop_ms=500),
            TurnFigures(0, 8, TurnKind.BARGE_IN, barge_in_pause_ms=60),
        ],
        target_cpu=0.5,
        target_rss_mb=300.0,
        failures=["call 2: ICE failed"],
    )


def _impaired_webrtc() -> Series:
    return Series(
        target=TARGET,
        transport="webrtc",
        profile="cross-border",
        receive="arrival",
        calls=1,
        added_delay_ms=150,
        turns=[
            _reply(0, 600, content_ok=True),
            _reply(1, 700, content_ok=False),
            _reply(2, 800),
        ],
        relay={"loss_up": 0.02, "delay_ms": 150.0},
    )


def _clean_sip() -> Series:
    turns = [_reply(0, 250), _reply(1, 250)]
    return Series(TARGET, "sip", "clean", "arrival", calls=1, turns=turns)


def _loaded_webrtc() -> Series:
    return Series(TARGET, "webrtc", "clean", "arrival", calls=4, turns=[_reply(0, 900)])


def all_series() -> list[Series]:
    return [_clean_webrtc(), _impaired_webrtc(), _clean_sip(), _loaded_webrtc()]


# --- summarize --------------------------------------------------------------------------------


def test_summary_keys_are_pinned() -> None:
    keys = """target transport profile receive calls language hinted turns voice_to_voice_ms
        voice_to_voice_net_ms barge_in_pause_ms barge_in_stop_ms barge_in_not_stopped
        false_cutoff_rate content_ok_rate no_reply overlapped stages_ms target_cpu target_rss_mb
        relay failures turns_detail"""

    assert list(summarize(_clean_webrtc())) == keys.split()


def test_summary_figures() -> None:
    summary = summarize(_clean_webrtc())

    v2v = _figures(512, 680, 696, 700, 5)
    assert summary["voice_to_voice_ms"] == v2v
    assert summary["voice_to_voice_net_ms"] == v2v  # clean: nothing added
    assert summary["barge_in_pause_ms"] == _figures(50, 59, 59.8, 60, 2)
    assert summary["barge_in_stop_ms"] == _figures(500, 500, 500, 500, 1)
    assert summary["barge_in_not_stopped"] == 1
    assert summary["false_cutoff_rate"] == 0.5  # 1 cut off of 2 turns with a planned pause
    assert summary["content_ok_rate"] == 0.75  # 3 of the 4 turns with expectations
    assert (summary["turns"], summary["no_reply"], summary["overlapped"]) == (9, 1, 1)
    assert (summary["target_cpu"], summary["target_rss_mb"]) == (0.5, 300.0)
    assert summary["relay"] is None
    assert summary["failures"] == ["call 2: ICE failed"]


def test_stages_are_summarized_over_the_turns_that_have_them_in_pipeline_order() -> None:
    stages = summarize(_clean_webrtc())["stages_ms"]

    assert isinstance(stages, dict)
    pipeline_order = "endpoint asr_final reply_first_text tts_first_audio first_audio_sent"
    assert list(stages) == pipeline_order.split()
    assert stages["endpoint"] == _figures(210, 219, 219.8, 220, 2)


def test_net_voice_to_voice_is_less_the_profiles_added_delay() -> None:
    summary = summarize(_impaired_webrtc())

    assert summary["voice_to_voice_ms"] == _figures(700, 790, 798, 800, 3)
    assert summary["voice_to_voice_net_ms"] == _figures(550, 640, 648, 650, 3)
    assert summary["relay"] == {"loss_up": 0.02, "delay_ms": 150.0}


def test_figures_that_do_not_apply_are_null() -> None:
    series = Series(TARGET, "webrtc", "clean", "arrival", calls=1, turns=[_reply(0, None)])

    summary = summarize(series)

    for key in (
        "voice_to_voice_ms",
        "voice_to_voice_net_ms",
        "barge_in_pause_ms",
        "barge_in_stop_ms",
        "false_cutoff_rate",
        "content_ok_rate",
        "target_cpu",
        "target_rss_mb",
    ):
        assert summary[key] is None, key
    assert summary["stages_ms"] == {}  # a target that sends no marks


def test_turns_detail_holds_every_field_with_the_kind_as_its_value() -> None:
    detail = summarize(_clean_webrtc())["turns_detail"]

    assert isinstance(detail, list)
    assert detail[0] == {
        "call": 0,
        "turn": 0,
        "kind": "reply",
        "voice_to_voice_ms": 400,
        "barge_in_pause_ms": None,
        "barge_in_stop_ms": None,
        "cut_off": True,
        "overlapped": False,
        "no_reply": False,
        "content_ok": True,
        "transcript": "",
        "stages_ms": _stages(200),
    }
    assert detail[8]["kind"] == "barge_in"
    json.dumps(detail)  # serializable as is


def test_stage_segments_are_p50_differences_in_time_order_then_network_and_caller() -> None:
    segments = stage_segments(SeriesSummary.of(_clean_webrtc()))

    # Stage p50s: endpoint 210, asr_final 190, reply 270, tts 310, sent 320; v2v p50 512.
    # asr_final finished before the endpoint (recognized while waiting for it): it comes first.
    assert segments == [
        ("asr_final", 190.0),
        ("endpoint", 20.0),
        ("reply_first_text", 60.0),
        ("tts_first_audio", 40.0),
        ("first_audio_sent", 10.0),
        (NETWORK_AND_CALLER, 192.0),
    ]


def test_no_stage_segments_for_a_target_without_marks() -> None:
    assert stage_segments(SeriesSummary.of(_clean_sip())) == []


# --- goals ------------------------------------------------------------------------------------


def _checks_by_goal(series: list[Series]) -> dict[tuple[str, str], dict[str, object]]:
    return {(str(c["transport"]), str(c["goal"])): c for c in check_goals(series)}


def test_latency_goals_say_by_how_much_they_were_missed_or_met() -> None:
    checks = _checks_by_goal(all_series())

    p50 = checks[("webrtc", "voice_to_voice_p50_ms")]
    assert (p50["measured"], p50["limit"], p50["met"], p50["over"], p50["to_spare"]) == (
        512.0,
        300,
        False,
        212.0,
        0.0,
    )
    assert checks[("webrtc", "voice_to_voice_p95_ms")]["over"] == 230.0
    assert checks[("webrtc", "voice_to_voice_p99_ms")]["over"] == 96.0
    sip = checks[("sip", "voice_to_voice_p50_ms")]
    assert (sip["met"], sip["over"], sip["to_spare"]) == (True, 0.0, 50.0)
    assert describe_check(p50)[1] == "missed by 212 ms"
    assert describe_check(sip)[1] == "met, 50 ms to spare"


def test_latency_goals_apply_to_one_clean_call_timed_on_arrival_only() -> None:
    checks = check_goals(all_series())

    latency = [c for c in checks if c["unit"] == "ms"]
    assert {(c["transport"], c["profile"], c["calls"]) for c in latency} == {
        ("webrtc", "clean", 1),
        ("sip", "clean", 1),
    }
    assert len(latency) == 6  # p50, p95, p99 for each
    assert len(checks) == 7  # and one content check: only webrtc has a cross-border twin


def test_content_goal_compares_impaired_accuracy_with_clean() -> None:
    content = _checks_by_goal(all_series())[("webrtc", "content_drop_points_max")]

    # clean 75% OK, cross-border 50% OK: a 25-point drop against at most 5
    assert content["clean_ok_rate"] == 0.75
    assert content["impaired_ok_rate"] == 0.5
    assert (content["measured"], content["met"], content["over"]) == (25.0, False, 20.0)
    assert describe_check(content)[1] == "missed by 20.0 points"


def test_a_goal_with_nothing_measured_is_neither_met_nor_missed() -> None:
    series = Series(TARGET, "webrtc", "clean", "arrival", calls=1, turns=[_reply(0, None)])

    check = check_goals([series])[0]

    assert (check["met"], check["over"], check["measured"]) == (None, None, None)
    assert describe_check(check)[1] == "not measured"


def test_goals_are_those_of_the_issue() -> None:
    assert GOALS == {
        "voice_to_voice_p50_ms": 300,
        "voice_to_voice_p95_ms": 450,
        "voice_to_voice_p99_ms": 600,
        "content_drop_points_max": 5,
    }


# --- compare and machine ----------------------------------------------------------------------


def test_compare_gives_both_targets_and_the_second_over_the_first() -> None:
    other = Series("http://other.test", "webrtc", "clean", "arrival", 1, turns=[_reply(0, 1024)])

    compare = compare_targets(_clean_webrtc(), other)

    assert compare["targets"] == [
        {
            "target": TARGET,
            "transport": "webrtc",
            "profile": "clean",
            "calls": 1,
            "voice_to_voice_p50_ms": 512.0,
            "voice_to_voice_p95_ms": 680.0,
        },
        {
            "target": "http://other.test",
            "transport": "webrtc",
            "profile": "clean",
            "calls": 1,
            "voice_to_voice_p50_ms": 1024.0,
            "voice_to_voice_p95_ms": 1024.0,
        },
    ]
    assert compare["second_over_first_p50"] == 2.0
    assert compare["second_over_first_p95"] == 1.51


def test_describe_machine_names_the_cpu_cores_and_python(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t: fpu\n")

    machine = describe_machine(cpuinfo)

    assert re.fullmatch(r"Test CPU 9000, \d+ cores, Python 3\.\d+\.\d+", machine), machine


# --- the written report -----------------------------------------------------------------------


def write_example_report(out: Path) -> None:
    """The report of all the series above, with every section; test_report_pages.py reads it too."""
    series = all_series()
    report = Report(
        title="Latency <bench>",
        command=f"voice-agent bench --target '{TARGET}'",
        machine="Test CPU, 2 cores, Python 3.11.7",
        started_at="2026-12-01T10:00:00+00:00",
        series=series,
        compare=compare_targets(series[0], series[2]),
        calibration={"loopback_ms": {"p50": 20.5}, "responder_delay_ms": 250},
        notes=["Most of the time goes to the endpoint decision."],
    )
    write_report(report, out)


def test_report_json_holds_the_runs_goals_and_sections(tmp_path: Path) -> None:
    write_example_report(tmp_path)

    document = json.loads((tmp_path / "report.json").read_text())

    keys = "title command machine started_at goals runs compare calibration notes"
    assert list(document) == keys.split()
    assert document["runs"] == [summarize(series) for series in all_series()]
    assert document["goals"]["limits"] == GOALS
    assert document["goals"]["checks"] == check_goals(all_series())
    assert document["compare"]["second_over_first_p50"] == 0.49
    assert document["calibration"] == {"loopback_ms": {"p50": 20.5}, "responder_delay_ms": 250}
    assert document["notes"] == ["Most of the time goes to the endpoint decision."]


def _in_language(language: str, hinted: bool, v2v: float, profile: str = "clean") -> Series:
    return Series(
        target=TARGET,
        transport="webrtc",
        profile=profile,
        receive="arrival",
        calls=1,
        turns=[_reply(0, v2v, content_ok=True), _reply(1, v2v + 100, content_ok=True)],
        language=language,
        hinted=hinted,
    )


def test_series_in_languages_say_which_and_whether_it_was_hinted(tmp_path: Path) -> None:
    series = [
        _in_language("de", True, 500),
        _in_language("de", False, 600),
        _in_language("de", False, 700, profile="cross-border"),
    ]
    hinted = summarize(series[0])
    assert (hinted["language"], hinted["hinted"]) == ("de", True)
    assert summarize(_clean_webrtc())["language"] is None
    assert SeriesSummary.of(series[1]).label() == "webrtc, clean, arrival, 1 call, de identified"
    checks = check_goals(series)
    subjects = [describe_check(check)[0] for check in checks]
    assert any("1 call, de hinted)" in subject for subject in subjects)
    # the content goal pairs clean and cross-border series of one language and one hint
    (content,) = [check for check in checks if check["goal"] == "content_drop_points_max"]
    assert (content["language"], content["hinted"]) == ("de", False)
    write_report(
        Report("Languages", "voice-agent bench --hint both", "test", "2026-12-02", series), tmp_path
    )
    markdown = (tmp_path / "report.md").read_text()
    assert f"| {TARGET} | webrtc | clean | arrival | 1 | de hinted | 2 | 550.0 |" in markdown
    assert f"| {TARGET} | webrtc | clean | arrival | 1 | de identified | 2 | 650.0 |" in markdown
