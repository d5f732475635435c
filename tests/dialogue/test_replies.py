"""Spoken forms and the English template table."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from voice_agent.dialogue.policies import OUTCOME_KINDS, PARTIES
from voice_agent.dialogue.replies import LANGUAGES, LanguageError, language, template_fields
from voice_agent.dialogue.replies.en import TEMPLATES
from voice_agent.languages import LOCALES
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
    with pytest.raises(LanguageError, match=r"'xx' \(available: ") as refused:
        language("xx")
    available = str(refused.value).rsplit("available: ", 1)[1].rstrip(")").split(", ")
    assert set(available) == set(LANGUAGES)


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


# --- every language: the same keys and fields as English -------------------------------------


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_language_has_every_english_key_and_no_other(code: str) -> None:
    templates = language(code).templates
    assert sorted(set(TEMPLATES) - set(templates)) == [], "missing"
    assert sorted(set(templates) - set(TEMPLATES)) == [], "not in English"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_template_has_the_fields_english_has(code: str) -> None:
    templates = language(code).templates
    differ = {
        key: (template_fields(TEMPLATES[key]), template_fields(templates[key]))
        for key in TEMPLATES
        if key in templates and template_fields(TEMPLATES[key]) != template_fields(templates[key])
    }
    assert differ == {}


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_template_formats_with_sample_values(code: str) -> None:
    speech = language(code)
    for key, template in speech.templates.items():
        values = {field: f"<{field}>" for field in template_fields(template)}
        said = speech.say(key, **values)
        assert said.strip(), key
        assert "{" not in said and "}" not in said, key
        assert all(f"<{field}>" in said for field in values), key


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != "en"])
def test_every_language_speaks_in_its_own_locale(code: str) -> None:
    """Dates, money and country names in the locale the languages module names (pt: Brazil's)."""
    speech = language(code)
    assert speech.code == code
    assert str(speech.locale) == LOCALES[code]


@pytest.mark.parametrize("code", LANGUAGES)
def test_openers_are_short_in_every_language(code: str) -> None:
    for key, template in language(code).templates.items():
        if key.startswith("ack."):
            assert len(template.split()) <= 6, (code, key, template)


@pytest.mark.parametrize("code", ["de", "fr"])
def test_numbers_in_the_sentences_are_words(code: str) -> None:
    """The synthesizer is never left to guess how a digit is read."""
    for key, template in language(code).templates.items():
        literal = re.sub(r"\{[a-z_]+\}", "", template)
        assert not re.search(r"\d", literal), (key, template)


# --- German spoken forms ----------------------------------------------------------------------


def test_german_digits_and_postcodes() -> None:
    german = language("de")
    assert german.digits("45067") == "vier, fünf, null, sechs, sieben"
    assert german.spell("10119") == "eins null eins eins neun"
    assert german.spell("SW1A 1AA") == "S W eins A, eins A A"


def test_german_dates_read_as_said() -> None:
    german = language("de")
    assert german.date(date(2026, 11, 3)) == "Dienstag, den dritten November"
    assert german.date(date(2026, 6, 1)) == "Montag, den ersten Juni"
    assert german.date(date(2026, 12, 31)) == "Donnerstag, den einunddreißigsten Dezember"


def test_german_times_on_the_24_hour_clock() -> None:
    german = language("de")
    berlin = ZoneInfo("Europe/Berlin")
    assert german.time(datetime(2026, 11, 13, 16, 0, tzinfo=berlin)) == "sechzehn Uhr"
    assert german.time(datetime(2026, 11, 13, 9, 30, tzinfo=berlin)) == "neun Uhr dreißig"
    assert german.time(datetime(2026, 11, 13, 1, 0, tzinfo=berlin)) == "ein Uhr"


@pytest.mark.parametrize(
    ("amount", "currency", "spoken"),
    [
        ("12.50", "EUR", "zwölf Euro fünfzig"),
        ("45.00", "EUR", "fünfundvierzig Euro"),
        ("1.99", "EUR", "ein Euro neunundneunzig"),
        ("21.00", "CHF", "einundzwanzig Schweizer Franken"),
    ],
)
def test_german_money_with_minor_units(amount: str, currency: str, spoken: str) -> None:
    assert language("de").money(Decimal(amount), currency) == spoken


def test_german_lists_durations_and_counts() -> None:
    german = language("de")
    assert german.join(["Fotos", "Etikett", "Lieferschein"]) == "Fotos, Etikett und Lieferschein"
    assert german.join_or(["die Postleitzahl", "die Telefonnummer"]) == (
        "die Postleitzahl oder die Telefonnummer"
    )
    # durations follow a dative preposition ("innerhalb von", "vor", "nach", "seit")
    assert german.days(1) == "einem Tag"
    assert german.days(14) == "vierzehn Tagen"
    assert german.hours(1) == "einer Stunde"
    assert german.hours(3) == "drei Stunden"
    assert german.number(1) == "ein"
    assert german.number(30) == "dreißig"
    assert german.country("CH") == "Schweiz"


# --- French spoken forms ----------------------------------------------------------------------


def test_french_digits_and_postcodes() -> None:
    french = language("fr")
    assert french.digits("45067") == "quatre, cinq, zéro, six, sept"
    assert french.spell("75008") == "sept cinq zéro zéro huit"


def test_french_dates_read_as_said() -> None:
    french = language("fr")
    assert french.date(date(2026, 11, 3)) == "mardi trois novembre"
    assert french.date(date(2026, 6, 1)) == "lundi premier juin"
    assert french.date(date(2026, 12, 21)) == "lundi vingt et un décembre"


def test_french_times_on_the_24_hour_clock() -> None:
    french = language("fr")
    paris = ZoneInfo("Europe/Paris")
    assert french.time(datetime(2026, 11, 13, 16, 0, tzinfo=paris)) == "seize heures"
    assert french.time(datetime(2026, 11, 13, 9, 30, tzinfo=paris)) == "neuf heures trente"
    assert french.time(datetime(2026, 11, 13, 1, 0, tzinfo=paris)) == "une heure"
    assert french.time(datetime(2026, 11, 13, 21, 21, tzinfo=paris)) == (
        "vingt et une heures vingt et une"
    )


@pytest.mark.parametrize(
    ("amount", "currency", "spoken"),
    [
        ("12.50", "EUR", "douze euros cinquante"),
        ("1.00", "EUR", "un euro"),
        ("1.00", "GBP", "une livre sterling"),
        ("21.99", "GBP", "vingt et une livres sterling quatre-vingt-dix-neuf"),
    ],
)
def test_french_money_with_minor_units(amount: str, currency: str, spoken: str) -> None:
    assert language("fr").money(Decimal(amount), currency) == spoken


def test_french_lists_durations_and_counts() -> None:
    french = language("fr")
    assert french.join(["les photos", "l'étiquette"]) == "les photos et l'étiquette"
    assert french.join_or(["le code postal", "l'e-mail", "le téléphone"]) == (
        "le code postal, l'e-mail ou le téléphone"
    )
    assert french.days(1) == "un jour"
    assert french.days(14) == "quatorze jours"
    assert french.hours(1) == "une heure"
    assert french.hours(21) == "vingt et une heures"
    assert french.country("GB") == "Royaume-Uni"


# --- pieces combined as the engine combines them ----------------------------------------------


def _factors(code: str) -> str:
    speech = language(code)
    pieces = [
        speech.say("verify.factor.postcode"),
        speech.say("verify.factor.email_prefix", letters=speech.number(3)),
        speech.say("verify.factor.phone_last4", digits=speech.number(4)),
    ]
    return speech.say("verify.ask_factor", factors=speech.join_or(pieces))


def test_the_factors_asked_for_read_as_one_sentence() -> None:
    assert _factors("de") == (
        "Um zu bestätigen, dass Sie es sind, nennen Sie mir bitte die Postleitzahl, die ersten "
        "drei Buchstaben der E-Mail-Adresse oder die letzten vier Ziffern der Telefonnummer."
    )
    assert _factors("fr") == (
        "Pour confirmer votre identité, merci de m'indiquer le code postal, les trois "
        "premières lettres de l'adresse e-mail ou les quatre derniers chiffres du numéro de "
        "téléphone."
    )


def test_attempts_left_agree_with_their_count() -> None:
    german, french = language("de"), language("fr")
    assert german.say("verify.attempts_left", count=german.number(1)) == (
        "Ihnen bleibt noch ein Versuch."
    )
    assert german.say("verify.attempts_left_many", count=german.number(2)) == (
        "Ihnen bleiben noch zwei Versuche."
    )
    assert french.say("verify.attempts_left", count=french.number(1)) == "Il vous reste un essai."


@pytest.mark.parametrize("party", PARTIES)
def test_german_parties_are_in_the_dative_after_bei_and_mit(party: str) -> None:
    """ "Die Verantwortung liegt bei dem Zollagenten", "Wir klären das mit dem Zoll"."""
    german = language("de")
    values = {"carrier": "DHL", "courier": "Hermes"}
    dative = re.compile(r"^(?:dem |unserem |Ihnen\b|DHL$|Hermes$)")
    for key in (f"party.{party}", f"party.short.{party}"):
        assert dative.match(german.say(key, **values)), key
    said = german.say("lost.responsible", party=german.say(f"party.{party}", **values))
    assert said.startswith("Die Verantwortung liegt bei "), said


@pytest.mark.parametrize("stage", STAGES)
def test_stages_fit_after_waehrend_and_pendant(stage: str) -> None:
    german, french = language("de"), language("fr")
    genitive = re.compile(r"^(?:der|des) ")
    assert genitive.match(german.say(f"stage.{stage}")), stage
    with_article = re.compile(r"^(?:le |la |l')")
    assert with_article.match(french.say(f"stage.{stage}")), stage
    rule = german.say("overdue.rule", stage=german.say(f"stage.{stage}"), days=german.days(14))
    assert rule.startswith("Während der") or rule.startswith("Während des"), rule
    assert "nach vierzehn Tagen ohne Scan" in rule


def test_durations_fit_where_the_engine_puts_them() -> None:
    german, french = language("de"), language("fr")
    assert german.say("refund.after_receipt", days=german.days(1)) == (
        "Wir erstatten innerhalb von einem Tag nach Eingang der Artikel."
    )
    assert french.say("return.window_rule", days=french.days(30)) == (
        "Vous pouvez retourner les articles sous trente jours après la livraison."
    )
