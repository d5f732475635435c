"""The soak's accounting, apart from its processes: what each caller said and heard against what
the agent stored, each agent process's memory and open files, and the event loop's stalls.

Everything here works on plain records (times in seconds since the epoch, UTC), so that it is
tested without a call or a process; `benchmarks/soak.py` fills the records and writes the
report with `write_report`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MIN_REPLY_GAP_S = 0.4
"""Agent audio after a caller's line begins is a new reply only after this much quiet (the tail
of a reply the line talked over is still the old reply)."""
COMMIT_MARGIN_S = 2.0
"""A turn that ended this long before the agent was killed must be in the database (a turn is
written when it ends, off the event loop, in well under a second)."""
GROWTH_GOAL_PCT = 5.0
WINDOW_SAMPLES = 6
"""At most this many samples (a minute) make each end of a process's memory comparison."""
STALLS_LISTED = 30
STALL_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ WARNING \S+: event loop stalled "
    r"(?P<ms>\d+) ms(?P<rest>.*)$"
)
CALL_LINE = re.compile(r"call started conversation=(?P<conversation>\d+) \S+ call=(?P<call>\S+)")
ENDED_LINE = re.compile(r"call ended conversation=(?P<conversation>\d+) .* turns=(?P<turns>\d+)")

# outcomes of a call, from the caller's side
COMPLETED = "completed"
VANISHED = "vanished (no BYE)"
HUNG_UP_IN_REPLY = "hung up during a reply"
CUT_BY_KILL = "cut by the kill"
FAILED = "failed"


@dataclass(slots=True)
class Interval:
    start: float
    end: float


@dataclass(slots=True)
class CallRecord:
    """One soak call as its caller lived it (times: epoch seconds)."""

    number: int
    transport: str
    fault: str
    """none, vanish or hang-up: what the caller was told to do."""
    process: int
    """The agent process (1: before the kill, 2: after) that took the call."""
    scenario: str = ""
    call_id: str | None = None
    """The SIP Call-ID or the web call's id: how the agent's log names the call."""
    outcome: str = FAILED
    failure: str | None = None
    note: str = ""
    """What else happened (the agent ended the call before its fault came, ...)."""
    started_at: float = 0.0
    ended_at: float = 0.0
    cut_at: float | None = None
    """When the caller vanished or the agent was killed: turns after it are not compared."""
    lines: list[Interval] = field(default_factory=list)
    """The caller's lines said, in order."""
    replies: list[Interval] = field(default_factory=list)
    """The agent's replies heard, in order (the greeting first)."""


@dataclass(frozen=True, slots=True)
class StoredTurn:
    speaker: str
    started_at: float
    ended_at: float
    interrupted: bool
    text: str
    played_text: str | None

    @property
    def heard(self) -> bool:
        """An agent turn with something played (a reply cut before its first word was not)."""
        return self.speaker != "agent" or bool((self.played_text or "").strip())


@dataclass(slots=True)
class Comparison:
    """Turns spoken (the caller's side) against turns stored, for one call."""

    number: int
    transport: str
    fault: str
    outcome: str
    conversation: int | None
    caller_said: int
    caller_stored: int
    replies_heard: int
    agent_stored: int
    note: str = ""
    rows: int = 0
    """The conversation's turns in the database, all of them."""
    agent_counted: int | None = None
    """The turns the agent counted as stored (its "call ended ... turns=N" line); None for a
    call it never ended (cut by the kill)."""
    cut_reply_stored_as_heard: bool | None = None
    """For a caller that hung up during a reply: the last agent turn is stored interrupted,
    with only part of its text played."""

    @property
    def storage_lost(self) -> bool:
        """The agent counted more turns stored than the database holds."""
        return self.agent_counted is not None and self.rows < self.agent_counted

    def why(self) -> str:
        """A likely reading of a mismatch, from its shape (the turns' texts tell for sure)."""
        if self.matches:
            return ""
        if self.storage_lost:
            return "turns lost in storage"
        if self.cut_reply_stored_as_heard is False:
            return "the reply cut by the hang-up is not stored as cut"
        caller = self.caller_stored - self.caller_said
        agent = self.agent_stored - self.replies_heard
        if caller < 0 and agent < 0:
            return "a line not recognized: the reply paused over it and went on"
        if caller < 0:
            return "lines stored as one turn"
        if caller > 0:
            return "a line stored as two turns (an endpoint inside it)"
        return "replies heard and stored differ"

    @property
    def matches(self) -> bool:
        if self.outcome == CUT_BY_KILL:  # what was committed must be there; more may be
            return (
                self.caller_stored >= self.caller_said and self.agent_stored >= self.replies_heard
            )
        same = self.caller_stored == self.caller_said and self.agent_stored == self.replies_heard
        return same and self.cut_reply_stored_as_heard is not False


def replies_heard(sounds: Sequence[Interval], line_starts: Sequence[float]) -> list[Interval]:
    """The agent's sounds grouped into replies: a new reply begins after one of the caller's
    lines began and at least MIN_REPLY_GAP_S of quiet; pauses inside a reply do not split it."""
    replies: list[Interval] = []
    for sound in sorted(sounds, key=lambda s: s.start):
        if not replies:
            replies.append(Interval(sound.start, sound.end))
            continue
        last = replies[-1]
        a_line_began = any(last.start < start <= sound.start for start in line_starts)
        if a_line_began and sound.start - last.end >= MIN_REPLY_GAP_S:
            replies.append(Interval(sound.start, sound.end))
        else:
            last.end = max(last.end, sound.end)
    return replies


def compare(
    record: CallRecord, conversation: int | None, turns: Sequence[StoredTurn]
) -> Comparison:
    """The call's turns spoken against its turns stored.

    A caller that vanished is compared up to the moment it vanished (the agent talks on to
    nobody until its media timeout: those turns are its own). A call cut by the kill is compared
    on what ended COMMIT_MARGIN_S before the kill."""
    lines, replies = record.lines, record.replies
    stored = list(turns)
    if record.outcome == CUT_BY_KILL and record.cut_at is not None:
        until = record.cut_at - COMMIT_MARGIN_S
        lines = [line for line in lines if line.end <= until]
        replies = [reply for reply in replies if reply.end <= until]
        stored = [turn for turn in stored if turn.ended_at <= until]
    elif record.cut_at is not None:
        lines = [line for line in lines if line.start < record.cut_at]
        replies = [reply for reply in replies if reply.start < record.cut_at]
        stored = [turn for turn in stored if turn.started_at < record.cut_at]
    agent = [turn for turn in stored if turn.speaker == "agent" and turn.heard]
    comparison = Comparison(
        number=record.number,
        transport=record.transport,
        fault=record.fault,
        outcome=record.outcome,
        conversation=conversation,
        caller_said=len(lines),
        caller_stored=sum(1 for turn in stored if turn.speaker == "caller"),
        replies_heard=len(replies),
        agent_stored=len(agent),
        rows=len(turns),
    )
    if record.outcome == HUNG_UP_IN_REPLY:
        last = agent[-1] if agent else None
        comparison.cut_reply_stored_as_heard = (
            last is not None
            and last.interrupted
            and bool(last.played_text)
            and len(last.played_text or "") < len(last.text)
        )
    comparison.note = record.note
    if conversation is None and record.outcome != FAILED:
        comparison.note = "no conversation found for the call id"
    return comparison


# --- the database and the agent's log ---------------------------------------------------------


def _epoch(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def stored_turns(database: Path) -> dict[int, list[StoredTurn]]:
    """Conversation id -> its turns in order, read from the agent's SQLite file."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT conversation_id, speaker, started_at, ended_at, interrupted, text, "
            "played_text FROM turns ORDER BY conversation_id, seq"
        ).fetchall()
    out: dict[int, list[StoredTurn]] = {}
    for conversation, speaker, started, ended, interrupted, text, played in rows:
        turn = StoredTurn(speaker, _epoch(started), _epoch(ended), bool(interrupted), text, played)
        out.setdefault(int(conversation), []).append(turn)
    return out


def open_conversations(database: Path) -> list[int]:
    """Conversations never ended (a restart should have closed those its kill left open)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT id FROM conversations WHERE ended_at IS NULL").fetchall()
    return [int(row[0]) for row in rows]


def conversations_by_call(log_lines: Iterable[str]) -> dict[str, int]:
    """The agent's log "call started conversation=N ... call=ID" lines: call id -> N."""
    out: dict[str, int] = {}
    for line in log_lines:
        match = CALL_LINE.search(line)
        if match is not None:
            out[match["call"]] = int(match["conversation"])
    return out


def turns_counted(log_lines: Iterable[str]) -> dict[int, int]:
    """The agent's log "call ended conversation=N ... turns=K" lines: N -> K."""
    out: dict[int, int] = {}
    for line in log_lines:
        match = ENDED_LINE.search(line)
        if match is not None:
            out[int(match["conversation"])] = int(match["turns"])
    return out


@dataclass(frozen=True, slots=True)
class Stall:
    at: str
    ms: int
    process: int
    context: str


def stalls_in(log_lines: Iterable[str], process: int) -> list[Stall]:
    """The watchdog's "event loop stalled N ms" lines of one agent process."""
    out = []
    for line in log_lines:
        match = STALL_LINE.match(line.rstrip("\n"))
        if match is not None:
            context = match["rest"].strip(" ;()")
            out.append(Stall(match["at"], int(match["ms"]), process, context))
    return out


# --- each agent process's resources -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    """Seconds since the calls began."""
    rss_mb: float
    open_files: int
    calls: int | None
    """The agent's calls in progress (its metrics), None if it did not say."""
    load_1m: float | None = None
    """The machine's load average then (stalls on a shared machine may be others' doing)."""


@dataclass(slots=True)
class ProcessLife:
    """One agent process from its start to its kill (or the soak's end)."""

    number: int
    pid: int
    ended_by: str = ""
    calls: int = 0
    warmed_at: float | None = None
    """When a call on each transport had ended (the models a call needs load lazily, the
    first of each kind of pass allocates its buffers): growth counts from here."""
    samples: list[Sample] = field(default_factory=list)

    def compared(self) -> tuple[Sample, Sample] | None:
        """The start and the end of the process's life after the warm-up, among samples taken
        with the same number of calls in progress (the count whose samples span the longest
        time): each call holds sockets and buffers, so samples under different loads are not
        compared. Each end is the median of up to `WINDOW_SAMPLES` samples (a fifth of them,
        at least one): one sample can fall just after a call's memory was handed back, or
        just before, ~40 MB apart, which alone reads as 5 % "growth"."""
        if self.warmed_at is None:
            return None
        warmed = [s for s in self.samples if s.at >= self.warmed_at]
        by_calls: dict[int | None, list[Sample]] = {}
        for sample in warmed:
            by_calls.setdefault(sample.calls, []).append(sample)
        spans = [group for group in by_calls.values() if len(group) >= 2]
        if not spans:
            return None
        widest = max(spans, key=lambda group: group[-1].at - group[0].at)
        width = max(1, min(WINDOW_SAMPLES, len(widest) // 5))
        return _median_sample(widest[:width]), _median_sample(widest[-width:])

    def growth_pct(self) -> tuple[float | None, float | None]:
        """(RSS, open files) growth between the compared samples, in %."""
        pair = self.compared()
        if pair is None:
            return None, None
        first, last = pair
        return _pct(first.rss_mb, last.rss_mb), _pct(first.open_files, last.open_files)


def _median_sample(window: list[Sample]) -> Sample:
    """One sample standing for `window`: its middle time, median RSS and open files."""
    middle = window[len(window) // 2]
    rss = statistics.median(s.rss_mb for s in window)
    files = statistics.median_low(s.open_files for s in window)
    return replace(middle, rss_mb=round(rss, 1), open_files=files)


def _pct(before: float, after: float) -> float | None:
    return None if before <= 0 else round(100 * (after - before) / before, 1)


# --- the report -------------------------------------------------------------------------------


@dataclass(slots=True)
class SoakReport:
    command: str
    started_at: str
    minutes: float
    profile: str
    wall_s: float = 0.0
    kill_at_s: float | None = None
    restart_s: float | None = None
    """From the kill to the new process listening."""
    calls: list[CallRecord] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    lives: list[ProcessLife] = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)
    open_conversations: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"attempted": len(self.calls)}
        for outcome in (COMPLETED, HUNG_UP_IN_REPLY, VANISHED, CUT_BY_KILL, FAILED):
            out[outcome] = sum(1 for call in self.calls if call.outcome == outcome)
        return out

    def mismatches(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.outcome != FAILED and not c.matches]

    def verdicts(self) -> dict[str, bool]:
        """The goals, each met or not."""
        growth = [value for life in self.lives for value in life.growth_pct() if value is not None]
        completed_after_restart = any(
            call.process == 2 and call.outcome == COMPLETED for call in self.calls
        )
        return {
            "every turn the agent counted as stored is in the database": not any(
                c.storage_lost for c in self.comparisons
            ),
            "turns stored == turns spoken for every call": not self.mismatches(),
            "calls completed after the restart": completed_after_restart,
            f"memory and open files grew < {GROWTH_GOAL_PCT:g} % within each process": bool(growth)
            and all(value < GROWTH_GOAL_PCT for value in growth),
            "no event-loop stall over 100 ms": not self.stalls,
            "no conversation left open": not self.open_conversations,
        }


def write_report(report: SoakReport, out: Path) -> str:
    """report.json and report.md in `out`; returns the summary printed at the end."""
    out.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        **asdict(report),
        "counts": report.counts(),
        "verdicts": report.verdicts(),
        "mismatches": [c.number for c in report.mismatches()],
        "growth_pct": {life.number: life.growth_pct() for life in report.lives},
    }
    (out / "report.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    markdown = render_markdown(report)
    (out / "report.md").write_text(markdown, encoding="utf-8")
    return summary(report)


def summary(report: SoakReport) -> str:
    counts = report.counts()
    lines = [
        f"soak: {counts['attempted']} calls in {report.wall_s / 60:.1f} min: "
        + ", ".join(f"{n} {name}" for name, n in counts.items() if name != "attempted"),
        f"turns stored vs spoken: {len(report.mismatches())} mismatch(es) in "
        f"{sum(1 for c in report.comparisons if c.outcome != FAILED)} calls compared",
    ]
    for life in report.lives:
        rss, files = life.growth_pct()
        lines.append(
            f"agent process {life.number} ({life.ended_by}, {life.calls} calls): RSS "
            f"{_growth_text(life, 'rss_mb', rss)}, open files "
            f"{_growth_text(life, 'open_files', files)}"
        )
    worst = max((stall.ms for stall in report.stalls), default=0)
    loads = [s.load_1m for life in report.lives for s in life.samples if s.load_1m is not None]
    load = f"; machine load average {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    lines.append(f"event-loop stalls over 100 ms: {len(report.stalls)} (longest {worst} ms){load}")
    for goal, met in report.verdicts().items():
        lines.append(f"  [{'ok' if met else 'NOT MET'}] {goal}")
    return "\n".join(lines)


def _growth_text(life: ProcessLife, key: str, pct: float | None) -> str:
    pair = life.compared()
    if pair is None:
        return "not measured (too few samples after the warm-up)"
    first, last = pair
    before, after = getattr(first, key), getattr(last, key)
    return f"{before:g} -> {after:g} ({pct:+.1f} %)" if pct is not None else f"{before} -> {after}"


def _compared_text(life: ProcessLife) -> str:
    pair = life.compared()
    if pair is None:
        return "-"
    first, last = pair
    return f"{first.at:.0f} s -> {last.at:.0f} s, {first.calls} call(s) in progress"


def render_markdown(report: SoakReport) -> str:
    counts = report.counts()
    parts = [
        "# Soak with faults",
        "",
        f"`{report.command}`, started {report.started_at}, {report.minutes:g} min of calls "
        f"({report.wall_s / 60:.1f} min end to end), profile `{report.profile}`.",
        "",
        "```",
        summary(report),
        "```",
        "",
        "## Calls",
        "",
        "| outcome | calls |",
        "|---|---|",
        *(f"| {name} | {n} |" for name, n in counts.items()),
        "",
        "Two callers call back to back, SIP and WebRTC in turn, through the impairment relay. "
        "Faults by call number: every 6th call from the 3rd vanishes without a BYE after half "
        "its lines (its media path cut); every 6th from the 5th hangs up (BYE) one second into "
        "a reply. Mid-run the agent is killed (SIGKILL) and restarted on the same database "
        "and ports; calls in flight then are *cut by the kill*.",
        "",
        "## Turns spoken vs turns stored",
        "",
        "Spoken: the caller's lines said and the agent's replies heard, from the caller's side "
        "(a reply is the agent's audio between two of the caller's lines). Stored: the "
        "conversation's caller turns and its agent turns with something played, found by the "
        "call id the agent logs. A vanished caller is compared up to the moment it vanished; a "
        f"call cut by the kill on what ended {COMMIT_MARGIN_S:g} s before it (stored must be at "
        "least spoken). A hang-up during a reply must leave that reply stored interrupted, "
        "with part of its text played.",
        "",
        "The last columns check storage alone: the turns the agent counted as stored when it "
        "ended the call (its log) against the conversation's rows in the database.",
        "",
        "| call | transport | fault | outcome | conversation | caller said/stored "
        "| replies heard/stored | cut reply stored as heard | | likely why "
        "| agent counted/rows |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report.comparisons:
        flag = "" if c.outcome == FAILED else ("ok" if c.matches else "**MISMATCH**")
        cut = {None: "", True: "yes", False: "**no**"}[c.cut_reply_stored_as_heard]
        counted = "-" if c.agent_counted is None else str(c.agent_counted)
        lost = " **LOST**" if c.storage_lost else ""
        parts.append(
            f"| {c.number} | {c.transport} | {c.fault} | {c.outcome} | {c.conversation or '-'} "
            f"| {c.caller_said}/{c.caller_stored} | {c.replies_heard}/{c.agent_stored} | {cut} "
            f"| {flag} {c.note} | {c.why()} | {counted}/{c.rows}{lost} |"
        )
    failures = [call for call in report.calls if call.failure]
    if failures:
        parts += ["", "Failures:", ""]
        parts += [f"- call {call.number} ({call.transport}): {call.failure}" for call in failures]
    parts += _process_section(report) + _stall_section(report)
    if report.open_conversations:
        parts += [
            "",
            f"Conversations never ended: {', '.join(map(str, report.open_conversations))}.",
        ]
    if report.notes:
        parts += ["", "## Notes", "", *(f"- {note}" for note in report.notes)]
    return "\n".join(parts) + "\n"


def _process_section(report: SoakReport) -> list[str]:
    parts = [
        "",
        "## Agent processes",
        "",
        f"Resident memory (the process and its children) and open file descriptors, sampled "
        "every 10 s, just before the kill and, at the end, once the agent has ended every call. "
        "Growth is counted from the warm-up (a call on each transport ended: models and "
        "buffers a call needs are allocated lazily) and between samples taken with the same "
        "number of calls in progress (each call holds sockets and buffers); of those, the "
        "count that spans the longest time, its first and last fifth of the samples (at most "
        f"{WINDOW_SAMPLES}) each taken as their median. Goal: less than "
        f"{GROWTH_GOAL_PCT:g} % growth within one process.",
        "",
        "| process | pid | ended by | calls | compared | RSS MB | open files | samples |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for life in report.lives:
        rss, files = life.growth_pct()
        parts.append(
            f"| {life.number} | {life.pid} | {life.ended_by} | {life.calls} "
            f"| {_compared_text(life)} | {_growth_text(life, 'rss_mb', rss)} "
            f"| {_growth_text(life, 'open_files', files)} | {len(life.samples)} |"
        )
    for life in report.lives:
        if life.samples:
            trail = ", ".join(
                f"{s.at:.0f}s: {s.rss_mb:.0f} MB/{s.open_files} fds/{s.calls} calls"
                + (f"/load {s.load_1m:.1f}" if s.load_1m is not None else "")
                for s in life.samples
            )
            warmed = "never" if life.warmed_at is None else f"at {life.warmed_at:.0f} s"
            parts += ["", f"Process {life.number} (warmed up {warmed}) over time: {trail}."]
    return parts


def _stall_section(report: SoakReport) -> list[str]:
    parts = [
        "",
        "## Event-loop stalls",
        "",
        "From the agent's watchdog (`server.loop_stall_ms` = 100): each stall logged as "
        "`event loop stalled N ms`. On a shared machine, read them with the load average "
        "(in the summary and the samples above): a loaded machine stalls every process.",
        "",
    ]
    if not report.stalls:
        return [*parts, "None."]
    longest = sorted(report.stalls, key=lambda stall: -stall.ms)[:STALLS_LISTED]
    parts += [
        f"{len(report.stalls)} stalls; the {len(longest)} longest:",
        "",
        "| process | at (agent's log time) | ms | calls under way |",
        "|---|---|---|---|",
    ]
    parts += [f"| {s.process} | {s.at} | {s.ms} | {s.context} |" for s in longest]
    if len(report.stalls) > len(longest):
        parts += ["", "report.json lists them all."]
    return parts
