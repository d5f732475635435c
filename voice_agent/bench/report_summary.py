"""The benchmark's figures, computed once per series, its JSON summary and its goals.

`SeriesSummary` holds every figure that report.json, report.md, report.html and the plots show,
so they cannot disagree; `summarize` is one series' JSON object (stable keys: scripts read it);
`check_goals` says whether each goal was met, and by how much.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from voice_agent.agent.latency import MARKS
from voice_agent.bench.results import Percentiles, Series, TurnFigures, TurnKind

GOALS: dict[str, float] = {
    "voice_to_voice_p50_ms": 300,
    "voice_to_voice_p95_ms": 450,
    "voice_to_voice_p99_ms": 600,
    "content_drop_points_max": 5,
}
CLEAN_PROFILE = "clean"
IMPAIRED_PROFILE = "cross-border"
GOAL_RECEIVE = "arrival"
"""Latency goals are judged on the audio's arrival time: the browser's jitter buffer is extra."""

STAGES = MARKS[1:]
"""The target's marks after the caller's speech end, in pipeline order."""
NETWORK_AND_CALLER = "network + caller"

_LATENCY_GOAL = re.compile(r"voice_to_voice_(p50|p95|p99)_ms")
_CONTENT_GOAL = "content_drop_points_max"


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """One series' figures, computed once for the JSON, the tables, the goals and the plots."""

    series: Series
    voice_to_voice: Percentiles | None
    voice_to_voice_net: Percentiles | None
    barge_in_pause: Percentiles | None
    barge_in_stop: Percentiles | None
    barge_in_not_stopped: int
    false_cutoff_rate: float | None
    content_ok_rate: float | None
    no_reply: int
    overlapped: int
    stages: dict[str, Percentiles]

    @classmethod
    def of(cls, series: Series) -> SeriesSummary:
        turns = series.turns
        voice_to_voice = [t.voice_to_voice_ms for t in turns if t.voice_to_voice_ms is not None]
        return cls(
            series=series,
            voice_to_voice=Percentiles.of(voice_to_voice),
            voice_to_voice_net=Percentiles.of([v - series.added_delay_ms for v in voice_to_voice]),
            barge_in_pause=Percentiles.of(
                [t.barge_in_pause_ms for t in turns if t.barge_in_pause_ms is not None]
            ),
            barge_in_stop=Percentiles.of(
                [t.barge_in_stop_ms for t in turns if t.barge_in_stop_ms is not None]
            ),
            barge_in_not_stopped=sum(
                1 for t in turns if t.kind is TurnKind.BARGE_IN and t.barge_in_stop_ms is None
            ),
            false_cutoff_rate=_rate([t.cut_off for t in turns]),
            content_ok_rate=_rate([t.content_ok for t in turns]),
            no_reply=sum(1 for t in turns if t.no_reply),
            overlapped=sum(1 for t in turns if t.overlapped),
            stages=_stage_percentiles(turns),
        )

    @property
    def impaired(self) -> bool:
        return self.series.added_delay_ms > 0

    def label(self, with_target: bool = False) -> str:
        series = self.series
        text = f"{series.transport}, {series.profile}, {series.receive}, "
        text += calls_text(series.calls)
        if series.language is not None:
            text += f", {language_text(series.language, series.hinted)}"
        return f"{series.target}: {text}" if with_target else text


def _rate(outcomes: Iterable[bool | None]) -> float | None:
    """Share of True among the turns where the outcome applies (None: it does not)."""
    known = [outcome for outcome in outcomes if outcome is not None]
    return round(sum(known) / len(known), 4) if known else None


def _stage_percentiles(turns: list[TurnFigures]) -> dict[str, Percentiles]:
    names = {name for turn in turns for name in turn.stages_ms}
    ordered = [name for name in STAGES if name in names] + sorted(names - set(STAGES))
    stages: dict[str, Percentiles] = {}
    for name in ordered:
        stage = Percentiles.of([t.stages_ms[name] for t in turns if name in t.stages_ms])
        if stage is not None:
            stages[name] = stage
    return stages


def stage_segments(summary: SeriesSummary) -> list[tuple[str, float]]:
    """Where the time goes: the marks in the order their p50s were reached, each with the p50
    ms since the mark before it; then the rest of the caller-measured voice-to-voice p50
    (network, jitter buffering, the caller's ear).

    Time order, not pipeline order: our agent recognizes and prepares its reply while it waits
    for the endpoint, so `asr_final` usually comes before `endpoint`. The caller's clock is not
    the target's, so the rest can come out negative; it counts as 0, and the raw marks stay in
    report.json.
    """
    reached = 0.0
    segments: list[tuple[str, float]] = []
    present = [(summary.stages[name].p50, name) for name in STAGES if name in summary.stages]
    for p50, name in sorted(present, key=lambda item: item[0]):
        segments.append((name, p50 - reached))
        reached = p50
    if segments and summary.voice_to_voice is not None:
        segments.append((NETWORK_AND_CALLER, max(0.0, summary.voice_to_voice.p50 - reached)))
    return segments


# --- JSON -------------------------------------------------------------------------------------


def summarize(series: Series) -> dict[str, object]:
    """The JSON object for one series; its keys are stable (scripts rely on them)."""
    return summary_json(SeriesSummary.of(series))


def summary_json(summary: SeriesSummary) -> dict[str, object]:
    """See summarize(); report.json holds one per series."""
    series = summary.series
    return {
        "target": series.target,
        "transport": series.transport,
        "profile": series.profile,
        "receive": series.receive,
        "calls": series.calls,
        "language": series.language,
        "hinted": series.hinted,
        "turns": len(series.turns),
        "voice_to_voice_ms": _percentiles_json(summary.voice_to_voice),
        "voice_to_voice_net_ms": _percentiles_json(summary.voice_to_voice_net),
        "barge_in_pause_ms": _percentiles_json(summary.barge_in_pause),
        "barge_in_stop_ms": _percentiles_json(summary.barge_in_stop),
        "barge_in_not_stopped": summary.barge_in_not_stopped,
        "false_cutoff_rate": summary.false_cutoff_rate,
        "content_ok_rate": summary.content_ok_rate,
        "no_reply": summary.no_reply,
        "overlapped": summary.overlapped,
        "stages_ms": {name: stage.as_dict() for name, stage in summary.stages.items()},
        "target_cpu": _rounded(series.target_cpu, 2),
        "target_rss_mb": _rounded(series.target_rss_mb, 1),
        "relay": dict(series.relay) if series.relay is not None else None,
        "failures": list(series.failures),
        "turns_detail": [_turn_json(turn) for turn in series.turns],
    }


def _percentiles_json(percentiles: Percentiles | None) -> dict[str, float] | None:
    return percentiles.as_dict() if percentiles is not None else None


def _rounded(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def _turn_json(turn: TurnFigures) -> dict[str, object]:
    detail = asdict(turn)
    detail["kind"] = turn.kind.value
    # Tenths of a ms, like the percentiles: finer digits are clock noise that bloats the file
    for name in ("voice_to_voice_ms", "barge_in_pause_ms", "barge_in_stop_ms"):
        detail[name] = _rounded(detail[name], 1)
    detail["stages_ms"] = {name: round(ms, 1) for name, ms in turn.stages_ms.items()}
    return detail


# --- goals ------------------------------------------------------------------------------------


def check_goals(
    series: list[Series], goals: Mapping[str, float] = GOALS
) -> list[dict[str, object]]:
    """Each goal met or missed, and by how much.

    Latency goals: every series at 1 call on a clean line, timed on arrival. Content goal: every
    clean series that has a cross-border twin (same target, transport, receive mode and calls):
    content accuracy may drop by at most `content_drop_points_max` percentage points.
    """
    summaries = [SeriesSummary.of(one) for one in series]
    checks: list[dict[str, object]] = []
    for summary in summaries:
        if _is_goal_baseline(summary.series):
            checks.extend(_latency_checks(summary, goals))
    if _CONTENT_GOAL in goals:
        for clean, impaired in _clean_and_impaired_pairs(summaries):
            checks.append(_content_check(clean, impaired, goals[_CONTENT_GOAL]))
    return checks


def _is_goal_baseline(series: Series) -> bool:
    return series.calls == 1 and series.profile == CLEAN_PROFILE and series.receive == GOAL_RECEIVE


def latency_goals(goals: Mapping[str, float]) -> list[tuple[str, str, float]]:
    """(goal name, percentile, limit ms) for each voice-to-voice goal, e.g. p50 <= 300 ms."""
    found = []
    for name, limit in goals.items():
        match = _LATENCY_GOAL.fullmatch(name)
        if match:
            found.append((name, match.group(1), limit))
    return found


def _latency_checks(summary: SeriesSummary, goals: Mapping[str, float]) -> list[dict[str, object]]:
    checks = []
    for name, percentile, limit in latency_goals(goals):
        measured = None
        if summary.voice_to_voice is not None:
            measured = round(_percentile_of(summary.voice_to_voice, percentile), 1)
        checks.append(_check(name, summary.series, "ms", limit, measured))
    return checks


def _percentile_of(percentiles: Percentiles, name: str) -> float:
    return {"p50": percentiles.p50, "p95": percentiles.p95, "p99": percentiles.p99}[name]


def _content_check(
    clean: SeriesSummary, impaired: SeriesSummary, limit: float
) -> dict[str, object]:
    drop = None
    if clean.content_ok_rate is not None and impaired.content_ok_rate is not None:
        drop = round((clean.content_ok_rate - impaired.content_ok_rate) * 100, 1)
    check = _check(_CONTENT_GOAL, impaired.series, "points", limit, drop)
    check["clean_ok_rate"] = clean.content_ok_rate
    check["impaired_ok_rate"] = impaired.content_ok_rate
    return check


def _clean_and_impaired_pairs(
    summaries: list[SeriesSummary],
) -> list[tuple[SeriesSummary, SeriesSummary]]:
    def twin_key(series: Series) -> tuple[str, str, str, int, str | None, bool | None]:
        return (
            series.target,
            series.transport,
            series.receive,
            series.calls,
            series.language,
            series.hinted,
        )

    impaired = {twin_key(s.series): s for s in summaries if s.series.profile == IMPAIRED_PROFILE}
    return [
        (s, impaired[twin_key(s.series)])
        for s in summaries
        if s.series.profile == CLEAN_PROFILE and twin_key(s.series) in impaired
    ]


def _check(
    goal: str, series: Series, unit: str, limit: float, measured: float | None
) -> dict[str, object]:
    """`over`: how far past the limit (0 when met); `to_spare`: how far under it (0 when
    missed); both None when nothing was measured."""
    met = None if measured is None else measured <= limit
    over = None if measured is None else round(max(0.0, measured - limit), 1)
    to_spare = None if measured is None else round(max(0.0, limit - measured), 1)
    return {
        "goal": goal,
        "target": series.target,
        "transport": series.transport,
        "profile": series.profile,
        "receive": series.receive,
        "calls": series.calls,
        "language": series.language,
        "hinted": series.hinted,
        "unit": unit,
        "limit": limit,
        "measured": measured,
        "met": met,
        "over": over,
        "to_spare": to_spare,
    }


def describe_check(check: Mapping[str, object]) -> tuple[str, str]:
    """(what was checked, the verdict) in words, e.g. (..., "missed by 212 ms")."""
    return _check_subject(check), _check_verdict(check)


def _check_subject(check: Mapping[str, object]) -> str:
    where = f"{check['target']} ({check['transport']}, receive {check['receive']}, "
    where += calls_text(check["calls"])
    language = check.get("language")
    if isinstance(language, str):
        hinted = check.get("hinted")
        where += f", {language_text(language, hinted if isinstance(hinted, bool) else None)}"
    where += ")"
    if check["goal"] == _CONTENT_GOAL:
        clean = percent(_optional_float(check.get("clean_ok_rate")))
        impaired = percent(_optional_float(check.get("impaired_ok_rate")))
        drop = _optional_float(check["measured"])
        shown = "-" if drop is None else f"{drop:.1f} points"
        return (
            f"{where}: content OK {clean} on {CLEAN_PROFILE}, {impaired} on {check['profile']},"
            f" a drop of {shown}, goal at most {_amount(check['limit'], 'points')}"
        )
    match = _LATENCY_GOAL.fullmatch(str(check["goal"]))
    percentile = match.group(1) if match else str(check["goal"])
    measured = _optional_float(check["measured"])
    shown = "-" if measured is None else f"{measured:.1f} ms"
    return (
        f"{where}: voice-to-voice {percentile} {shown},"
        f" goal at most {_amount(check['limit'], 'ms')}"
    )


def _check_verdict(check: Mapping[str, object]) -> str:
    unit = str(check["unit"])
    if check["met"] is None:
        return "not measured"
    if check["met"]:
        return f"met, {_amount(check['to_spare'], unit)} to spare"
    return f"missed by {_amount(check['over'], unit)}"


def _amount(value: object, unit: str) -> str:
    """Whole milliseconds (finer is noise next to a goal), tenths of a point."""
    number = _optional_float(value) or 0.0
    return f"{number:.0f} ms" if unit == "ms" else f"{number:.1f} {unit}"


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def language_text(language: str, hinted: bool | None) -> str:
    """'de hinted': the call told the agent its language; 'de identified': the agent had to
    find it out from the caller's speech."""
    if hinted is None:
        return language
    return f"{language} {'hinted' if hinted else 'identified'}"


def calls_text(calls: object) -> str:
    """'1 call', '4 calls'."""
    return f"{calls} call" + ("" if calls == 1 else "s")


def percent(rate: float | None) -> str:
    """A rate as '75.0%', or '-' when there is none."""
    return "-" if rate is None else f"{rate * 100:.1f}%"
