"""The soak's accounting: replies heard, turns spoken against stored, the agent's log lines."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks.soak import fault_of
from benchmarks.soak_report import (
    COMPLETED,
    CUT_BY_KILL,
    HUNG_UP_IN_REPLY,
    VANISHED,
    CallRecord,
    Interval,
    ProcessLife,
    Sample,
    SoakReport,
    StoredTurn,
    compare,
    conversations_by_call,
    open_conversations,
    replies_heard,
    stalls_in,
    stored_turns,
    turns_counted,
    write_report,
)


def _turn(speaker: str, start: float, end: float, played: str | None = "x") -> StoredTurn:
    text = "the whole reply text"
    return StoredTurn(speaker, start, end, False, text, played if speaker == "agent" else None)


def _cut(start: float, end: float, played: str) -> StoredTurn:
    return StoredTurn("agent", start, end, True, "the whole reply text", played)


def test_pauses_inside_a_reply_do_not_split_it_and_a_caller_line_does() -> None:
    sounds = [
        Interval(0.0, 2.0),  # the greeting
        Interval(2.3, 3.0),  # its second sentence, after a pause
        Interval(6.0, 8.0),  # the reply to the line said at 4.0
    ]
    assert replies_heard(sounds, [4.0]) == [Interval(0.0, 3.0), Interval(6.0, 8.0)]


def test_the_tail_of_a_reply_talked_over_is_still_that_reply() -> None:
    # the caller barges in at 5.0; the agent stops at 5.3; it answers at 7.5
    sounds = [Interval(3.0, 5.0), Interval(5.05, 5.3), Interval(7.5, 9.0)]
    assert replies_heard(sounds, [1.0, 5.0]) == [Interval(3.0, 5.3), Interval(7.5, 9.0)]


def _record(outcome: str, cut_at: float | None = None) -> CallRecord:
    record = CallRecord(7, "sip", "none", 1, outcome=outcome, cut_at=cut_at)
    record.replies = [Interval(0, 2), Interval(5, 7), Interval(10, 12)]
    record.lines = [Interval(3, 4), Interval(8, 9)]
    return record


STORED = [
    _turn("agent", 0, 2),
    _turn("caller", 3, 4),
    _turn("agent", 4.8, 7),
    _turn("caller", 8, 9),
    _turn("agent", 9.8, 12),
]


def test_a_completed_call_matches_when_every_turn_is_stored() -> None:
    assert compare(_record(COMPLETED), 3, STORED).matches
    lost = compare(_record(COMPLETED), 3, STORED[:-1])
    assert not lost.matches
    assert (lost.replies_heard, lost.agent_stored) == (3, 2)


def test_a_reply_never_played_is_not_a_reply_stored() -> None:
    unheard = [*STORED, _turn("agent", 12.5, 12.6, played="")]
    assert compare(_record(COMPLETED), 3, unheard).matches


def test_a_vanished_caller_is_compared_up_to_when_it_vanished() -> None:
    record = _record(VANISHED, cut_at=13.0)
    reprompts = [*STORED, _turn("agent", 21.0, 23.0)]  # said to nobody, after the vanish
    assert compare(record, 3, reprompts).matches


def test_a_call_cut_by_the_kill_needs_what_was_committed_before_it() -> None:
    record = _record(CUT_BY_KILL, cut_at=11.5)  # the third reply was under way
    comparison = compare(record, 3, STORED[:4])
    assert (comparison.caller_said, comparison.replies_heard) == (2, 2)
    assert comparison.matches
    assert not compare(record, 3, STORED[:2]).matches  # the caller's second line is lost


def test_a_hang_up_during_a_reply_needs_the_reply_stored_as_heard() -> None:
    record = _record(HUNG_UP_IN_REPLY)
    cut = [*STORED[:-1], _cut(9.8, 11.0, "the whole")]
    comparison = compare(record, 3, cut)
    assert comparison.cut_reply_stored_as_heard is True and comparison.matches
    stored_whole = compare(record, 3, STORED)  # stored as if all was played
    assert stored_whole.cut_reply_stored_as_heard is False and not stored_whole.matches


def test_growth_is_counted_after_the_warm_up_between_samples_under_the_same_load() -> None:
    life = ProcessLife(1, 4242, warmed_at=20)
    life.samples = [
        Sample(10, 700.0, 40, 1),  # before the warm-up: the models still loading
        Sample(20, 800.0, 50, 2),
        Sample(30, 790.0, 46, 1),
        Sample(40, 805.0, 50, 2),
        Sample(90, 800.0, 46, 1),
        Sample(100, 812.0, 52, 2),  # the last sample, just before the kill
    ]
    assert life.compared() == (life.samples[1], life.samples[5])
    assert life.growth_pct() == (1.5, 4.0)
    assert ProcessLife(2, 4343, samples=life.samples).growth_pct() == (None, None)  # not warm


def test_each_end_of_a_long_life_is_a_median_so_one_trimmed_sample_is_not_growth() -> None:
    life = ProcessLife(1, 4242, warmed_at=0)
    # 2 calls in progress throughout; the very first sample fell just after a trim (675 MB)
    rss = [675.0, 716.0, 718.0, 715.0, 720.0, 717.0, *[718.0] * 18, 721.0, 719.0, 780.0, 722.0]
    life.samples = [Sample(10 * i, mb, 50, 2) for i, mb in enumerate(rss)]
    first, last = life.compared() or pytest.fail("not compared")
    assert (first.rss_mb, last.rss_mb) == (716.0, 721.0)  # medians of 5 samples each end
    rss_growth, _ = life.growth_pct()
    assert rss_growth == 0.7
    life.samples = [Sample(10 * i, 700.0 + 4 * i, 50, 2) for i in range(30)]  # steady growth
    assert (life.growth_pct()[0] or 0) > 5.0


def test_faults_come_in_a_cycle_of_six() -> None:
    assert [fault_of(n) for n in range(7)] == [
        "none",
        "none",
        "vanish",
        "none",
        "hang-up",
        "none",
        "none",
    ]


def test_a_mismatch_is_read_from_its_shape() -> None:
    barged = _record(COMPLETED)  # a third line over the last reply, which paused and went on
    barged.lines.append(Interval(10.5, 11))
    barged.replies[-1:] = [Interval(10, 10.6), Interval(11.5, 12)]
    missed = compare(barged, 3, STORED)
    assert (missed.caller_said, missed.replies_heard) == (3, 4)
    assert missed.why() == "a line not recognized: the reply paused over it and went on"
    split = compare(_record(COMPLETED), 3, [*STORED[:2], _turn("caller", 3.5, 4), *STORED[2:]])
    assert split.why() == "a line stored as two turns (an endpoint inside it)"
    assert compare(_record(COMPLETED), 3, STORED).why() == ""


def test_turns_the_agent_counted_but_the_database_lacks_are_lost_in_storage() -> None:
    comparison = compare(_record(COMPLETED), 3, STORED[:-1])
    comparison.agent_counted = 5
    assert comparison.storage_lost and comparison.why() == "turns lost in storage"
    comparison.agent_counted = 4
    assert not comparison.storage_lost


def test_the_log_gives_conversations_by_call_id_and_the_stalls() -> None:
    log = [
        "2026-12-02 17:52:58,094 INFO voice_agent.calls: call started conversation=1 "
        "transport=sip call=8e3398@127.0.0.1",
        "2026-12-02 17:52:58,106 INFO voice_agent.calls: call started conversation=2 "
        "transport=webrtc call=ccf6f75358973eed",
        "2026-12-02 17:53:10,001 WARNING voice_agent.agent.loop_watch: event loop stalled 180 ms "
        "(over 100 ms; calls under way: sip conversation 1)",
    ]
    assert conversations_by_call(log) == {"8e3398@127.0.0.1": 1, "ccf6f75358973eed": 2}
    ended = "INFO voice_agent.calls: call ended conversation=12 transport=sip outcome=handoff "
    assert turns_counted([ended + "duration_s=73.4 turns=9"]) == {12: 9}
    [stall] = stalls_in(log, process=2)
    assert (stall.ms, stall.process, stall.at) == (180, 2, "2026-12-02 17:53:10")
    assert stall.context == "over 100 ms; calls under way: sip conversation 1"


def test_turns_and_open_conversations_are_read_from_the_database(tmp_path: Path) -> None:
    database = tmp_path / "agent.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.executescript(
            "CREATE TABLE conversations (id INTEGER PRIMARY KEY, ended_at DATETIME);"
            "CREATE TABLE turns (id INTEGER PRIMARY KEY, conversation_id INTEGER, seq INTEGER,"
            " speaker TEXT, text TEXT, started_at DATETIME, ended_at DATETIME,"
            " interrupted BOOLEAN, played_text TEXT);"
            "INSERT INTO conversations VALUES (1, '2026-12-02 10:00:09.000000'), (2, NULL);"
            "INSERT INTO turns VALUES (1, 1, 1, 'agent', 'Hello.', '2026-12-02 10:00:00.000000',"
            " '2026-12-02 10:00:01.500000', 0, 'Hello.');"
        )
    [turn] = stored_turns(database)[1]
    assert turn.speaker == "agent" and turn.ended_at - turn.started_at == 1.5
    assert open_conversations(database) == [2]


def test_the_report_says_what_was_not_met(tmp_path: Path) -> None:
    report = SoakReport("python -m benchmarks.soak --minutes 1", "2026-12-02T10:00:00", 1, "clean")
    report.calls.append(_record(COMPLETED))
    report.comparisons.append(compare(_record(COMPLETED), 3, STORED[:-1]))
    life = ProcessLife(1, 4242, "the soak's end", calls=1, warmed_at=5)
    life.samples = [Sample(10, 1000.0, 50, 1), Sample(60, 1100.0, 50, 1)]
    report.lives.append(life)
    summary = write_report(report, tmp_path)
    assert "1 mismatch(es)" in summary
    assert "RSS 1000 -> 1100 (+10.0 %)" in summary
    assert "[NOT MET] turns stored == turns spoken" in summary
    assert "[ok] every turn the agent counted as stored is in the database" in summary
    assert "[NOT MET] calls completed after the restart" in summary
    assert "**MISMATCH**" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert (tmp_path / "report.json").exists()
