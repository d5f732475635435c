"""A store with something for every desk page: the demo shop, two stored calls with turns,
hand-offs, a claim, a return, shop requests, an address change, verification attempts and a
lock; and the desk's operators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from voice_agent.desk.passwords import hash_password
from voice_agent.store.db import Database
from voice_agent.store.demo import demo_document
from voice_agent.store.desk import DeskRepository
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository
from voice_agent.store.writes import (
    AddressChange,
    ClaimWrite,
    HandoffWrite,
    OrderLock,
    ReturnRequest,
    ShopRequest,
    TurnRecord,
    VerificationAttempt,
)

PASSWORD = "correct horse battery"
ANNA_ORDER, ANNA_EMAIL = "10231", "anna.schmidt@example.com"
"""The demo shop's Anna Schmidt, phone +49 30 5550 1234."""
OLIVER_ORDER = "10232"
SIP_CALLER = "sip:+447700900123@203.0.113.9"
SIP_NUMBER = "+447700900123"
CALLBACK_NUMBER = "+44 7700 900123"


@dataclass(frozen=True, slots=True)
class Seeded:
    web_call: int
    """Anna's web call: verified her order, a claim, a return, an address change, a
    cancellation, a hand-off with a contact given; an interrupted agent turn."""
    sip_call: int
    """Oliver's phone call: failed checks, a lock, a hand-off reached by the caller id."""
    overdue_handoff: int
    later_handoff: int
    claim: int
    now: datetime


def seed_operators(database: Database, now: datetime) -> None:
    desk = DeskRepository(database)
    password_hash = hash_password(PASSWORD)
    desk.add_operator("alice", password_hash, "admin", now)
    desk.add_operator("bob", password_hash, "agent", now)


def seed_calls(database: Database, now: datetime) -> Seeded:
    """`now`: the desk's present; the calls happened an hour and two hours before it."""
    import_document(database, demo_document(now), "demo")
    repository = Repository(database)
    web_at, sip_at = now - timedelta(hours=2), now - timedelta(hours=1)
    web_call = repository.start_conversation("webrtc", "web:198.51.100.7", web_at)
    _turns(repository, web_call, web_at)
    repository.apply(
        [
            VerificationAttempt(
                order_number=ANNA_ORDER,
                factor="postcode",
                success=True,
                at=web_at,
                conversation_id=web_call,
            ),
            ClaimWrite(
                reference="CL-1001",
                order_number=ANNA_ORDER,
                stage="last_mile",
                responsible_party="DHL",
                evidence_held=("tracking",),
                evidence_missing=("photos",),
                insured=True,
                outcome="refund or resend",
                promised_by=date(2026, 12, 9),
                opened_at=web_at,
                conversation_id=web_call,
                kind="damaged_item",
                photos_needed=True,
            ),
            ReturnRequest(
                reference="RT-2001",
                order_number=ANNA_ORDER,
                reason="too small",
                skus=(),
                requested_at=web_at,
                conversation_id=web_call,
            ),
            ShopRequest(
                reference="SR-3001",
                kind="cancellation",
                order_number=ANNA_ORDER,
                details="wants to cancel the second item",
                requested_at=web_at,
                conversation_id=web_call,
            ),
            ShopRequest(
                reference="SR-3002",
                kind="invoice",
                order_number=ANNA_ORDER,
                details="needs an invoice with VAT",
                requested_at=web_at,
                conversation_id=web_call,
            ),
            AddressChange(
                order_number=ANNA_ORDER,
                address="Invalidenstraße 1, Berlin",
                postcode="10115",
                requested_at=web_at,
                conversation_id=web_call,
            ),
            HandoffWrite(
                reference="HO-4001",
                reason="wants to speak about a refund",
                transcript="",
                facts={"verified": "order 10231 (postcode)"},
                callback_by=now + timedelta(hours=3),
                created_at=web_at,
                order_number=ANNA_ORDER,
                conversation_id=web_call,
                contact="anna.schmidt@example.com",
            ),
        ]
    )
    repository.end_conversation(web_call, web_at + timedelta(minutes=3), "handoff")
    sip_call = repository.start_conversation("sip", SIP_CALLER, sip_at)
    repository.add_turn(sip_call, _turn("caller", "my parcel is late", sip_at, sip_at))
    repository.apply(
        [
            *(
                VerificationAttempt(
                    order_number=OLIVER_ORDER,
                    factor="postcode",
                    success=False,
                    at=sip_at + timedelta(seconds=n),
                    conversation_id=sip_call,
                    caller=SIP_CALLER,
                )
                for n in range(3)
            ),
            OrderLock(
                order_number=OLIVER_ORDER,
                until=sip_at + timedelta(minutes=30),
                conversation_id=sip_call,
                caller=SIP_CALLER,
            ),
            HandoffWrite(
                reference="HO-4002",
                reason="locked out of the order",
                transcript="",
                facts={},
                callback_by=now - timedelta(minutes=30),
                created_at=sip_at,
                order_number=OLIVER_ORDER,
                conversation_id=sip_call,
            ),
        ]
    )
    repository.end_conversation(sip_call, sip_at + timedelta(minutes=2), "handoff")
    desk = DeskRepository(database)
    handoffs = {case.reference: case.id for case in desk.handoff_queue()}
    return Seeded(
        web_call=web_call,
        sip_call=sip_call,
        overdue_handoff=handoffs["HO-4002"],
        later_handoff=handoffs["HO-4001"],
        claim=desk.cases("claim")[0].id,
        now=now,
    )


def _turns(repository: Repository, call: int, at: datetime) -> None:
    second = timedelta(seconds=1)
    repository.add_turn(call, _turn("agent", "Hello, how can I help?", at, at + second))
    repository.add_turn(
        call, _turn("caller", "My blender arrived broken", at + 2 * second, at + 3 * second)
    )
    repository.add_turn(
        call,
        _turn(
            "agent",
            "I am sorry to hear that. I can open a claim for you right away.",
            at + 4 * second,
            at + 6 * second,
            interrupted=True,
            played_text="I am sorry to hear that.",
            latency_marks={"endpoint": 180.0, "asr_final": 240.0, "first_audio_sent": 410.0},
        ),
    )


def _turn(speaker: str, text: str, started: datetime, ended: datetime, **rest: Any) -> TurnRecord:
    return TurnRecord(speaker=speaker, text=text, started_at=started, ended_at=ended, **rest)
