"""Scripted dialogues: one call per file, run against more than one shop.

Each ``benchmarks/dialogues/*.jsonl`` file is a script that ``voice-agent chat --script`` accepts
(``{"caller": "..."}`` or ``{"dtmf": "..."}`` per line; it ignores other keys) with an
``"expect"`` object per line, written from what the request needs, never captured from the
engine. Orders, products and countries are named by ROLE (``{lost.number}``,
``{delivered.postcode_words}``, ``{mug.material}``, ``{abroad.ship_time}``), resolved per shop
from ``roles/<shop>.toml``, so one script runs against the demo shop and against a shop that is
not the demo. See README.md in this folder for the expectation keys.

The runner is in-process: each script gets a fresh copy of its shop's SQLite file and the same
``_Chat`` the chat command builds (its engine, its commits, its fixed ``--now``).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale

from benchmarks.dialogues.multilingual import (
    ACKNOWLEDGE_WORDS as ACKNOWLEDGE_WORDS_IN,
)
from benchmarks.dialogues.multilingual import (
    OVERDUE_WORDS as OVERDUE_WORDS_IN,
)
from benchmarks.dialogues.multilingual import (
    PROMISES,
    digits_in,
    folded_words,
    replies_in,
    spoken,
)

if TYPE_CHECKING:
    from voice_agent.dialogue.nlu import Understand

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
ROLES_DIR = HERE / "roles"
SHOPS = ("demo", "second")

REQUEST_TYPES = (
    "order_status",
    "tracking",
    "lost_parcel",
    "not_received",
    "delivery_location",
    "damaged_item",
    "wrong_item",
    "missing_item",
    "return",
    "refund_status",
    "cancel",
    "address_change",
    "duties",
    "invoice",
    "product_question",
    "charged_twice",
    "delivery_time",
    "no_order_number",
    "complaint",
    "human",
    "repeat",
    "slower",
    "goodbye",
)
"""The labels of the intent corpus: every one needs at least ``MIN_PER_TYPE`` scripts."""
SITUATIONS = (
    "wrong_factor",
    "unknown_order",
    "locked",
    "correction",
    "number_and_factor",
    "multi_part",
    "goal_first",
    "angry",
    "overdue_flagged",
)
"""Situations across request types, also counted (``covers`` on a script's first line)."""
MIN_PER_TYPE = 3
MIN_SCRIPTS = 100

EXPECT_KEYS = frozenset(
    {
        "says_all",
        "says_any",
        "says_none",
        "private",
        "actions",
        "actions_by_now",
        "actions_none",
        "no_actions",
        "verified",
        "asks_order_number",
        "end_call",
        "reads_reference",
        "repeats_previous",
        "same_shape_as",
        "flags_overdue",
        "acknowledges",
        "replies_in",
    }
)
LINE_KEYS = frozenset(
    {"caller", "dtmf", "confidence", "rewritten", "expect", "covers", "note", "language"}
)
LANGUAGE_SITUATIONS = ("language_switch",)
"""Situations only the scripts in a language cover (``languages/<lang>/``): a caller who
changes language during the call."""
LANGUAGES_DIR = HERE / "languages"

OVERDUE_WORDS = (
    "overdue",
    "late",
    "delayed",
    "delay",
    "should have arrived",
    "should have been delivered",
    "past the expected",
    "no scan",
    "not moved",
    "hasn't moved",
    "stuck",
    "lost",
)
"""``flags_overdue``: the reply says the parcel is late, in any of these words."""
ACKNOWLEDGE_WORDS = ("sorry", "apolog*", "understand", "frustrat*", "annoy*", "upset*")
"""``acknowledges``: the reply acknowledges the caller's frustration."""

_PROMISES = re.compile(
    r"\b(?:i|we)(?: ve| have)?(?: just)? (?:refunded|cancell?ed (?:your order|it)|sent you|"
    r"e ?mailed you|texted you|credited)\b"
    r"|\byour (?:order|purchase) (?:has been|is now|is|was) cancell?ed\b"
    r"|\b(?:the|your) (?:link|invoice|refund) (?:has been|was|is) (?:sent|issued|on its way)\b"
)
"""What the agent cannot do itself, said as done: a false promise in any reply."""

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\.([a-z0-9_.]+)\}")
_NUMBER_WORD = r"(?:\d+|zero|one|two|three|four|five|six|seven|eight|nine)"
_MASK = re.compile(rf"\b{_NUMBER_WORD}(?: {_NUMBER_WORD})*\b")
_PRIVATE_FIELDS = ("carrier", "courier", "tracking", "name", "last_name", "street", "email")
"""An order's details no reply may hold before the caller is verified for that order."""


class ScriptError(Exception):
    """A script or roles file that cannot be run as written (not an engine failure)."""


# --- text matching ----------------------------------------------------------------------------


def words(text: str) -> str:
    """Lower case, every run of non-word characters one space: "Royal-Mail." -> "royal mail"."""
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def runs(text: str, language: str = "en") -> list[str]:
    """Spelled-out codes joined: "four, five, zero" -> "450", "Y T two four" -> "yt24"; in
    another language its number words first ("vier fünf null" -> "450")."""
    text = digits_in(text, language)
    found: list[str] = []
    current = ""
    for token in re.findall(r"[^\W_]+", text):
        low = token.lower()
        piece = _DIGIT_WORDS.get(low)
        if piece is None and (
            len(token) == 1
            or any(ch.isdigit() for ch in token)
            or (token.isupper() and len(token) <= 4)
        ):
            piece = low
        if piece is None:
            if current:
                found.append(current)
            current = ""
        else:
            current += piece
    if current:
        found.append(current)
    return found


def mentions(text: str, value: str, language: str = "en") -> bool:
    """Whether ``text`` says ``value``: as words (whole words; a trailing ``*`` allows any
    ending), or, for codes and numbers, spelled out digit by digit or letter by letter, in
    ``language``'s number words. Outside English, accents do not count ("zoll*" is "Zölle")."""
    prefix = value.endswith("*")
    to_words = words if language == "en" else folded_words
    wanted = to_words(value.rstrip("*"))
    if not wanted:
        return False
    tail = "" if prefix else r"(?!\w)"
    if re.search(rf"(?<!\w){re.escape(wanted)}{tail}", to_words(text)):
        return True
    compact = wanted.replace(" ", "")
    if any(ch.isdigit() for ch in compact) or len(compact) <= 4:
        return any(compact in run for run in runs(text, language))
    return False


def masked(text: str) -> str:
    """The reply with every number (digits or digit words) as ``#``: its shape."""
    return _MASK.sub("#", words(text))


# --- shops and roles --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shop:
    name: str
    now: datetime
    document: Mapping[str, Any]
    values: Mapping[str, str]
    """"role.field" -> value, for every role of the roles file."""
    orders: Mapping[str, str]
    """Order role -> order number."""
    private: Mapping[str, tuple[str, ...]]
    """Order role -> its details that no reply may hold before the caller is verified."""
    language: str = "en"
    """The language the callers of its scripts speak: the ``*_words``, ``*_spelled``,
    ``phone_words``, ``email_words``, country names and product ``called`` are in it."""


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ScriptError(f"time without a UTC offset: {text!r}")
    return moment


def load_shop(name: str, language: str = "en") -> Shop:
    """The shop ``name``'s roles, their spoken fields as callers say them in ``language``."""
    path = ROLES_DIR / f"{name}.toml"
    roles = tomllib.loads(path.read_text(encoding="utf-8"))
    now = _time(str(roles["now"]))
    source = str(roles["shop"])
    if source == "demo":
        from voice_agent.store.demo import demo_document

        document: dict[str, Any] = demo_document(_time(str(roles["anchor"])))
    else:
        document = json.loads((PROJECT_ROOT / source).read_text(encoding="utf-8"))
    return _resolve_roles(name, roles, document, now, language)


def _resolve_roles(
    name: str,
    roles: Mapping[str, Any],
    document: Mapping[str, Any],
    now: datetime,
    language: str = "en",
) -> Shop:
    from voice_agent.dialogue.policies import load_policies

    by_number = {order["number"]: order for order in document["orders"]}
    products = {product["sku"]: product for product in document["products"]}
    values: dict[str, str] = {}
    private: dict[str, tuple[str, ...]] = {}
    orders: dict[str, str] = {}
    for role, number in roles["orders"].items():
        if number not in by_number:
            raise ScriptError(f"{name}: role {role}: no order {number} in the shop")
        fields = order_fields(by_number[number], document["orders"], products, language)
        values.update({f"{role}.{key}": value for key, value in fields.items()})
        private[role] = tuple(fields[key] for key in _PRIVATE_FIELDS if fields.get(key))
        orders[role] = number
    unknown = str(roles["unknown_order"])
    if unknown in by_number:
        raise ScriptError(f"{name}: unknown_order {unknown} is an order of the shop")
    values["unknown.number"] = unknown
    values["unknown.number_words"] = spoken(language).digits(unknown)
    values["unknown.number_spaced"] = " ".join(unknown)
    for role, entry in roles["products"].items():
        sku = entry["sku"]
        if sku not in products:
            raise ScriptError(f"{name}: product role {role}: no product {sku}")
        product = products[sku]
        values[f"{role}.name"] = product["name"]
        values[f"{role}.called"] = _called(entry, language, f"{name}: product role {role}")
        for attribute, value in product["attributes"].items():
            key = f"{role}.{attribute.replace(' ', '_')}"
            values[key] = value
            # Each number of a value on its own ("183 x 61 cm" -> 183, 61): a reply in
            # another language says the numbers whatever words it puts around them.
            for index, figure in enumerate(re.findall(r"\d+(?:[.,]\d+)?", value), start=1):
                values[f"{key}_number_{index}"] = figure
    territories = Locale(language).territories
    for role, code in roles["countries"].items():
        values[f"{role}.code"] = code
        values[f"{role}.name"] = str(territories[code])
        times = {
            product["attributes"].get(f"ship_time.{code}")
            or product["attributes"].get("ship_time.default")
            for product in document["products"]
        }
        if len(times) != 1:
            raise ScriptError(f"{name}: country role {role}: products ship to {code} in {times}")
        values[f"{role}.ship_time"] = str(times.pop())
    policies = load_policies(PROJECT_ROOT / "config" / "policies.toml")
    values["policy.return_window_days"] = str(policies.returns.window_days)
    values["policy.refund_days"] = str(policies.returns.refund_days)
    return Shop(name, now, document, values, orders, private, language)


def _called(entry: Mapping[str, Any], language: str, where: str) -> str:
    """How a caller names a product role in ``language`` (``called`` in English,
    ``called_de``, ``called_es``, ... in the others)."""
    key = "called" if language == "en" else f"called_{language}"
    if key not in entry:
        raise ScriptError(f"{where}: no {key} (how a caller speaking {language} names it)")
    return str(entry[key])


def spoken_digits(code: str) -> str:
    """How a caller reads a number: "45067" -> "four five zero six seven"."""
    return spoken("en").digits(code)


def spoken_code(code: str) -> str:
    """A postcode as a caller spells it: "SW1A 1AA" -> "S W one A one A A"."""
    return spoken("en").code(code)


def _other_digit(ch: str) -> str:
    return str((int(ch) + 5) % 10)


def order_fields(
    order: Mapping[str, Any],
    all_orders: Sequence[Mapping[str, Any]],
    products: Mapping[str, Mapping[str, Any]],
    language: str = "en",
) -> dict[str, str]:
    """Everything a script may say or expect about one order, from the shop's data; what a
    caller says aloud is in ``language``'s words."""
    say = spoken(language)
    number = str(order["number"])
    customer = order["customer"]
    postcode = customer.get("postcode") or ""
    digits = re.sub(r"\D", "", customer["phone"])
    last4 = digits[-4:]
    local = re.sub(r"[^a-z0-9]", "", customer["email"].lower().split("@")[0])
    compact = re.sub(r"\W", "", postcode.upper())
    wrong_postcode = next(
        other["customer"]["postcode"]
        for other in all_orders
        if other["customer"].get("postcode")
        and re.sub(r"\W", "", other["customer"]["postcode"].upper()) != compact
        and other["customer"]["email"] != customer["email"]
    )
    wrong_last4 = "".join(_other_digit(ch) for ch in last4)
    typo = _other_digit(number[0]) + number[1:]
    address = customer.get("address") or ""
    street, _, city = address.rpartition(", ")
    first, _, last = customer["name"].partition(" ")
    fields = {
        "number": number,
        "number_words": say.digits(number),
        "number_spaced": " ".join(number),
        "number_typo": typo,
        "number_typo_words": say.digits(typo),
        "postcode": postcode,
        "postcode_words": say.code(postcode),
        "wrong_postcode": wrong_postcode,
        "wrong_postcode_words": say.code(wrong_postcode),
        "phone_words": say.phone(digits),
        "phone_last4": last4,
        "phone_last4_words": say.digits(last4),
        "wrong_phone_last4": wrong_last4,
        "wrong_phone_last4_words": say.digits(wrong_last4),
        "email": customer["email"],
        "email_words": say.email(customer["email"]),
        "email_prefix": local[:3],
        "email_spelled": say.spelled(local[:3]),
        "wrong_email_spelled": say.spelled("qzx" if local[:1] != "q" else "zxq"),
        "name": customer["name"],
        "first_name": first,
        "last_name": last,
        "street": street,
        "city": city or "",
        "country": customer["country"],
        "country_name": str(Locale(language).territories[customer["country"]]),
        "item": products[order["items"][0]["sku"]]["name"],
        "currency": order["currency"],
    }
    shipment = order.get("shipment")
    if shipment:
        events = sorted(shipment["events"], key=lambda event: _time(event["at"]))
        last_event = events[-1]
        fields.update(
            carrier=shipment["carrier"],
            courier=shipment.get("last_mile") or shipment["carrier"],
            tracking=shipment["tracking"],
            last_text=last_event["text"],
            last_place=last_event["place"].rsplit(",", 1)[0],
            last_stage=last_event["stage"],
        )
    return fields


# --- scripts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    """The line's number in its file (1-based), for reports."""
    entry: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Script:
    path: Path
    lines: tuple[Line, ...]
    covers: tuple[str, ...]
    language: str | None = None
    """The call's language hint (``"language"`` on the first line): as a web page's ``lang`` or
    a dialled number gives it; None: no hint (the English scripts)."""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def request_type(self) -> str:
        return self.covers[0]

    @property
    def speaks(self) -> str:
        """The language its caller's placeholders are said in: its folder's under
        ``languages/`` (a caller who switches says numbers in the language switched to)."""
        if self.path.parent.parent == LANGUAGES_DIR:
            return self.path.parent.name
        return "en"


def script_paths() -> list[Path]:
    return sorted(HERE.glob("*.jsonl"))


def language_script_paths() -> list[Path]:
    """The scripts in a language, ``languages/<lang>/*.jsonl`` (the same scenarios in each)."""
    return sorted(LANGUAGES_DIR.glob("*/*.jsonl"))


def load_script(path: Path) -> Script:
    lines: list[Line] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as error:
            raise ScriptError(f"{path.name}:{number}: not JSON ({error})") from None
        if not isinstance(entry, dict):
            raise ScriptError(f"{path.name}:{number}: not a JSON object")
        unknown = set(entry) - LINE_KEYS
        if unknown:
            raise ScriptError(f"{path.name}:{number}: unknown keys {sorted(unknown)}")
        expect = entry.get("expect", {})
        if not isinstance(expect, dict) or set(expect) - EXPECT_KEYS:
            raise ScriptError(
                f"{path.name}:{number}: unknown expect keys {sorted(set(expect) - EXPECT_KEYS)}"
            )
        lines.append(Line(number, entry))
    if not lines:
        raise ScriptError(f"{path.name}: no lines")
    covers = tuple(lines[0].entry.get("covers", ()))
    known = set(REQUEST_TYPES) | set(SITUATIONS) | set(LANGUAGE_SITUATIONS)
    if not covers or covers[0] not in REQUEST_TYPES or set(covers) - known:
        raise ScriptError(f"{path.name}:1: covers must start with a request type ({covers})")
    if not path.name.startswith(covers[0].replace("_", "-") + "-"):
        raise ScriptError(f"{path.name}: the file name starts with its request type {covers[0]}")
    return Script(path, tuple(lines), covers, _script_language(path, lines, covers))


def _script_language(path: Path, lines: Sequence[Line], covers: Sequence[str]) -> str | None:
    """The first line's ``language``, checked: a supported language, said only there; a script
    in ``languages/<lang>/`` is hinted in that language, unless its caller switches."""
    from voice_agent.languages import SUPPORTED

    for line in lines[1:]:
        if "language" in line.entry:
            raise ScriptError(f"{path.name}:{line.number}: only the first line says the language")
    for line in lines:
        wanted = line.entry.get("expect", {}).get("replies_in")
        if wanted is not None and wanted not in SUPPORTED:
            raise ScriptError(f"{path.name}:{line.number}: replies_in {wanted!r} is not supported")
    language = lines[0].entry.get("language")
    if language is None:
        return None
    if language not in SUPPORTED:
        raise ScriptError(f"{path.name}:1: language {language!r} is not one of {SUPPORTED}")
    folder = path.parent.name
    in_other_folder = path.parent.parent == LANGUAGES_DIR and folder != language
    if in_other_folder and "language_switch" not in covers:
        raise ScriptError(f"{path.name}: hinted {language} in the folder of {folder}")
    return str(language)


def load_scripts() -> list[Script]:
    return [load_script(path) for path in script_paths()]


def roles_used(script: Script) -> set[str]:
    text = json.dumps([line.entry for line in script.lines])
    return {match.group(1) for match in _PLACEHOLDER.finditer(text)}


def resolve(value: Any, shop: Shop, where: str) -> Any:
    """``value`` with every ``{role.field}`` replaced by the shop's value."""
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            key = f"{match.group(1)}.{match.group(2)}"
            if key not in shop.values:
                raise ScriptError(f"{where}: {{{key}}} is not known for shop {shop.name}")
            return shop.values[key]

        return _PLACEHOLDER.sub(one, value)
    if isinstance(value, list):
        return [resolve(item, shop, where) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, shop, where) for key, item in value.items()}
    return value


@cache
def _shop_in(name: str, language: str) -> Shop:
    return load_shop(name, language)


def shop_for(script: Script, shop: Shop) -> Shop:
    """``shop`` with its spoken fields in the language the script's caller speaks."""
    return shop if shop.language == script.speaks else _shop_in(shop.name, script.speaks)


def resolved_script_text(script: Script, shop: Shop) -> str:
    """The script as the shop's JSON lines (what ``voice-agent chat --script`` would read)."""
    shop = shop_for(script, shop)
    return "".join(
        json.dumps(resolve(dict(line.entry), shop, f"{script.name}:{line.number}")) + "\n"
        for line in script.lines
    )


# --- running ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    script: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.script}:{self.line}: {self.message}"


@dataclass
class Outcome:
    script: Script
    shop: str
    failures: list[Failure] = field(default_factory=list)
    transcript: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(what the caller said, the agent's turn as the chat command prints it)."""

    @property
    def passed(self) -> bool:
        return not self.failures


def build_database(shop: Shop, path: Path) -> Path:
    """The shop imported into a new SQLite file at ``path`` (copied for each script)."""
    from voice_agent.settings import PathsSettings, StoreSettings
    from voice_agent.store.db import open_database
    from voice_agent.store.importer import import_document

    with open_database(StoreSettings(url=f"sqlite:///{path}"), PathsSettings()) as database:
        import_document(database, dict(shop.document), f"{shop.name} shop")
    return path


@cache
def shared_understander() -> Understand:
    """The intent classifier the chat command builds (``App(settings).understander``), built
    once per process: loading the sentence encoder and embedding the exemplars for every
    script would take most of a run."""
    from voice_agent.app import App
    from voice_agent.settings import Settings

    return App(Settings()).understander


def run_script(
    script: Script,
    shop: Shop,
    template: Path,
    workdir: Path,
    understand: Understand | None = None,
) -> Outcome:
    """One call: the script's lines through the chat command's own session, checked.
    ``understand`` defaults to the chat command's own classifier (``shared_understander``)."""
    from voice_agent.dialogue.commands import ScriptLine, _Chat
    from voice_agent.settings import Settings, StoreSettings

    shop = shop_for(script, shop)
    outcome = Outcome(script, shop.name)
    path = workdir / f"{script.path.stem}.{shop.name}.sqlite3"
    shutil.copy(template, path)
    checker = _Checker(script, shop, outcome)
    # The script's language is the call's hint, as `voice-agent chat --language` gives it
    # (None: no hint, the English scripts).
    try:
        chat = _Chat(
            argparse.Namespace(now=shop.now, language=script.language),
            Settings(store=StoreSettings(url=f"sqlite:///{path}")),
            understand if understand is not None else shared_understander(),
        )
    except Exception as error:  # no call at all (a language without replies): this script fails
        logger.exception("%s on %s: the chat did not start", script.name, shop.name)
        path.unlink(missing_ok=True)
        outcome.failures.append(Failure(script.name, 1, f"the call did not start: {error!r}"))
        return outcome
    try:
        try:
            greeting = chat.greeting().text
        except Exception as error:
            logger.exception("%s on %s: the greeting", script.name, shop.name)
            outcome.failures.append(Failure(script.name, 1, f"the greeting raised {error!r}"))
            return outcome
        checker.check_greeting(greeting)
        checker.previous = greeting
        for index, line in enumerate(script.lines):
            entry = resolve(dict(line.entry), shop, f"{script.name}:{line.number}")
            text, dtmf = str(entry.get("caller", "")), entry.get("dtmf")
            heard = ScriptLine(
                text,
                dtmf,
                float(entry.get("confidence", 1.0)),
                bool(entry.get("rewritten", False)),
            )
            try:
                reply = chat.turn(heard)
            except Exception as error:  # an engine crash fails this script, not the run
                logger.exception("%s:%d on %s", script.name, line.number, shop.name)
                outcome.failures.append(
                    Failure(script.name, line.number, f"the engine raised {error!r}")
                )
                break
            turn = {
                "agent": reply.text,
                "actions": [json.loads(json.dumps(action)) for action in reply.actions],
                "expect": reply.expect.value,
                "end_call": reply.end_call,
            }
            outcome.transcript.append((text or f"(keypad) {dtmf}", turn))
            checker.check(line, entry, turn)
            if reply.end_call and index < len(script.lines) - 1:
                outcome.failures.append(
                    Failure(
                        script.name,
                        line.number,
                        f"the call ended here; {len(script.lines) - index - 1} more line(s) "
                        "never ran",
                    )
                )
                break
    finally:
        chat.close()
        path.unlink(missing_ok=True)
    return outcome


class _Checker:
    """The expectations of one script, line by line, with what the call has done so far."""

    def __init__(self, script: Script, shop: Shop, outcome: Outcome) -> None:
        self.script = script
        self.shop = shop_for(script, shop)
        shop = self.shop
        self.outcome = outcome
        self.actions_so_far: list[dict[str, Any]] = []
        self.verified: set[str] = set()
        self.replies: dict[int, str] = {}
        self.previous = ""
        self.said_so_far = ""
        self.language = script.language or "en"
        """The language replies are expected in: the hint's, then each ``replies_in``'s."""
        self.speaks = script.speaks
        said = " ".join(
            str(resolve(line.entry.get("caller", ""), shop, script.name)) for line in script.lines
        )
        self.roles = sorted(role for role in roles_used(script) if role in shop.orders)
        self.caller_said = said

    def fail(self, line: Line, message: str) -> None:
        self.outcome.failures.append(Failure(self.script.name, line.number, message))

    def check_greeting(self, text: str) -> None:
        """A call hinted in a language is greeted in it (nothing to check without a hint)."""
        if self.script.language is not None and not replies_in(text, self.script.language):
            self.fail(
                self.script.lines[0],
                f"the greeting should be in {self.script.language}\n    agent: {text}",
            )

    def says(self, text: str, value: str) -> bool:
        """``mentions`` in the language of the reply being checked."""
        return mentions(text, value, self.language)

    def check(self, line: Line, entry: Mapping[str, Any], turn: Mapping[str, Any]) -> None:
        expect: Mapping[str, Any] = entry.get("expect", {})
        self.said_so_far += " " + str(entry.get("caller", ""))
        self.language = str(expect.get("replies_in", self.language))
        text = str(turn["agent"])
        actions: list[dict[str, Any]] = list(turn["actions"])
        self.actions_so_far.extend(actions)
        for action in actions:
            if action.get("type") == "verification" and action.get("success") is True:
                self.verified.add(str(action.get("order")))
        fail = self._fail_for(line, text)
        self._check_language(expect, text, fail)
        self._check_says(expect, text, fail)
        self._check_actions(expect, text, actions, fail)
        self._check_call(expect, turn, actions, fail)
        self._check_global(expect, turn, fail)
        self.replies[line.number] = text
        self.previous = text

    def _fail_for(self, line: Line, text: str) -> Any:
        def fail(message: str) -> None:
            self.fail(line, f"{message}\n    agent: {text}")

        return fail

    def _check_language(self, expect: Mapping[str, Any], text: str, fail: Any) -> None:
        """``replies_in`` on the line; and in a call with a language, any reply long enough to
        tell (eight words or more) is in the call's language by now."""
        wanted = expect.get("replies_in")
        if wanted is not None:
            if not replies_in(text, wanted):
                fail(f"should reply in {wanted}")
        elif (
            self.script.language is not None
            and len(words(text).split()) >= 8
            and not replies_in(text, self.language)
        ):
            fail(f"replies in another language than the call's ({self.language})")

    def _check_says(self, expect: Mapping[str, Any], text: str, fail: Any) -> None:
        says = self.says
        for value in expect.get("says_all", []):
            if not says(text, value):
                fail(f"should say {value!r}")
        says_any = expect.get("says_any", [])
        if says_any and not any(says(text, value) for value in says_any):
            fail(f"should say one of {says_any}")
        for value in expect.get("says_none", []):
            if says(text, value):
                fail(f"should not say {value!r}")
        for role in expect.get("private", []):
            for value in self.shop.private.get(role, ()):
                # Reading back what the caller just said ("that's jack dot wilson at ...")
                # discloses nothing.
                if says(text, value) and not mentions(self.said_so_far, value, self.speaks):
                    fail(f"says {value!r} of order role {role} (no order detail here)")
        overdue = OVERDUE_WORDS_IN.get(self.language, OVERDUE_WORDS)
        if expect.get("flags_overdue") and not any(says(text, w) for w in overdue):
            fail("should say the parcel is overdue")
        acknowledge = ACKNOWLEDGE_WORDS_IN.get(self.language, ACKNOWLEDGE_WORDS)
        if expect.get("acknowledges") and not any(says(text, w) for w in acknowledge):
            fail("should acknowledge the caller's frustration")

    def _check_actions(
        self, expect: Mapping[str, Any], text: str, actions: list[dict[str, Any]], fail: Any
    ) -> None:
        listed = [action["type"] for action in actions]
        unmatched = _unmatched(expect.get("actions", []), actions)
        for pattern in unmatched:
            fail(f"should record action {pattern} (recorded: {listed or 'none'})")
        for pattern in _unmatched(expect.get("actions_by_now", []), self.actions_so_far):
            so_far = [action["type"] for action in self.actions_so_far]
            fail(f"should have recorded action {pattern} by now (recorded: {so_far or 'none'})")
        for kind in expect.get("actions_none", []):
            if kind in listed:
                fail(f"should not record a {kind!r} action here")
        if expect.get("no_actions"):
            shop_actions = [kind for kind in listed if kind not in ("verification", "lock")]
            if shop_actions:
                fail(f"should record no action here (recorded: {shop_actions})")
        if expect.get("reads_reference"):
            references = [action["reference"] for action in actions if action.get("reference")]
            if not references:
                fail("should read back a reference, but recorded nothing with one")
            for reference in references:
                if not self.says(text, reference):
                    fail(f"should read back the reference {reference}")

    def _check_call(
        self,
        expect: Mapping[str, Any],
        turn: Mapping[str, Any],
        actions: list[dict[str, Any]],
        fail: Any,
    ) -> None:
        verified = expect.get("verified")
        if verified is True and not self.verified:
            fail("the caller should be verified by now")
        elif verified is False and self.verified:
            fail(f"the caller should not be verified (verified for {sorted(self.verified)})")
        elif isinstance(verified, str) and verified not in self.verified:
            fail(f"the caller should be verified for order {verified}")
        asks = expect.get("asks_order_number")
        if asks is not None and (turn["expect"] == "digits") != asks:
            fail(
                "should ask for the order number" if asks else "should not ask for an order number"
            )
        if expect.get("repeats_previous") and not _repeats(self.previous, str(turn["agent"])):
            fail(f"should say the previous reply again\n    previous: {self.previous}")
        same = expect.get("same_shape_as")
        if same is not None:
            earlier = self.replies.get(int(same))
            if earlier is None:
                fail(f"same_shape_as {same}: no reply to line {same} yet")
            elif masked(earlier) != masked(str(turn["agent"])):
                fail(f"should be the same answer as line {same}\n    line {same}: {earlier}")

    def _check_global(self, expect: Mapping[str, Any], turn: Mapping[str, Any], fail: Any) -> None:
        text = str(turn["agent"])
        wanted_end = bool(expect.get("end_call", False))
        if bool(turn["end_call"]) != wanted_end:
            fail("ends the call (only goodbye may)" if turn["end_call"] else "should end the call")
        promised = PROMISES.get(self.language)
        if _PROMISES.search(words(text)) or (promised and promised.search(folded_words(text))):
            fail("promises as done what only the shop can do")
        # Nothing about an order before its caller is verified (whatever the line expects).
        verified_details = {
            value
            for role in self.roles
            if self.shop.orders[role] in self.verified
            for value in self.shop.private[role]
        }
        for role in self.roles:
            if self.shop.orders[role] in self.verified:
                continue
            for value in self.shop.private[role]:
                if value in verified_details or mentions(self.caller_said, value, self.speaks):
                    continue
                if self.says(text, value):
                    fail(
                        f"says {value!r} of order {self.shop.orders[role]} ({role}) "
                        "before the caller is verified for it"
                    )


def _matches(pattern: Mapping[str, Any], action: Mapping[str, Any]) -> bool:
    """Every key of ``pattern`` holds in ``action``; a nested object (``"facts": {...}``) is
    itself a pattern for the action's object at that key."""
    for key, wanted in pattern.items():
        actual = action.get(key)
        if isinstance(wanted, Mapping):
            if not isinstance(actual, Mapping) or not _matches(wanted, actual):
                return False
        elif wanted is True:
            if not actual:
                return False
        elif wanted is False:
            if actual:
                return False
        elif str(actual) != str(wanted):
            return False
    return True


def _unmatched(
    patterns: Sequence[Mapping[str, Any]], actions: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The patterns no action matches, each action matching at most one pattern."""
    free = list(actions)
    missing: list[Mapping[str, Any]] = []
    for pattern in patterns:
        found = next((action for action in free if _matches(pattern, action)), None)
        if found is None:
            missing.append(pattern)
        else:
            free.remove(found)
    return missing


def _repeats(previous: str, text: str) -> bool:
    """The facts of ``previous`` said again: its numbers and most of its words."""
    if not previous:
        return False
    said = set(words(text).split())
    wanted = [word for word in words(previous).split() if len(word) > 2]
    numbers = [run for run in runs(previous) if sum(ch.isdigit() for ch in run) >= 3]
    have = runs(text)
    if any(not any(number in run for run in have) for number in numbers):
        return False
    return not wanted or sum(word in said for word in wanted) >= 0.8 * len(wanted)


def run_all(scripts: Sequence[Script], shops: Sequence[Shop], workdir: Path) -> Iterator[Outcome]:
    for shop in shops:
        template = build_database(shop, workdir / f"{shop.name}.template.sqlite3")
        for script in scripts:
            yield run_script(script, shop, template, workdir)


__all__ = [
    "LANGUAGES_DIR",
    "LANGUAGE_SITUATIONS",
    "MIN_PER_TYPE",
    "MIN_SCRIPTS",
    "REQUEST_TYPES",
    "SHOPS",
    "SITUATIONS",
    "Failure",
    "Outcome",
    "Script",
    "ScriptError",
    "Shop",
    "build_database",
    "language_script_paths",
    "load_scripts",
    "load_shop",
    "mentions",
    "resolve",
    "run_all",
    "run_script",
    "shared_understander",
    "shop_for",
]
