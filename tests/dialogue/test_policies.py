"""The policy file: the shipped one loads, bad ones are refused with every reason."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dialogue.conftest import POLICIES
from voice_agent.dialogue.policies import (
    PARTIES,
    Policies,
    PolicyError,
    load_policies,
    parse_policies,
)
from voice_agent.dialogue.replies import LANGUAGES
from voice_agent.store.views import INCOTERMS, STAGES


def _raw() -> dict[str, Any]:
    with POLICIES.open("rb") as handle:
        return tomllib.load(handle)


def test_the_shipped_policy_names_exactly_one_party_per_stage_and_incoterm(
    policies: Policies,
) -> None:
    for stage in STAGES:
        for incoterm in INCOTERMS:
            assert policies.stages[stage].responsible_for(incoterm) in PARTIES
    customs = policies.stages["import_customs"]
    assert customs.responsible_for("DDP") == "seller"
    assert customs.responsible_for("DAP") == "shopper"
    assert policies.stages["international"].responsible_for("DAP") == "international_carrier"


def test_the_shipped_policy_values(policies: Policies) -> None:
    verification = policies.verification
    assert verification.max_failed_attempts == 3
    assert verification.lock == timedelta(minutes=30)
    assert set(verification.factors) == {"postcode", "email_prefix", "phone_last4"}
    assert all(policies.stages[stage].evidence for stage in STAGES)
    assert policies.duties["DDP"].payer == "seller"
    assert policies.duties["DAP"].payer == "shopper"
    assert policies.outcomes.for_claim(True, "international_carrier").kind == "reship_or_refund"
    assert policies.outcomes.for_claim(False, "international_carrier").kind == "investigation"
    assert policies.outcomes.for_claim(True, "shopper").kind == "release_guidance"


def test_tracking_patterns_read_delivered_and_picked_up(policies: Policies) -> None:
    delivered = policies.tracking.delivered
    assert delivered.search("Delivered")
    assert delivered.search("Parcel delivered to neighbour")
    assert not delivered.search("Out for delivery")
    assert not delivered.search("Could not be delivered")
    assert not delivered.search("Undelivered: address unknown")
    assert policies.tracking.picked_up.search("Picked up from the seller's warehouse")
    assert not policies.tracking.picked_up.search("Shipping label created, waiting for pickup")


@pytest.mark.parametrize(
    ("now", "callback"),
    [
        # Wednesday 12:00 in London: four business hours later, the same day
        ("2024-11-13T12:00:00+00:00", "2024-11-13T16:00:00+00:00"),
        # Friday 15:00: two hours that day, two on Monday
        ("2024-11-15T15:00:00+00:00", "2024-11-18T11:00:00+00:00"),
        # Saturday: from Monday's opening
        ("2024-11-16T10:00:00+00:00", "2024-11-18T13:00:00+00:00"),
        # before opening
        ("2024-11-13T06:30:00+00:00", "2024-11-13T13:00:00+00:00"),
        # summer time: London is UTC+1, opening 09:00 local is 08:00 UTC
        ("2024-07-10T07:00:00+00:00", "2024-07-10T12:00:00+00:00"),
    ],
)
def test_callback_in_business_hours(policies: Policies, now: str, callback: str) -> None:
    moment = datetime.fromisoformat(now)
    assert policies.handoff.callback_by(moment) == datetime.fromisoformat(callback)
    assert policies.handoff.callback_by(moment).tzinfo is not None
    assert policies.handoff.callback_by(moment.astimezone(UTC)) > moment


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policies(data, "test.toml")
    return str(caught.value)


def test_an_unknown_party_is_refused_with_its_key() -> None:
    data = _raw()
    data["stages"]["international"]["responsible"] = "the moon"
    message = _refused(data)
    assert "stages.international.responsible" in message
    assert "'the moon' is not one of" in message


def test_every_problem_is_reported_at_once() -> None:
    data = _raw()
    del data["verification"]["lock_minutes"]
    data["stages"]["last_mile"]["lost_after_days"] = "seven"
    data["stages"]["pickup"]["evidence"][0]["held"] = "sometimes"
    data["tracking"]["delivered_pattern"] = "(unclosed"
    data["handoff"]["timezone"] = "Mars/Olympus"
    data["returns"]["surprise"] = 1
    message = _refused(data)
    assert "6 problems" in message
    assert "verification.lock_minutes: missing" in message
    assert "stages.last_mile.lost_after_days: expected a whole number, got 'seven'" in message
    assert "stages.pickup.evidence[0].held: 'sometimes' is not one of" in message
    assert "tracking.delivered_pattern: not a regular expression" in message
    assert "handoff.timezone: 'Mars/Olympus' is not an IANA time zone" in message
    assert "returns.surprise: unknown key" in message


def test_a_missing_stage_and_an_unknown_incoterm_are_refused() -> None:
    data = _raw()
    del data["stages"]["export_customs"]
    data["stages"]["import_customs"]["responsible_by_incoterm"]["EXW"] = "shopper"
    message = _refused(data)
    assert "stages.export_customs: missing" in message
    assert "stages.import_customs.responsible_by_incoterm.EXW: unknown incoterm" in message


def test_out_of_range_values_are_refused() -> None:
    data = _raw()
    data["verification"]["max_failed_attempts"] = 0
    data["verification"]["order_number_digits"] = [6, 4]
    data["handoff"]["closing_hour"] = 8
    message = _refused(data)
    assert "verification.max_failed_attempts: 0 is outside 1..20" in message
    assert "verification.order_number_digits: expected [min, max]" in message
    assert "handoff.closing_hour: 8 is not after opening_hour 9" in message


def test_a_pattern_or_zone_that_breaks_the_library_is_a_problem_with_its_key() -> None:
    # found by fuzzing: re raised OverflowError and RecursionError, zoneinfo OSError
    data = _raw()
    data["tracking"]["delivered_pattern"] = "a{99999999999}"
    data["tracking"]["left_with_pattern"] = "(" * 1000 + ")" * 1000
    data["handoff"]["timezone"] = "x" * 5000
    message = _refused(data)
    assert "tracking.delivered_pattern: not a regular expression: the repetition number" in message
    assert "tracking.left_with_pattern: not a regular expression" in message
    assert "handoff.timezone: 'xxxx" in message
    assert "is not an IANA time zone" in message


def test_a_file_that_is_not_toml_or_not_there(tmp_path: Path) -> None:
    broken = tmp_path / "policies.toml"
    broken.write_text("[verification\nfactors = 1\n")
    with pytest.raises(PolicyError, match="is not valid TOML"):
        load_policies(broken)
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policies(tmp_path / "missing.toml")
    broken.write_bytes(b'[handoff]\ntimezone = "Europe/Z\xfcrich"\n')  # found by fuzzing
    with pytest.raises(PolicyError, match=r"is not valid TOML: not UTF-8 text \(line 2"):
        load_policies(broken)


def test_a_newer_version_is_refused() -> None:
    data = _raw()
    data["version"] = 2
    assert "version: 2 is outside 1..1" in _refused(data)


def test_the_per_order_limits_and_read_back_are_optional_keys(policies: Policies) -> None:
    shipped = policies.verification
    assert shipped.order_max_failed_attempts == 10
    assert shipped.order_attempt_window == shipped.order_lock == timedelta(hours=24)
    assert shipped.near_misses_forgiven == 2
    assert shipped.read_back_below_confidence == 0.5
    data = _raw()
    for key in (
        "order_max_failed_attempts",
        "order_attempt_window_minutes",
        "order_lock_minutes",
        "near_misses_forgiven",
        "read_back_below_confidence",
    ):
        del data["verification"][key]
    older = parse_policies(data, "older.toml").verification  # a file from before them
    assert older == shipped
    data["verification"]["read_back_below_confidence"] = 2
    data["verification"]["order_max_failed_attempts"] = 0
    message = _refused(data)
    assert "verification.read_back_below_confidence: 2 is outside 0..1" in message
    assert "verification.order_max_failed_attempts: 0 is outside 1..1000" in message


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != "en"])
def test_every_text_the_shipped_policy_says_is_translated(policies: Policies, code: str) -> None:
    """A language the agent has replies in says the policy's evidence, documents and options
    in that language too, not in the file's English."""
    untranslated = [text for text in policies.texts() if text not in policies.said.get(code, {})]
    assert untranslated == []


def test_a_policy_text_is_said_in_the_language_asked_else_as_written(policies: Policies) -> None:
    texts = ["the commercial invoice", "the packing list"]
    assert policies.said_in("de", texts) == ["die Handelsrechnung", "die Packliste"]
    assert policies.said_in("en", texts) == texts
    raw = _raw()
    raw["said"] = {"de": {"the commercial invoice": "die Handelsrechnung"}}
    partial = parse_policies(raw, "partial.toml")
    assert partial.said_in("de", texts) == ["die Handelsrechnung", "the packing list"]


def test_a_translation_of_no_text_or_for_no_language_is_refused() -> None:
    raw = _raw()
    raw["said"] = {
        "de": {"the comercial invoice": "die Handelsrechnung", "the packing list": ""},
        "xx": {"the packing list": "?"},
        "en": {"the packing list": "the packing list"},
    }
    with pytest.raises(PolicyError) as refused:
        parse_policies(raw, "bad.toml")
    message = str(refused.value)
    assert "said.de.'the comercial invoice': not a text of this file" in message
    assert "said.de.'the packing list': expected a non-empty string" in message
    assert "said.xx: not a language the agent speaks besides English" in message
    assert "said.en: not a language" in message


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        ("2024-11-13T12:00:00+00:00", True),  # Wednesday mid-day in London
        ("2024-11-13T09:00:00+00:00", True),  # opening
        ("2024-11-13T08:59:59+00:00", False),
        ("2024-11-13T16:59:59+00:00", True),
        ("2024-11-13T17:00:00+00:00", False),  # closing
        ("2024-11-16T12:00:00+00:00", False),  # Saturday
        ("2024-07-10T08:30:00+00:00", True),  # summer time: 09:30 in London
        ("2024-11-13T13:30:00+05:00", False),  # 08:30 in London, though 13:30 where asked
        ("2024-11-13T14:30:00+05:00", True),  # 09:30 in London
    ],
)
def test_team_hours(policies: Policies, now: str, is_open: bool) -> None:
    assert policies.handoff.is_open(datetime.fromisoformat(now)) is is_open
