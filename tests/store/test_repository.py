"""The repository on SQLite and PostgreSQL: transactional writes, attempts, locks, turns."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.store.conftest import snapshot
from tests.store.test_shopfile import example
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import Database, open_database
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository, WriteError
from voice_agent.store.writes import (
    AddressChange,
    ClaimWrite,
    HandoffWrite,
    OrderLock,
    ReturnRequest,
    TurnRecord,
    TurnWrite,
    VerificationAttempt,
    Write,
)

NOW = datetime(2025, 3, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def shop(database: Database, repository: Repository) -> Repository:
    import_document(database, example(), "example")
    return repository


def claim(reference: str = "CL-40213", order_number: str = "4567", **changes: Any) -> ClaimWrite:
    base = ClaimWrite(
        reference=reference,
        order_number=order_number,
        stage="last_mile",
        responsible_party="Royal Mail",
        evidence_held=("courier scan records",),
        evidence_missing=("proof of delivery",),
        insured=True,
        outcome="reship or refund",
        promised_by=date(2025, 3, 27),
        opened_at=NOW,
    )
    return replace(base, **changes)


def handoff(reference: str = "HO-77120", order_number: str | None = "4567") -> HandoffWrite:
    return HandoffWrite(
        reference=reference,
        reason="caller asked for a person",
        transcript="caller: where is my parcel\nagent: it is out for delivery",
        facts={"order": "4567", "verified": "yes"},
        callback_by=NOW + timedelta(hours=4),
        created_at=NOW,
        order_number=order_number,
    )


def attempt(success: bool, at: datetime, number: str = "4567") -> VerificationAttempt:
    return VerificationAttempt(order_number=number, factor="postcode", success=success, at=at)


def test_every_kind_of_write_lands_in_one_apply(shop: Repository) -> None:
    conversation = shop.start_conversation("sip", "+44 20 7946 0321", NOW)
    turn = TurnRecord(speaker="caller", text="my parcel is lost", started_at=NOW, ended_at=NOW)
    shop.apply([
        attempt(True, NOW),
        claim(conversation_id=conversation),
        handoff(),
        ReturnRequest(
            reference="RT-5501", order_number="4567", reason="wrong size", skus=("CASE-IP15",),
            requested_at=NOW, conversation_id=conversation,
        ),
        AddressChange(
            order_number="4568", address="Kastanienallee 5, Berlin", postcode="10435",
            requested_at=NOW,
        ),
        OrderLock(order_number="9999", until=NOW + timedelta(minutes=30)),
        TurnWrite(conversation_id=conversation, record=turn),
    ])
    [stored] = shop.claims("4567")
    assert stored.reference == "CL-40213"
    assert stored.evidence_held == ("courier scan records",)
    assert stored.evidence_missing == ("proof of delivery",)
    assert (stored.promised_by, stored.opened_at, stored.status) == (date(2025, 3, 27), NOW, "open")
    assert stored.conversation_id == conversation
    [ticket] = shop.handoffs()
    assert ticket.facts == {"order": "4567", "verified": "yes"}
    assert ticket.callback_by == NOW + timedelta(hours=4)
    assert ticket.order_number == "4567"
    [returned] = shop.return_requests("4567")
    assert returned.skus == ("CASE-IP15",)
    moved = shop.find_order("4568")
    assert moved is not None
    assert moved.customer.address == "Kastanienallee 5, Berlin"
    assert moved.customer.postcode == "10435"
    assert shop.verification_attempts("4567") == [attempt(True, NOW)]
    assert shop.locked_until("9999", NOW) == NOW + timedelta(minutes=30)
    assert shop.turns(conversation) == [turn]
    assert shop.reference_taken("CL-40213") and shop.reference_taken("RT-5501")
    assert not shop.reference_taken("CL-40214")


FAILING_BATCHES: dict[str, Sequence[Write]] = {
    "claim for an unknown order": [
        attempt(False, NOW), handoff(), claim(order_number="0000"),
    ],
    "two claims with one reference": [
        attempt(False, NOW), claim(), claim(stage="international"),
    ],
    "reference already taken": [
        OrderLock(order_number="4567", until=NOW + timedelta(minutes=30)), handoff("HO-1"),
    ],
    "a stage that is not one": [
        attempt(False, NOW), claim(stage="moon"),
    ],
    "a time without a zone": [
        OrderLock(order_number="4567", until=NOW), attempt(False, datetime(2025, 3, 20, 14, 5)),
    ],
}


@pytest.mark.parametrize("batch", FAILING_BATCHES.values(), ids=FAILING_BATCHES.keys())
def test_a_failing_write_leaves_nothing_of_its_batch(
    shop: Repository, database: Database, batch: Sequence[Write]
) -> None:
    shop.apply([handoff("HO-1", order_number=None)])
    before = snapshot(database)
    with pytest.raises(WriteError):
        shop.apply(batch)
    assert snapshot(database) == before
    assert shop.failed_attempts("4567", NOW - timedelta(days=1)) == 0
    assert shop.locked_until("4567", NOW - timedelta(minutes=1)) is None


def test_failed_attempts_count_only_failures_since_the_given_time(shop: Repository) -> None:
    shop.apply([attempt(False, NOW - timedelta(minutes=40))])
    shop.apply([
        attempt(False, NOW - timedelta(minutes=20)), attempt(True, NOW - timedelta(minutes=15))
    ])
    shop.apply([attempt(False, NOW - timedelta(minutes=5)), attempt(False, NOW, number="4568")])
    assert shop.failed_attempts("4567", NOW - timedelta(minutes=30)) == 2
    assert shop.failed_attempts("4567", NOW - timedelta(hours=1)) == 3
    assert shop.failed_attempts("4567", NOW + timedelta(seconds=1)) == 0
    assert shop.failed_attempts("4568", NOW - timedelta(minutes=30)) == 1


def test_attempts_on_numbers_that_do_not_exist_are_stored(shop: Repository) -> None:
    shop.apply([attempt(False, NOW, number="123456")])
    assert shop.verification_attempts("123456") == [attempt(False, NOW, number="123456")]
    assert shop.failed_attempts("123456", NOW) == 1


def test_a_lock_holds_across_conversations_and_connections(
    shop: Repository, store_url: str, tmp_path: Path
) -> None:
    first_call = shop.start_conversation("webrtc", None, NOW)
    failures = [attempt(False, NOW + timedelta(seconds=s)) for s in (10, 40, 70)]
    until = NOW + timedelta(minutes=31)
    shop.apply([*failures, OrderLock(order_number="4567", until=until, conversation_id=first_call)])
    shop.end_conversation(first_call, NOW + timedelta(minutes=1))

    # A second call, through a second connection pool (as another process would).
    with open_database(StoreSettings(url=store_url), PathsSettings(data_dir=tmp_path)) as other:
        second = Repository(other)
        later = NOW + timedelta(minutes=10)
        second_call = second.start_conversation("sip", "+44 20 7946 0321", later)
        assert second_call != first_call
        assert second.locked_until("4567", NOW + timedelta(minutes=10)) == until
        assert second.locked_until("4568", NOW + timedelta(minutes=10)) is None
        assert second.locked_until("4567", until) is None
        # A later, longer lock wins; times in any zone mean the same instant.
        berlin = timezone(timedelta(hours=1))
        longer = (NOW + timedelta(hours=2)).astimezone(berlin)
        second.apply([OrderLock(order_number="4567", until=longer, conversation_id=second_call)])
        assert second.locked_until("4567", NOW + timedelta(minutes=10)) == longer
        locked = second.locked_until("4567", NOW)
        assert locked is not None and locked.tzinfo == UTC
    assert [c.ended_at for c in shop.conversations()] == [NOW + timedelta(minutes=1), None]


def test_start_up_closes_only_its_own_instances_conversations_left_open(
    repository: Repository,
) -> None:
    died = repository.start_conversation("sip", "+44 20 7946 0321", NOW, instance_id="a:8080")
    also_died = repository.start_conversation("webrtc", None, NOW, instance_id="a:8080")
    ended = repository.start_conversation("sip", None, NOW, instance_id="a:8080")
    repository.end_conversation(ended, NOW + timedelta(minutes=1))
    other_instances_call = repository.start_conversation("sip", None, NOW, instance_id="b:8080")
    chat = repository.start_conversation("chat", None, NOW)  # outside any server
    restarted = NOW + timedelta(hours=1)

    assert repository.close_abandoned_conversations("a:8080", restarted) == 2
    outcome = {c.id: (c.instance_id, c.ended_at, c.end_reason) for c in repository.conversations()}
    assert outcome == {
        died: ("a:8080", restarted, "instance restarted"),
        also_died: ("a:8080", restarted, "instance restarted"),
        ended: ("a:8080", NOW + timedelta(minutes=1), "ended"),
        other_instances_call: ("b:8080", None, None),
        chat: (None, None, None),
    }
    assert repository.close_abandoned_conversations("a:8080", restarted) == 0


def test_turns_keep_timing_latency_marks_and_what_was_played(shop: Repository) -> None:
    conversation = shop.start_conversation("webrtc", None, NOW)
    caller = TurnRecord(
        speaker="caller",
        text="where is my order four five six seven",
        started_at=NOW + timedelta(seconds=2),
        ended_at=NOW + timedelta(seconds=4.25),
        latency_marks={"user_speech_end": 4.25, "endpoint": 4.43, "asr_final": 4.47},
    )
    agent = TurnRecord(
        speaker="agent",
        text="Thanks. Your parcel is out for delivery with Royal Mail today.",
        started_at=NOW + timedelta(seconds=4.5),
        ended_at=NOW + timedelta(seconds=5.9),
        interrupted=True,
        played_text="Thanks. Your parcel is out",
        latency_marks={
            "reply_first_text": 4.478, "tts_first_audio": 4.53, "first_audio_sent": 4.55
        },
    )
    first = shop.add_turn(conversation, caller)
    second = shop.add_turn(conversation, agent)
    assert second > first
    assert shop.turns(conversation) == [caller, agent]
    stored = shop.turns(conversation)[1]
    assert stored.started_at == NOW + timedelta(seconds=4.5)
    assert stored.latency_marks["first_audio_sent"] == 4.55
    assert stored.played_text == "Thanks. Your parcel is out"
    other = shop.start_conversation("chat", None, NOW)
    assert shop.turns(other) == []


def test_a_turn_for_an_unknown_conversation_is_refused(shop: Repository) -> None:
    record = TurnRecord(speaker="caller", text="hello", started_at=NOW, ended_at=NOW)
    with pytest.raises(WriteError, match="no such conversation"):
        shop.add_turn(424242, record)


def test_two_calls_writing_at_once_both_get_every_write_in(
    shop: Repository, store_url: str, tmp_path: Path
) -> None:
    rounds = 25

    def call(name: str) -> None:
        with open_database(StoreSettings(url=store_url), PathsSettings(data_dir=tmp_path)) as db:
            repository = Repository(db)
            conversation = repository.start_conversation("sip", name, NOW)
            for index in range(rounds):
                at = NOW + timedelta(seconds=index)
                # The claim reads its order before it writes: the racy pattern for SQLite.
                repository.apply([
                    claim(f"{name}-{index}", opened_at=at, conversation_id=conversation),
                    attempt(False, at),
                ])

    with ThreadPoolExecutor(max_workers=2) as pool:
        for finished in [pool.submit(call, "A"), pool.submit(call, "B")]:
            finished.result()
    assert len(shop.claims("4567")) == 2 * rounds
    assert shop.failed_attempts("4567", NOW) == 2 * rounds
