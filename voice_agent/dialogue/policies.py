"""The shop's support policy (config/policies.toml) as frozen values.

``load_policies(path)`` reads the file with tomllib and checks every key; a bad file raises
``PolicyError`` listing each problem with its key, so an operator fixes it in one pass. The
meaning of each key is documented in the file itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voice_agent.languages import SUPPORTED
from voice_agent.store.views import INCOTERMS, STAGES, Incoterm, Stage
from voice_agent.tomltext import TomlTextError, read_toml

logger = logging.getLogger(__name__)

Factor = Literal["postcode", "email_prefix", "phone_last4"]
FACTORS: tuple[Factor, ...] = get_args(Factor)

Party = Literal[
    "seller",
    "first_mile_carrier",
    "customs_broker",
    "international_carrier",
    "last_mile_courier",
    "shopper",
]
PARTIES: tuple[Party, ...] = get_args(Party)

OutcomeKind = Literal["reship_or_refund", "investigation", "release_guidance", "replace_or_refund"]
OUTCOME_KINDS: tuple[OutcomeKind, ...] = get_args(OutcomeKind)

Payer = Literal["seller", "shopper"]
PAYERS: tuple[Payer, ...] = get_args(Payer)

EVIDENCE_CONDITIONS = (
    "always",
    "never",
    "tracking",
    "scan_at_stage",
    "picked_up",
    "delivered",
    "insured",
    "compensation",
    "from_shopper",
    *(f"incoterm:{incoterm}" for incoterm in INCOTERMS),
)
"""When a piece of evidence counts as held by the seller (see config/policies.toml)."""

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SUPPORTED_VERSION = 1


class PolicyError(Exception):
    """The policy file was refused; the message names the file, each key and the reason."""


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    factors: tuple[Factor, ...]
    email_prefix_letters: int
    phone_digits: int
    max_failed_attempts: int
    """Failed attempts by ONE caller on one order within ``attempt_window`` before that caller
    is locked out of that order for ``lock`` (docs/verification.md)."""
    attempt_window: timedelta
    lock: timedelta
    order_number_digits: tuple[int, int]
    order_max_failed_attempts: int = 10
    """Failed attempts by ALL callers on one order within ``order_attempt_window`` before the
    order is locked for ``order_lock`` (except for a call from the order's own phone)."""
    order_attempt_window: timedelta = timedelta(hours=24)
    order_lock: timedelta = timedelta(hours=24)
    near_misses_forgiven: int = 2
    """Near misses per order within ``order_attempt_window`` that do not count toward the
    order's limit (they still count toward the caller's)."""
    read_back_below_confidence: float = 0.5
    """Speech heard with less ASR confidence than this (or with digits inferred) is read back
    before it counts as an attempt."""


@dataclass(frozen=True, slots=True)
class TrackingPolicy:
    delivered: re.Pattern[str]
    picked_up: re.Pattern[str]
    left_with: re.Pattern[str] = re.compile(r"(?!x)x")
    """A delivery scan that says where the parcel was left (a neighbour, a safe place)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    name: str
    held: str
    """One of EVIDENCE_CONDITIONS."""


@dataclass(frozen=True, slots=True)
class StagePolicy:
    stage: Stage
    lost_after: timedelta
    responsible: Party
    responsible_by_incoterm: Mapping[Incoterm, Party]
    evidence: tuple[Evidence, ...]

    def responsible_for(self, incoterm: Incoterm) -> Party:
        """Exactly one party: the incoterm's where the policy names one, else the stage's."""
        return self.responsible_by_incoterm.get(incoterm, self.responsible)


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    days: int


@dataclass(frozen=True, slots=True)
class OutcomePolicy:
    insured: Outcome
    uninsured: Outcome
    shopper_responsible: Outcome

    def for_claim(self, insured: bool, party: Party) -> Outcome:
        if party == "shopper":
            return self.shopper_responsible
        return self.insured if insured else self.uninsured


@dataclass(frozen=True, slots=True)
class HandoffPolicy:
    callback_business_hours: int
    timezone: ZoneInfo
    opening_hour: int
    closing_hour: int
    business_days: frozenset[int]
    """Weekday numbers, Monday 0."""
    caller_timezones: Mapping[str, ZoneInfo]

    def callback_by(self, now: datetime) -> datetime:
        """``now`` plus the callback time counted in the team's opening hours (UTC)."""
        left = timedelta(hours=self.callback_business_hours)
        moment = now.astimezone(self.timezone)
        while True:
            opens = moment.replace(hour=self.opening_hour, minute=0, second=0, microsecond=0)
            closes = moment.replace(hour=self.closing_hour, minute=0, second=0, microsecond=0)
            if moment.weekday() in self.business_days and moment < closes:
                start = max(moment, opens)
                if start + left <= closes:
                    return (start + left).astimezone(now.tzinfo)
                left -= closes - start
            following = (moment + timedelta(days=1)).date()
            moment = datetime(following.year, following.month, following.day, tzinfo=self.timezone)

    def is_open(self, now: datetime) -> bool:
        """Whether the team is at their desks at ``now``: a business day, from the opening
        hour until the closing hour, in its time zone (the hours ``callback_by`` counts)."""
        moment = now.astimezone(self.timezone)
        opened = self.opening_hour <= moment.hour < self.closing_hour
        return moment.weekday() in self.business_days and opened

    def caller_timezone(self, country: str | None) -> ZoneInfo:
        if country is not None and country in self.caller_timezones:
            return self.caller_timezones[country]
        return self.timezone


@dataclass(frozen=True, slots=True)
class ReturnsPolicy:
    window_days: int
    refund_days: int
    return_shipping_paid_by: Payer


@dataclass(frozen=True, slots=True)
class DutiesPolicy:
    payer: Payer
    documents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AddressChangePolicy:
    after_dispatch_options: tuple[str, ...]


ItemKind = Literal["damaged_item", "wrong_item", "missing_item"]
ITEM_KINDS: tuple[ItemKind, ...] = get_args(ItemKind)


@dataclass(frozen=True, slots=True)
class ItemClaimPolicy:
    """A damaged, wrong or missing item: who answers for it, the evidence, the outcome."""

    kind: ItemKind
    responsible: Party
    evidence: tuple[Evidence, ...]
    outcome: Outcome

    @property
    def photos_needed(self) -> bool:
        """Whether the shopper must send evidence (photos) before the shop decides."""
        return any(item.held == "from_shopper" for item in self.evidence)


@dataclass(frozen=True, slots=True)
class Policies:
    source: str
    verification: VerificationPolicy
    tracking: TrackingPolicy
    delivery_window_days_before: int
    stages: Mapping[Stage, StagePolicy]
    outcomes: OutcomePolicy
    handoff: HandoffPolicy
    returns: ReturnsPolicy
    duties: Mapping[Incoterm, DutiesPolicy]
    address_change: AddressChangePolicy
    item_claims: Mapping[ItemKind, ItemClaimPolicy]
    request_reply_days: int
    """Days within which the shop's team answers a request recorded for it."""
    said: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per language, the file's own texts (evidence, documents, options) as said in it."""

    def texts(self) -> tuple[str, ...]:
        """Every text of the file the agent says to a caller, each once, in file order."""
        found: dict[str, None] = {}
        for stage in self.stages.values():
            found.update(dict.fromkeys(item.name for item in stage.evidence))
        for claim in self.item_claims.values():
            found.update(dict.fromkeys(item.name for item in claim.evidence))
        for duties in self.duties.values():
            found.update(dict.fromkeys(duties.documents))
        found.update(dict.fromkeys(self.address_change.after_dispatch_options))
        return tuple(found)

    def said_in(self, language: str, texts: Sequence[str]) -> list[str]:
        """The file's texts as said in ``language`` (``[said.<language>]``); a text the file
        gives no translation for is said as written."""
        translations = self.said.get(language, {})
        return [translations.get(text, text) for text in texts]


def load_policies(path: Path) -> Policies:
    """Read and check a policy file; PolicyError names every bad key."""
    try:
        data = read_toml(path)
    except FileNotFoundError:
        raise PolicyError(f"policy file not found: {path}") from None
    except TomlTextError as error:
        raise PolicyError(f"policy file {path} is not valid TOML: {error}") from None
    return parse_policies(data, str(path))


def parse_policies(data: Mapping[str, Any], source: str) -> Policies:
    reader = _Reader(data, source)
    version = reader.integer(data, "version", 1, 1)
    if version is not None and version != SUPPORTED_VERSION:
        reader.problem("version", f"expected {SUPPORTED_VERSION}")
    policies = Policies(
        source=source,
        verification=_verification(reader, reader.table(data, "verification")),
        tracking=_tracking(reader, reader.table(data, "tracking")),
        delivery_window_days_before=reader.integer(
            reader.table(data, "delivery"), "delivery.window_days_before", 0, 30
        )
        or 0,
        stages=_stages(reader, reader.table(data, "stages")),
        outcomes=_outcomes(reader, reader.table(data, "outcomes")),
        handoff=_handoff(reader, reader.table(data, "handoff")),
        returns=_returns(reader, reader.table(data, "returns")),
        duties=_duties(reader, reader.table(data, "duties")),
        address_change=AddressChangePolicy(
            reader.strings(
                reader.table(data, "address_change"), "address_change.after_dispatch_options"
            )
        ),
        # Optional tables (added later): a file written before them gets the defaults below.
        item_claims=_item_claims(reader, data.get("item_claims", DEFAULT_ITEM_CLAIMS)),
        request_reply_days=_requests(reader, data.get("requests", DEFAULT_REQUESTS)),
    )
    policies = replace(policies, said=_said(reader, data.get("said", {}), policies.texts()))
    reader.unknown_keys(
        data,
        "",
        {
            "version",
            "verification",
            "tracking",
            "delivery",
            "stages",
            "outcomes",
            "handoff",
            "returns",
            "duties",
            "address_change",
            "item_claims",
            "requests",
            "said",
        },
    )
    reader.raise_problems()
    return policies


_T = TypeVar("_T")


class _Reader:
    """Reads keys and collects problems instead of stopping at the first one."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.problems: list[str] = []

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(f"{key}: {reason}")

    def raise_problems(self) -> None:
        if self.problems:
            count = len(self.problems)
            lines = [f"policy file {self.source}: {count} problem{'s' * (count != 1)}"]
            lines.extend(f"  {problem}" for problem in self.problems)
            raise PolicyError("\n".join(lines))

    def get(self, table: Mapping[str, Any], key: str) -> Any:
        name = key.rsplit(".", 1)[-1]
        if name not in table:
            self.problem(key, "missing")
            return None
        return table[name]

    def table(self, table: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = self.get(table, key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(key, f"expected a table, got {value!r}")
            return {}
        return value

    def integer(self, table: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
        value = self.get(table, key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(key, f"expected a whole number, got {value!r}")
            return None
        if not low <= value <= high:
            self.problem(key, f"{value} is outside {low}..{high}")
            return None
        return value

    def text(self, table: Mapping[str, Any], key: str) -> str | None:
        value = self.get(table, key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"expected a non-empty string, got {value!r}")
            return None
        return value

    def choice(self, table: Mapping[str, Any], key: str, choices: tuple[_T, ...]) -> _T | None:
        value = self.text(table, key)
        if value is None:
            return None
        if value not in choices:
            self.problem(key, f"{value!r} is not one of {', '.join(map(str, choices))}")
            return None
        return choices[choices.index(value)]

    def strings(self, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = self.get(table, key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(key, f"expected a list of strings, got {value!r}")
            return ()
        return tuple(value)

    def pattern(self, table: Mapping[str, Any], key: str) -> re.Pattern[str]:
        value = self.text(table, key)
        if value is not None:
            try:
                return re.compile(value)
            except (re.error, OverflowError, RecursionError) as error:
                # a repeat count beyond the engine's limit, groups nested too deeply
                self.problem(key, f"not a regular expression: {error}")
        return re.compile(r"(?!x)x")  # matches nothing; the problem is reported

    def zone(self, value: Any, key: str) -> ZoneInfo:
        if isinstance(value, str):
            try:
                return ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                pass  # OSError: a name too long to be a file of the zone database
        self.problem(key, f"{value!r} is not an IANA time zone (e.g. Europe/London)")
        return ZoneInfo("UTC")

    def unknown_keys(self, table: Mapping[str, Any], prefix: str, known: set[str]) -> None:
        for name in table:
            if name not in known:
                where = f"{prefix}.{name}" if prefix else name
                self.problem(where, f"unknown key (expected one of {', '.join(sorted(known))})")


def _or(value: _T | None, fallback: _T) -> _T:
    """The value read, or a stand-in where a problem was reported (the load fails anyway)."""
    return fallback if value is None else value


def _verification(reader: _Reader, table: Mapping[str, Any]) -> VerificationPolicy:
    key = "verification"
    factors = reader.strings(table, f"{key}.factors")
    for factor in factors:
        if factor not in FACTORS:
            reader.problem(f"{key}.factors", f"{factor!r} is not one of {', '.join(FACTORS)}")
    if table and not factors:
        reader.problem(f"{key}.factors", "name at least one factor")
    digits = table.get("order_number_digits")
    lengths = (1, 20)
    if (
        isinstance(digits, list)
        and len(digits) == 2
        and all(isinstance(n, int) and 1 <= n <= 20 for n in digits)
        and digits[0] <= digits[1]
    ):
        lengths = (digits[0], digits[1])
    else:
        reader.problem(
            f"{key}.order_number_digits", f"expected [min, max] in 1..20, got {digits!r}"
        )
    reader.unknown_keys(
        table,
        key,
        {
            "factors",
            "email_prefix_letters",
            "phone_digits",
            "max_failed_attempts",
            "attempt_window_minutes",
            "lock_minutes",
            "order_number_digits",
            *_OPTIONAL_VERIFICATION,
        },
    )
    defaults = VerificationPolicy(
        factors=(), email_prefix_letters=3, phone_digits=4, max_failed_attempts=3,
        attempt_window=timedelta(minutes=30), lock=timedelta(minutes=30),
        order_number_digits=(5, 5),
    )  # fmt: skip

    def optional_minutes(name: str, fallback: timedelta) -> timedelta:
        if name not in table:
            return fallback
        minutes = reader.integer(table, f"{key}.{name}", 1, 525_600)
        return fallback if minutes is None else timedelta(minutes=minutes)

    def optional_count(name: str, low: int, fallback: int) -> int:
        if name not in table:
            return fallback
        return _or(reader.integer(table, f"{key}.{name}", low, 1000), fallback)

    confidence = table.get("read_back_below_confidence", defaults.read_back_below_confidence)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        reader.problem(f"{key}.read_back_below_confidence", f"expected 0..1, got {confidence!r}")
        confidence = defaults.read_back_below_confidence
    elif not 0 <= confidence <= 1:
        reader.problem(f"{key}.read_back_below_confidence", f"{confidence} is outside 0..1")
        confidence = defaults.read_back_below_confidence
    return VerificationPolicy(
        factors=tuple(factor for factor in FACTORS if factor in factors),
        email_prefix_letters=_or(reader.integer(table, f"{key}.email_prefix_letters", 1, 10), 3),
        phone_digits=_or(reader.integer(table, f"{key}.phone_digits", 2, 8), 4),
        max_failed_attempts=_or(reader.integer(table, f"{key}.max_failed_attempts", 1, 20), 3),
        attempt_window=timedelta(
            minutes=_or(reader.integer(table, f"{key}.attempt_window_minutes", 1, 10_080), 30)
        ),
        lock=timedelta(minutes=_or(reader.integer(table, f"{key}.lock_minutes", 1, 10_080), 30)),
        order_number_digits=lengths,
        order_max_failed_attempts=optional_count(
            "order_max_failed_attempts", 1, defaults.order_max_failed_attempts
        ),
        order_attempt_window=optional_minutes(
            "order_attempt_window_minutes", defaults.order_attempt_window
        ),
        order_lock=optional_minutes("order_lock_minutes", defaults.order_lock),
        near_misses_forgiven=optional_count(
            "near_misses_forgiven", 0, defaults.near_misses_forgiven
        ),
        read_back_below_confidence=float(confidence),
    )


_OPTIONAL_VERIFICATION = (
    "order_max_failed_attempts",
    "order_attempt_window_minutes",
    "order_lock_minutes",
    "near_misses_forgiven",
    "read_back_below_confidence",
)
"""Keys added with the per-caller limits: a policy file written before them keeps working."""


def _tracking(reader: _Reader, table: Mapping[str, Any]) -> TrackingPolicy:
    reader.unknown_keys(
        table, "tracking", {"delivered_pattern", "picked_up_pattern", "left_with_pattern"}
    )
    left_with = {"left_with_pattern": table.get("left_with_pattern", DEFAULT_LEFT_WITH)}
    return TrackingPolicy(
        delivered=reader.pattern(table, "tracking.delivered_pattern"),
        picked_up=reader.pattern(table, "tracking.picked_up_pattern"),
        left_with=reader.pattern(left_with, "tracking.left_with_pattern"),
    )


DEFAULT_LEFT_WITH = (
    r"(?i)\bneighbou?r\b|\bsafe place\b|\bporch\b|\breception\b|\bmailbox\b|\bletterbox\b|"
    r"\bparcel locker\b|\bpickup point\b|\bconcierge\b|\bfront door\b"
)
DEFAULT_REQUESTS: Mapping[str, Any] = {"reply_days": 2}
DEFAULT_ITEM_CLAIMS: Mapping[str, Any] = {
    "damaged_item": {
        "responsible": "seller",
        "days": 7,
        "evidence": [
            {"name": "photos of the damaged item", "held": "from_shopper"},
            {"name": "photos of the packaging and its label", "held": "from_shopper"},
            {"name": "dispatch photos with weight and dimensions", "held": "always"},
        ],
    },
    "wrong_item": {
        "responsible": "seller",
        "days": 7,
        "evidence": [
            {"name": "a photo of the item you received", "held": "from_shopper"},
            {"name": "a photo of the parcel label", "held": "from_shopper"},
            {"name": "the packing list", "held": "always"},
        ],
    },
    "missing_item": {
        "responsible": "seller",
        "days": 7,
        "evidence": [
            {"name": "a photo of the parcel's contents", "held": "from_shopper"},
            {"name": "a photo of the parcel label", "held": "from_shopper"},
            {"name": "dispatch photos with weight and dimensions", "held": "always"},
        ],
    },
}
"""What config/policies.toml says where a policy file leaves the tables out."""


def _said(reader: _Reader, raw: Any, texts: tuple[str, ...]) -> Mapping[str, Mapping[str, str]]:
    """``[said.<language>]``: the file's texts, each (as written above) = its translation."""
    if not isinstance(raw, dict):
        reader.problem("said", f"expected a table, got {raw!r}")
        return {}
    said: dict[str, Mapping[str, str]] = {}
    for language, table in raw.items():
        key = f"said.{language}"
        if language not in SUPPORTED or language == "en":
            others = ", ".join(code for code in SUPPORTED if code != "en")
            reader.problem(key, f"not a language the agent speaks besides English ({others})")
            continue
        if not isinstance(table, dict):
            reader.problem(key, f"expected a table, got {table!r}")
            continue
        for text, translation in table.items():
            if text not in texts:
                # A text edited above without its translation: caught here, not on a call.
                reader.problem(f"{key}.{text!r}", "not a text of this file")
            elif not isinstance(translation, str) or not translation.strip():
                reader.problem(
                    f"{key}.{text!r}", f"expected a non-empty string, got {translation!r}"
                )
        said[language] = MappingProxyType(
            {text: value for text, value in table.items() if isinstance(value, str)}
        )
    return MappingProxyType(said)


def _item_claims(reader: _Reader, raw: Any) -> Mapping[ItemKind, ItemClaimPolicy]:
    if not isinstance(raw, dict):
        reader.problem("item_claims", f"expected a table, got {raw!r}")
        raw = {}
    claims: dict[ItemKind, ItemClaimPolicy] = {}
    for kind in ITEM_KINDS:
        key = f"item_claims.{kind}"
        table = reader.table(raw, key)
        reader.unknown_keys(table, key, {"responsible", "days", "evidence"})
        claims[kind] = ItemClaimPolicy(
            kind=kind,
            responsible=_or(reader.choice(table, f"{key}.responsible", PARTIES), "seller"),
            evidence=_evidence(reader, key, table),
            outcome=Outcome(
                "replace_or_refund", _or(reader.integer(table, f"{key}.days", 0, 365), 7)
            ),
        )
    reader.unknown_keys(raw, "item_claims", set(ITEM_KINDS))
    return MappingProxyType(claims)


def _requests(reader: _Reader, raw: Any) -> int:
    if not isinstance(raw, dict):
        reader.problem("requests", f"expected a table, got {raw!r}")
        return 2
    reader.unknown_keys(raw, "requests", {"reply_days"})
    return _or(reader.integer(raw, "requests.reply_days", 0, 60), 2)


def _stages(reader: _Reader, table: Mapping[str, Any]) -> Mapping[Stage, StagePolicy]:
    stages: dict[Stage, StagePolicy] = {}
    for stage in STAGES:
        stages[stage] = _stage(reader, stage, reader.table(table, f"stages.{stage}"))
    reader.unknown_keys(table, "stages", set(STAGES))
    return MappingProxyType(stages)


def _stage(reader: _Reader, stage: Stage, table: Mapping[str, Any]) -> StagePolicy:
    key = f"stages.{stage}"
    by_incoterm: dict[Incoterm, Party] = {}
    raw = table.get("responsible_by_incoterm", {})
    if not isinstance(raw, dict):
        reader.problem(f"{key}.responsible_by_incoterm", f"expected a table, got {raw!r}")
        raw = {}
    for incoterm in raw:
        where = f"{key}.responsible_by_incoterm.{incoterm}"
        if incoterm not in INCOTERMS:
            reader.problem(where, f"unknown incoterm (expected one of {', '.join(INCOTERMS)})")
            continue
        checked = reader.choice(raw, where, PARTIES)
        if checked is not None:
            by_incoterm[INCOTERMS[INCOTERMS.index(incoterm)]] = checked
    reader.unknown_keys(
        table, key, {"lost_after_days", "responsible", "responsible_by_incoterm", "evidence"}
    )
    return StagePolicy(
        stage=stage,
        lost_after=timedelta(days=_or(reader.integer(table, f"{key}.lost_after_days", 1, 365), 14)),
        responsible=_or(reader.choice(table, f"{key}.responsible", PARTIES), "seller"),
        responsible_by_incoterm=MappingProxyType(by_incoterm),
        evidence=_evidence(reader, key, table),
    )


def _evidence(reader: _Reader, key: str, table: Mapping[str, Any]) -> tuple[Evidence, ...]:
    raw = reader.get(table, f"{key}.evidence")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        reader.problem(f"{key}.evidence", "expected a non-empty list of {name, held} tables")
        return ()
    items: list[Evidence] = []
    for index, entry in enumerate(raw):
        where = f"{key}.evidence[{index}]"
        if not isinstance(entry, dict):
            reader.problem(where, f"expected a table {{name, held}}, got {entry!r}")
            continue
        name = reader.text(entry, f"{where}.name")
        held = reader.choice(entry, f"{where}.held", EVIDENCE_CONDITIONS)
        reader.unknown_keys(entry, where, {"name", "held"})
        if name is not None and held is not None:
            items.append(Evidence(name, held))
    return tuple(items)


def _outcome(reader: _Reader, table: Mapping[str, Any], name: str) -> Outcome:
    key = f"outcomes.{name}"
    entry = reader.table(table, key)
    reader.unknown_keys(entry, key, {"kind", "days"})
    return Outcome(
        kind=_or(reader.choice(entry, f"{key}.kind", OUTCOME_KINDS), "investigation"),
        days=_or(reader.integer(entry, f"{key}.days", 0, 365), 14),
    )


def _outcomes(reader: _Reader, table: Mapping[str, Any]) -> OutcomePolicy:
    reader.unknown_keys(table, "outcomes", {"insured", "uninsured", "shopper_responsible"})
    return OutcomePolicy(
        insured=_outcome(reader, table, "insured"),
        uninsured=_outcome(reader, table, "uninsured"),
        shopper_responsible=_outcome(reader, table, "shopper_responsible"),
    )


def _handoff(reader: _Reader, table: Mapping[str, Any]) -> HandoffPolicy:
    key = "handoff"
    opening = _or(reader.integer(table, f"{key}.opening_hour", 0, 23), 9)
    closing = _or(reader.integer(table, f"{key}.closing_hour", 1, 24), 17)
    if closing <= opening:
        reader.problem(f"{key}.closing_hour", f"{closing} is not after opening_hour {opening}")
        closing = opening + 1
    if closing == 24:
        closing = 23  # datetime.replace cannot take hour 24; an hour short of midnight is close
    days: set[int] = set()
    for code in reader.strings(table, f"{key}.business_days"):
        if code in WEEKDAY_CODES:
            days.add(WEEKDAY_CODES.index(code))
        else:
            reader.problem(f"{key}.business_days", f"{code!r} is not one of {WEEKDAY_CODES}")
    if not days:
        reader.problem(f"{key}.business_days", "name at least one day")
        days = {0}
    zones: dict[str, ZoneInfo] = {}
    raw = table.get("caller_timezones", {})
    if not isinstance(raw, dict):
        reader.problem(f"{key}.caller_timezones", f"expected a table, got {raw!r}")
        raw = {}
    for country, zone in raw.items():
        zones[country] = reader.zone(zone, f"{key}.caller_timezones.{country}")
    reader.unknown_keys(
        table,
        key,
        {
            "callback_business_hours",
            "timezone",
            "opening_hour",
            "closing_hour",
            "business_days",
            "caller_timezones",
        },
    )
    hours = reader.integer(table, f"{key}.callback_business_hours", 1, 24 * 14)
    return HandoffPolicy(
        callback_business_hours=_or(hours, 4),
        timezone=reader.zone(table.get("timezone"), f"{key}.timezone"),
        opening_hour=opening,
        closing_hour=closing,
        business_days=frozenset(days),
        caller_timezones=MappingProxyType(zones),
    )


def _returns(reader: _Reader, table: Mapping[str, Any]) -> ReturnsPolicy:
    key = "returns"
    reader.unknown_keys(table, key, {"window_days", "refund_days", "return_shipping_paid_by"})
    return ReturnsPolicy(
        window_days=_or(reader.integer(table, f"{key}.window_days", 0, 365), 30),
        refund_days=_or(reader.integer(table, f"{key}.refund_days", 0, 365), 14),
        return_shipping_paid_by=_or(
            reader.choice(table, f"{key}.return_shipping_paid_by", PAYERS), "seller"
        ),
    )


def _duties(reader: _Reader, table: Mapping[str, Any]) -> Mapping[Incoterm, DutiesPolicy]:
    duties: dict[Incoterm, DutiesPolicy] = {}
    for incoterm in INCOTERMS:
        key = f"duties.{incoterm}"
        entry = reader.table(table, key)
        reader.unknown_keys(entry, key, {"payer", "documents"})
        duties[incoterm] = DutiesPolicy(
            payer=_or(reader.choice(entry, f"{key}.payer", PAYERS), "shopper"),
            documents=reader.strings(entry, f"{key}.documents"),
        )
    reader.unknown_keys(table, "duties", set(INCOTERMS))
    return MappingProxyType(duties)
