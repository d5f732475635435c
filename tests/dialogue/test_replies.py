"""Spoken forms and the English template table."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from voice_agent.dialogue.policies import OUTCOME_KINDS, PARTIES
from voice_agent.dialogue.replies import LanguageError, language, template_fields
from voice_agent.dialogue.replies.en import TEMPLATES
from voice_agent.store.views import INCOTERMS, STAGES

DIALOGUE = Path(__file__).resolve().parents[2] / "voice_agent" / "dialogue"


def test_order_numbers_and_references_are_read_digit_by_digit() -> None:
    english = language("en")
    assert english.digits("4567") == "four, five, six, seven"
    assert english.digits("45067") == "four, five, zero, six, seven"
    assert english.digits("10000001") == "one, zero, zero, zero, zero, zero, zero, one"


def test_postcodes_are_spelled() -> None:
    assert language("en").spell("SW1A 1AA") == "S W one A, one A A"
    assert language("en").spell("10119") == "one zero one one nine"


def test_dates_as_dates() -> None:
    english = language("en")
    assert english.date(date(2024, 11, 3)) == "Sunday, the 3rd of November"
    assert english.date(date(2024, 11, 12)) == "Tuesday, the 12th of November"
    assert english.date(date(2024, 11, 21)) == "Thursday, the 21st of November"


def test_times_of_day() -> None:
    english = language("en")
    london = ZoneInfo("Europe/London")
    assert english.time(datetime(2024, 11, 13, 16, 0, tzinfo=london)) == "4 PM"
    assert english.time(datetime(2024, 11, 13, 9, 30, tzinfo=london)) == "9:30 AM"


@pytest.mark.parametrize(
    ("amount", "currency", "spoken"),
    [
        ("45.99", "EUR", "45 euros 99"),
        ("12.00", "GBP", "12 British pounds"),
        ("1.50", "USD", "1 US dollar 50"),
        ("189.99", "BRL", "189 Brazilian reals 99"),
    ],
)
def test_money_with_its_currency(amount: str, currency: str, spoken: str) -> None:
    assert language("en").money(Decimal(amount), currency) == spoken


def test_countries_read_naturally() -> None:
    english = language("en")
    assert english.country("DE") == "Germany"
    assert english.country("GB") == "the United Kingdom"
    assert english.country("NL") == "the Netherlands"


def test_an_unknown_language_names_the_ones_there_are() -> None:
    with pytest.raises(LanguageError, match=r"'xx' \(available: en\)"):
        language("xx")


def test_openers_are_short() -> None:
    for key, template in TEMPLATES.items():
        if key.startswith("ack."):
            assert len(template.split()) <= 6, key


def test_every_template_key_the_code_uses_exists() -> None:
    used: set[str] = set()
    for source in DIALOGUE.rglob("*.py"):
        used.update(re.findall(r'say\(\s*"([a-z_]+\.[a-z_.]+)"', source.read_text()))
    assert used, "no template keys found in the dialogue code"
    assert used <= set(TEMPLATES), sorted(used - set(TEMPLATES))
    # keys the code builds from data: one per stage, party, outcome and incoterm
    built = {f"stage.{stage}" for stage in STAGES}
    built |= {f"status.holder.{stage}" for stage in STAGES}
    built |= {f"party.{party}" for party in PARTIES}
    built |= {f"party.short.{party}" for party in PARTIES}
    built |= {f"claim.outcome.{kind}" for kind in OUTCOME_KINDS}
    built |= {f"incoterm.{incoterm}" for incoterm in INCOTERMS}
    built |= {"return.shipping.seller", "return.shipping.shopper"}
    built |= {"callback.offer_caller", "callback.offer_order_phone", "callback.offer_order_email"}
    built |= {f"symbol.{name}" for name in ("dot", "underscore", "dash", "plus")}
    assert built <= set(TEMPLATES), sorted(built - set(TEMPLATES))


def test_template_fields_are_plain_names() -> None:
    for key, template in TEMPLATES.items():
        for field in template_fields(template):
            assert field.isidentifier(), (key, field)
