"""The scripted dialogues in each language (benchmarks/dialogues/languages/<lang>/), against the
demo shop and the second shop, as test_scripted_dialogues runs the English ones.

The same scenarios in every language: a status with verification, no disclosure after wrong
factors, a lost insured parcel's claim, customs duties, a product question, a hand-off to a
person, and a caller who switches language mid-call. Each script's first line gives the call's
language hint; its replies must be in that language (``replies_in``) and answer the request.
They fail until every language's replies, understanding and number words are in main; they are
not marked expected to fail.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from benchmarks.dialogues import (
    LANGUAGES_DIR,
    SHOPS,
    Outcome,
    Script,
    ScriptError,
    Shop,
    _Checker,
    build_database,
    language_script_paths,
    load_script,
    load_shop,
    mentions,
    resolved_script_text,
    run_script,
    shared_understander,
)
from benchmarks.dialogues.multilingual import replies_in, spoken
from voice_agent.dialogue.commands import _script_turns
from voice_agent.dialogue.nlu import Understand
from voice_agent.languages import SUPPORTED

PATHS = language_script_paths()
SCENARIOS = (
    "order-status-verified",
    "order-status-wrong-factors",
    "lost-parcel-insured",
    "duties-held-dap",
    "product-question-size",
    "human-direct",
    "order-status-switch-language",
)


@pytest.fixture(scope="module")
def shops() -> dict[str, Shop]:
    return {name: load_shop(name) for name in SHOPS}


@pytest.fixture(scope="module")
def templates(shops: dict[str, Shop], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shops")
    return {name: build_database(shop, folder / f"{name}.sqlite3") for name, shop in shops.items()}


@pytest.fixture(scope="session")
def understand() -> Understand:
    return shared_understander()


def _report(outcome: Outcome) -> str:
    lines = [f"{outcome.script.path.parent.name}/{outcome.script.name} on {outcome.shop}:"]
    lines += [f"  {failure}" for failure in outcome.failures]
    for said, turn in outcome.transcript:
        lines += [f"    caller: {said}", f"    agent:  {turn['agent']}"]
    return "\n".join(lines)


def _id(path: Path) -> str:
    return f"{path.parent.name}-{path.stem}"


@pytest.mark.parametrize("shop_name", SHOPS)
@pytest.mark.parametrize("path", PATHS, ids=[_id(path) for path in PATHS])
def test_language_script(
    path: Path,
    shop_name: str,
    shops: dict[str, Shop],
    templates: dict[str, Path],
    understand: Understand,
    tmp_path: Path,
) -> None:
    script = load_script(path)
    outcome = run_script(script, shops[shop_name], templates[shop_name], tmp_path, understand)
    if not outcome.passed:
        pytest.fail(_report(outcome), pytrace=False)


# --- the scripts themselves ---------------------------------------------------------------------


def test_every_language_has_the_same_scenarios() -> None:
    for language in SUPPORTED:
        names = {path.stem for path in (LANGUAGES_DIR / language).glob("*.jsonl")}
        assert names == set(SCENARIOS), language


@pytest.mark.parametrize("path", PATHS, ids=[_id(path) for path in PATHS])
def test_each_script_says_its_language_and_resolves_for_each_shop(
    path: Path, shops: dict[str, Shop]
) -> None:
    script = load_script(path)
    assert script.language is not None, "the first line says the call's language"
    if "language_switch" in script.covers:
        assert script.language != path.parent.name, "the caller switches INTO the folder's"
        switched = [line.entry.get("expect", {}).get("replies_in") for line in script.lines]
        assert path.parent.name in switched, "a later reply is in the language switched to"
    else:
        assert script.language == path.parent.name
    for shop in shops.values():
        text = resolved_script_text(script, shop)
        turns = list(_script_turns(io.StringIO(text), path.name))
        assert len(turns) == len(script.lines)
        assert "{" not in "".join(turn.caller for turn in turns)
    last = script.lines[-1].entry.get("expect", {})
    assert last.get("end_call") is True, "the last line says goodbye and ends the call"


def test_a_scripts_language_is_checked_when_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "languages" / "de"
    folder.mkdir(parents=True)
    path = folder / "human-direct.jsonl"
    path.write_text('{"caller": "hola", "language": "xx", "covers": ["human"]}\n')
    with pytest.raises(ScriptError, match="language 'xx' is not one of"):
        load_script(path)
    path.write_text('{"caller": "hi", "covers": ["human"]}\n{"caller": "x", "language": "de"}\n')
    with pytest.raises(ScriptError, match="only the first line says the language"):
        load_script(path)


# --- the harness in other languages ------------------------------------------------------------


def test_placeholders_are_said_in_the_scripts_language() -> None:
    german, spanish = spoken("de"), spoken("es")
    assert german.digits("45067") == "vier fünf null sechs sieben"
    assert spanish.code("SW1A 1AA") == "S W uno A uno A A"
    assert spoken("pt").digits("2") == "dois"
    assert spoken("fr").email("anna.schmidt@example.de") == (
        "anna point schmidt arobase example point de"
    )
    assert german.spelled("qzx") == "ku zett ix"
    assert spanish.phone("4930") == "más cuatro nueve tres cero"
    # English stays as the English scripts were written.
    assert spoken("en").email("jack.wilson@example.com") == "jack dot wilson at example dot com"
    assert spoken("en").spelled("ann") == "a n n"


def test_language_shop_fields(shops: dict[str, Shop]) -> None:
    shop = load_shop("demo", "de")
    number = shop.values["customs.number"]
    assert shop.values["customs.number_words"] == spoken("de").digits(number)
    assert shop.values["abroad.name"] == "Kanada"
    assert shop.values["p2.called"] != shops["demo"].values["p2.called"]
    assert shops["demo"].values["customs.number_words"] == spoken("en").digits(number)


def test_numbers_and_codes_are_recognised_in_each_language() -> None:
    assert mentions("Bestellung vier, fünf, null, sechs, sieben.", "45067", "de")
    assert mentions("El pedido cuatro cinco cero seis siete.", "45067", "es")
    assert mentions("La commande quatre, cinq, zéro, six, sept.", "45067", "fr")
    assert mentions("O pedido quatro, cinco, zero, seis, sete.", "45067", "pt")
    assert mentions("Die Sendungsnummer ist Y T, zwei vier eins neun.", "YT2419", "de")
    assert mentions("Tiene ciento ochenta y tres por sesenta y uno.", "183", "es")
    assert not mentions("Bestellung vier, fünf, null, sechs, acht.", "45067", "de")
    assert mentions("Dafür fallen Zölle und Einfuhrumsatzsteuer an.", "zöll*", "de")
    assert mentions("Retenido en la aduana", "aduána*", "es")  # accents do not count


def test_the_reply_language_is_told_by_its_function_words() -> None:
    assert replies_in("Gerne. Wie lautet Ihre Bestellnummer?", "de")
    assert replies_in("Claro. ¿Cuál es su número de pedido?", "es")
    assert replies_in("Bien sûr. Quel est votre numéro de commande ?", "fr")
    assert replies_in("Claro. Qual é o número do seu pedido?", "pt")
    assert replies_in("Sure. What's your order number?", "en")
    english = "Sure. What's your order number? You can say it digit by digit."
    assert not any(replies_in(english, code) for code in ("de", "es", "fr", "pt"))
    assert not replies_in("Claro. Qual é o número do seu pedido?", "es")
    assert not replies_in("Tschüss!", "de")  # too short to tell


def _probe(tmp_path: Path, lines: str) -> Script:
    folder = tmp_path / "probe"
    folder.mkdir(exist_ok=True)
    path = folder / "order-status-probe.jsonl"
    path.write_text(lines)
    return load_script(path)


def test_a_reply_in_the_wrong_language_and_a_german_promise_are_caught(
    shops: dict[str, Shop], tmp_path: Path
) -> None:
    script = _probe(
        tmp_path,
        '{"caller": "Wo ist meine Bestellung?", "language": "de", "covers": ["order_status"], '
        '"expect": {"replies_in": "de"}}\n'
        '{"caller": "vier fünf"}\n'
        '{"caller": "danke"}\n',
    )
    outcome = Outcome(script, "demo")
    checker = _Checker(script, shops["demo"], outcome)
    checker.check_greeting("Hello, thanks for calling. How can I help with your order today?")
    turn = {"actions": [], "expect": "digits", "end_call": False}
    english = "Sure. What's your order number? You can say it digit by digit."
    checker.check(script.lines[0], script.lines[0].entry, {**turn, "agent": english})
    checker.check(
        script.lines[1],
        script.lines[1].entry,
        {**turn, "agent": "Thanks. To confirm it's you, please tell me the postcode now."},
    )
    checker.check(
        script.lines[2],
        script.lines[2].entry,
        {**turn, "agent": "Gerne. Wir haben Ihnen den Betrag erstattet."},
    )
    messages = [failure.message.split("\n")[0] for failure in outcome.failures]
    assert messages == [
        "the greeting should be in de",
        "should reply in de",
        "replies in another language than the call's (de)",
        "promises as done what only the shop can do",
    ]
