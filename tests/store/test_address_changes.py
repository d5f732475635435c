"""Agent-made address changes meet the shop's next file (SQLite and PostgreSQL): a re-import
never silently undoes one; the file that carries it confirms it."""

from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import select

from tests.store.test_repository import NOW
from tests.store.test_shopfile import Document, example
from voice_agent.store.db import Database
from voice_agent.store.importer import import_document
from voice_agent.store.models import AddressChangeRow
from voice_agent.store.repository import Repository
from voice_agent.store.writes import AddressChange

IMPORTED_AT = NOW + timedelta(days=1)
NEW_ADDRESS, NEW_POSTCODE = "2 Harbour Street, Whitby", "YO21 3PT"


def _moved(repository: Repository) -> None:
    """The caller of order 4567 moved: an agent changed the address during a call."""
    conversation = repository.start_conversation("sip", "+44 20 7946 0321", NOW)
    repository.apply(
        [
            AddressChange(
                order_number="4567",
                address=NEW_ADDRESS,
                postcode=NEW_POSTCODE,
                requested_at=NOW,
                conversation_id=conversation,
            )
        ]
    )


def _address(repository: Repository, number: str = "4567") -> tuple[str | None, str | None]:
    order = repository.find_order(number)
    assert order is not None
    return order.customer.address, order.customer.postcode


def _with_address(address: str, postcode: str) -> Document:
    document = copy.deepcopy(example())
    customer = document["orders"][0]["customer"]
    assert document["orders"][0]["number"] == "4567"
    customer["address"], customer["postcode"] = address, postcode
    return document


def test_a_reimport_of_the_original_file_keeps_the_agents_change_unconfirmed(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    _moved(repository)
    again = import_document(database, example(), "example", IMPORTED_AT)
    assert _address(repository) == (NEW_ADDRESS, NEW_POSTCODE)
    (kept,) = again.kept_address_changes
    assert (kept.order_number, kept.address, kept.postcode) == ("4567", NEW_ADDRESS, NEW_POSTCODE)
    assert (kept.file_address, kept.file_postcode) == ("14 Whitehall Place, London", "SW1A 1AA")
    assert again.confirmed_address_changes == 0
    assert "kept 1 address changes the shop has not confirmed: order 4567" in str(again)
    (change,) = repository.unconfirmed_address_changes()
    assert (change.order_number, change.address, change.status) == (
        "4567",
        NEW_ADDRESS,
        "unconfirmed",
    )
    assert (change.previous_address, change.previous_postcode) == (
        "14 Whitehall Place, London",
        "SW1A 1AA",
    )
    assert change.confirmed_at is None
    # The other order of the file is imported as ever.
    assert _address(repository, "4568") == (None, "10119")


def test_a_file_with_yet_another_address_does_not_overwrite_the_change_either(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    _moved(repository)
    summary = import_document(database, _with_address("9 Other Way, York", "YO1 7HH"), "other")
    assert _address(repository) == (NEW_ADDRESS, NEW_POSTCODE)
    assert [kept.file_address for kept in summary.kept_address_changes] == ["9 Other Way, York"]
    assert len(repository.unconfirmed_address_changes()) == 1


def test_the_file_that_carries_the_new_address_confirms_the_change(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    _moved(repository)
    import_document(database, example(), "example", IMPORTED_AT)  # not yet: kept
    # The shop applied it, writing it its own way (case, spacing).
    carried = _with_address("2 harbour street,  Whitby", "YO213PT")
    summary = import_document(database, carried, "shop applied it", IMPORTED_AT)
    assert summary.kept_address_changes == ()
    assert summary.confirmed_address_changes == 1
    assert "confirmed 1 address changes" in str(summary)
    assert repository.unconfirmed_address_changes() == []
    with database.transaction() as session:
        (change,) = session.scalars(select(AddressChangeRow))
        assert (change.status, change.confirmed_at) == ("confirmed", IMPORTED_AT)
    assert _address(repository) == ("2 harbour street,  Whitby", "YO213PT")
    # Confirmed, the change no longer holds: the shop's next address is the shop's to set.
    later = import_document(database, example(), "example", IMPORTED_AT + timedelta(days=1))
    assert later.kept_address_changes == ()
    assert _address(repository) == ("14 Whitehall Place, London", "SW1A 1AA")
