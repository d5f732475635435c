"""`purge` and `erase` on a real SQLite file: what they remove is gone from the file's bytes
(and its WAL), from the recordings folder, and what is anyone else's stays."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import run_cli
from tests.store.conftest import snapshot
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import Database, StoreError, open_database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.models import OutboxRow
from voice_agent.store.repository import Repository
from voice_agent.store.retention import PURGED, customer_key, erase, purge
from voice_agent.store.writes import (
    ClaimWrite,
    HandoffWrite,
    TurnRecord,
    VerificationAttempt,
)

NOW = datetime(2024, 11, 13, 12, 0, tzinfo=UTC)
ANNA_EMAIL, ANNA_PHONE, ANNA_ORDER = "anna.schmidt@example.com", "+49 30 5550 1234", "10231"
OLIVER_ORDER = "10232"
ANNA_SAID = "my aubergine trampoline parcel"
OLIVER_SAID = "the tangerine submarine rucksack"
RECENT_SAID = "a periwinkle lighthouse mug"


@dataclass
class Shop:
    path: Path
    database: Database
    repository: Repository
    recordings: Path
    anna_call: int
    oliver_call: int
    recent_call: int

    def raw(self) -> bytes:
        """Every byte SQLite keeps for this database: the file, its WAL and shared memory."""
        files = [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]
        return b"".join(file.read_bytes() for file in files if file.exists())

    def recording_bytes(self) -> bytes:
        return b"".join(file.read_bytes() for file in sorted(self.recordings.iterdir()))


def _call(
    shop: Repository, recordings: Path, caller: str, said: str, started: datetime, name: str
) -> int:
    conversation = shop.start_conversation("sip", caller, started)
    for speaker, text in (("agent", "How can I help?"), ("caller", said)):
        shop.add_turn(
            conversation,
            TurnRecord(
                speaker=speaker,
                text=text,
                started_at=started,
                ended_at=started + timedelta(seconds=2),
            ),
        )
    recordings.mkdir(exist_ok=True)
    (recordings / name).write_bytes(b"RIFF" + said.encode())  # the audio stands for the words
    shop.set_recording(conversation, name, True)
    shop.end_conversation(conversation, started + timedelta(minutes=3), "handoff")
    return conversation


def _handoff(
    reference: str, order: str, conversation: int, said: str, contact: str
) -> HandoffWrite:
    return HandoffWrite(
        reference=reference,
        reason="caller asked for a person",
        transcript=f"caller: {said}",
        facts={"order": order},
        callback_by=NOW + timedelta(hours=4),
        created_at=NOW - timedelta(days=40),
        order_number=order,
        conversation_id=conversation,
        contact=contact,
    )


def _claim(reference: str, order: str, conversation: int) -> ClaimWrite:
    return ClaimWrite(
        reference=reference,
        order_number=order,
        stage="last_mile",
        responsible_party="Deutsche Post",
        evidence_held=(),
        evidence_missing=("proof of delivery",),
        insured=False,
        outcome="reship or refund",
        promised_by=date(2024, 11, 20),
        opened_at=NOW - timedelta(days=40),
        conversation_id=conversation,
    )


def _fill(database: Database, recordings: Path) -> tuple[int, int, int]:
    """Calls from Anna and Oliver 40 days ago and a recent one, with actions on their orders;
    returns the three conversations."""
    import_document(database, demo_document(NOW), "demo shop")
    repository = Repository(database)
    old = NOW - timedelta(days=40)
    anna = _call(repository, recordings, f"{ANNA_PHONE}@203.0.113.5", ANNA_SAID, old, "a.wav")
    oliver = _call(repository, recordings, "+44 20 7946 0321", OLIVER_SAID, old, "o.wav")
    recent = _call(repository, recordings, "web:198.51.100.7", RECENT_SAID, NOW, "r.wav")
    repository.apply(
        [
            _handoff("HO-1", ANNA_ORDER, anna, ANNA_SAID, ANNA_EMAIL),
            _handoff("HO-2", OLIVER_ORDER, oliver, OLIVER_SAID, "+44 20 7946 0321"),
            _claim("CL-1", ANNA_ORDER, anna),
            _claim("CL-2", OLIVER_ORDER, oliver),
            VerificationAttempt(
                order_number=ANNA_ORDER,
                factor="postcode",
                success=True,
                at=old,
                conversation_id=anna,
                caller=f"sip:{ANNA_PHONE}",
            ),
        ]
    )
    return anna, oliver, recent


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    path = tmp_path / "store.sqlite3"
    recordings = tmp_path / "recordings"
    with open_database(StoreSettings(url=f"sqlite:///{path}"), PathsSettings()) as database:
        anna, oliver, recent = _fill(database, recordings)
        yield Shop(path, database, Repository(database), recordings, anna, oliver, recent)


def test_purge_removes_old_recordings_and_transcripts_and_keeps_the_rest(shop: Shop) -> None:
    assert ANNA_SAID.encode() in shop.raw()  # the check below can fail
    purged = purge(shop.database, shop.recordings, NOW - timedelta(days=30))
    assert (purged.conversations, purged.recordings, purged.turns) == (2, 2, 4)
    assert purged.handoff_transcripts == 2
    for said in (ANNA_SAID, OLIVER_SAID):
        assert said.encode() not in shop.raw()
        assert said.encode() not in shop.recording_bytes()
    assert sorted(path.name for path in shop.recordings.iterdir()) == ["r.wav"]
    repository = shop.repository
    assert repository.turns(shop.anna_call) == []
    assert [turn.text for turn in repository.turns(shop.recent_call)][-1] == RECENT_SAID
    assert {handoff.transcript for handoff in repository.handoffs()} == {PURGED}
    conversations = {view.id: view for view in repository.conversations()}
    assert conversations[shop.anna_call].outcome == "handoff"  # statistics survive
    assert conversations[shop.anna_call].recording_path is None
    assert conversations[shop.recent_call].recording_path == "r.wav"
    assert [claim.reference for claim in repository.claims()] == ["CL-1", "CL-2"]
    again = purge(shop.database, shop.recordings, NOW - timedelta(days=30))
    assert (again.recordings, again.turns, again.handoff_transcripts) == (0, 0, 0)


@pytest.mark.parametrize("who", [ANNA_EMAIL, "ANNA.Schmidt@Example.com", "030 5550 1234"])
def test_erase_removes_one_person_everywhere(shop: Shop, who: str) -> None:
    raw = shop.raw()
    assert ANNA_EMAIL.encode() in raw and b"5550 1234" in raw and ANNA_SAID.encode() in raw
    erased = erase(shop.database, shop.recordings, who)
    counts = erased.counts
    assert counts["customers"] == 1 and counts["orders"] >= 1
    assert counts["conversations"] == 1 and counts["recordings"] == 1
    assert counts["hand-offs"] == 1 and counts["claims"] == 1
    assert counts["outbox rows"] == 2  # the claim's and the hand-off's events for the shop
    raw = shop.raw()
    for trace in (ANNA_EMAIL, "5550 1234", "305501234", ANNA_SAID, "Schmidt", "Torstra"):
        assert trace.encode() not in raw, trace
    assert ANNA_SAID.encode() not in shop.recording_bytes()
    repository = shop.repository
    assert repository.find_order(ANNA_ORDER) is None
    # everyone else's data stays
    assert repository.find_order(OLIVER_ORDER) is not None
    assert [turn.text for turn in repository.turns(shop.oliver_call)][-1] == OLIVER_SAID
    assert [claim.reference for claim in repository.claims()] == ["CL-2"]
    assert [handoff.reference for handoff in repository.handoffs()] == ["HO-2"]
    with shop.database.transaction() as session:
        assert list(session.scalars(select(OutboxRow.order_number))) == [OLIVER_ORDER] * 2
    assert sorted(path.name for path in shop.recordings.iterdir()) == ["o.wav", "r.wav"]
    assert OLIVER_SAID.encode() in shop.raw()


def test_erase_of_nobody_is_an_error_and_changes_nothing(shop: Shop) -> None:
    before = snapshot(shop.database)
    with pytest.raises(StoreError, match=r"nobody matches 'nobody@example\.com'"):
        erase(shop.database, shop.recordings, "nobody@example.com")
    assert snapshot(shop.database) == before
    assert sorted(path.name for path in shop.recordings.iterdir()) == ["a.wav", "o.wav", "r.wav"]


def test_purge_and_erase_on_each_backend(database: Database, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    _, oliver, recent = _fill(database, recordings)
    purged = purge(database, recordings, NOW - timedelta(days=30))
    assert (purged.conversations, purged.recordings, purged.turns) == (2, 2, 4)
    erased = erase(database, recordings, ANNA_PHONE)
    assert erased.counts["customers"] == 1 and erased.counts["conversations"] == 1
    repository = Repository(database)
    assert repository.find_order(ANNA_ORDER) is None
    assert repository.find_order(OLIVER_ORDER) is not None
    assert [view.id for view in repository.conversations()] == [oliver, recent]
    assert [turn.text for turn in repository.turns(recent)][-1] == RECENT_SAID


@pytest.mark.parametrize("text", ["anna", "12", "call me maybe", "a@b"])
def test_who_to_erase_must_be_an_email_address_or_a_phone_number(text: str) -> None:
    with pytest.raises(ValueError, match="neither an e-mail address nor a phone number"):
        customer_key(text)


def test_the_commands_as_an_operator_runs_them(isolated_data_dir: dict[str, str]) -> None:
    loaded = run_cli(["data", "demo"], env=isolated_data_dir)
    assert loaded.returncode == 0, loaded.stderr
    erased = run_cli(["data", "erase", "--customer", ANNA_EMAIL], env=isolated_data_dir)
    assert erased.returncode == 0, erased.stderr
    assert f"erased what this agent stored about {ANNA_EMAIL}:" in erased.stdout
    assert "  customers: 1" in erased.stdout
    assert "the shop's own systems keep their copy" in erased.stdout
    again = run_cli(["data", "erase", "--customer", ANNA_EMAIL], env=isolated_data_dir)
    assert again.returncode == 1 and "nobody matches" in again.stderr
    bad = run_cli(["data", "erase", "--customer", "anna"], env=isolated_data_dir)
    assert bad.returncode == 2 and "neither an e-mail address nor a phone number" in bad.stderr
    purged = run_cli(["data", "purge", "--before", "2000-01-01T00:00:00Z"], env=isolated_data_dir)
    assert purged.returncode == 0, purged.stderr
    assert "calls started before 2000-01-01T00:00:00Z: 0 conversation(s)" in purged.stdout
    day = run_cli(["data", "purge", "--before", "2001-02-03"], env=isolated_data_dir)
    assert "calls started before 2001-02-03T00:00:00Z" in day.stdout, day.stderr
    naive = run_cli(["data", "purge", "--before", "2024-01-01T10:00"], env=isolated_data_dir)
    assert naive.returncode == 2 and "has no UTC offset" in naive.stderr
