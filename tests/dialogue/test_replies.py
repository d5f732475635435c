"""Spoken forms and the template tables: English's, and every other language's against it."""

from __future__ import annotations

import re
import string
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.dialogue.conftest import new_call
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import OUTCOME_KINDS, PARTIES, Policies
from voice_agent.dialogue.replies import LANGUAGES, LanguageError, language, template_fields
from voice_agent.dialogue.replies.en import TEMPLATES
from voice_agent.languages import LOCALES
from voice_agent.store.repository import Repository
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


@pytest.mark.parametrize("code", ["de", "es", "fr", "pt"])
def test_numbers_in_the_sentences_are_words(code: str) -> None:
    """The synthesizer is never left to guess how a digit is read."""
    for key, template in language(code).templates.items():
        literal = re.sub(r"\{[a-z_]+\}", "", template)
        assert not re.search(r"\d", literal), (key, template)


# --- every language: what the engine relies on -------------------------------------------

COMPARED = (
    "general.anything_else",
    "tracking.offer_link",
    "address.offer_person",
    "status.late_claim",
    "ack.sorry",
    "ack.sure",
)
"""Keys whose sentence the engine recognises in a reply by its text (engine.py, products.py)."""


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_question_stays_a_question_and_a_piece_stays_a_piece(code: str) -> None:
    """One sentence per key, as in English: a question ends with "?", a statement with "."
    or "!", and a piece spoken inside another sentence ("the postcode") with neither."""

    def ending(text: str) -> str:
        return {"?": "question", ".": "statement", "!": "statement"}.get(text[-1], "piece")

    templates = language(code).templates
    for key, english in TEMPLATES.items():
        assert ending(templates[key]) == ending(english), (code, key, templates[key])


@pytest.mark.parametrize("code", LANGUAGES)
def test_sentences_the_engine_recognises_are_said_by_no_other_key(code: str) -> None:
    templates = language(code).templates
    for key in COMPARED:
        same = [other for other, text in templates.items() if text == templates[key]]
        assert same == [key], (code, key, same)


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


# --- Spanish and Brazilian Portuguese spoken forms ---------------------------------------------


@pytest.mark.parametrize(
    ("code", "spoken"),
    [("es", "cuatro, cinco, cero, siete"), ("pt", "quatro, cinco, zero, sete")],
)
def test_digits_in_the_language(code: str, spoken: str) -> None:
    assert language(code).digits("4507") == spoken


@pytest.mark.parametrize(
    ("code", "postcode", "spoken"),
    [
        ("es", "SW1A 1AA", "ese uve doble uno a, uno a a"),
        ("es", "28013", "dos ocho cero uno tres"),
        ("es", "YT2 4Q", "i griega te dos, cuatro cu"),
        ("pt", "SW1A 1AA", "ésse dáblio um á, um á á"),
        ("pt", "01310-100", "zero um três um zero um zero zero"),
        ("pt", "EK 9", "éh cá, nove"),
    ],
)
def test_codes_are_spelled_by_letter_names(code: str, postcode: str, spoken: str) -> None:
    assert language(code).spell(postcode) == spoken


@pytest.mark.parametrize(
    ("code", "day", "spoken"),
    [
        ("es", date(2024, 11, 3), "domingo tres de noviembre"),
        ("es", date(2024, 11, 1), "viernes uno de noviembre"),
        ("es", date(2024, 11, 21), "jueves veintiuno de noviembre"),
        ("pt", date(2024, 11, 12), "terça-feira, dia doze de novembro"),
        ("pt", date(2024, 11, 1), "sexta-feira, dia primeiro de novembro"),
        ("pt", date(2024, 11, 21), "quinta-feira, dia vinte e um de novembro"),
        ("pt", date(2024, 11, 14), "quinta-feira, dia quatorze de novembro"),
    ],
)
def test_dates_in_the_language(code: str, day: date, spoken: str) -> None:
    assert language(code).date(day) == spoken


@pytest.mark.parametrize(
    ("code", "hour", "minute", "spoken"),
    [
        ("es", 16, 0, "las cuatro de la tarde"),
        ("es", 13, 30, "la una y media de la tarde"),
        ("es", 9, 15, "las nueve y cuarto de la mañana"),
        ("es", 12, 0, "las doce del mediodía"),
        ("es", 22, 45, "las diez y cuarenta y cinco de la noche"),
        ("pt", 16, 0, "as quatro da tarde"),
        ("pt", 13, 30, "a uma e meia da tarde"),
        ("pt", 9, 15, "as nove e quinze da manhã"),
        ("pt", 12, 0, "o meio-dia"),
        ("pt", 20, 5, "as oito e cinco da noite"),
    ],
)
def test_times_of_day_in_the_language(code: str, hour: int, minute: int, spoken: str) -> None:
    madrid = ZoneInfo("Europe/Madrid")
    assert language(code).time(datetime(2024, 11, 13, hour, minute, tzinfo=madrid)) == spoken


@pytest.mark.parametrize(
    ("code", "amount", "currency", "spoken"),
    [
        ("es", "12.50", "EUR", "doce euros con cincuenta"),
        ("es", "21.00", "EUR", "veintiún euros"),
        ("es", "1.00", "GBP", "una libra esterlina"),
        ("es", "21.05", "GBP", "veintiuna libras esterlinas con cinco"),
        ("es", "0.50", "EUR", "cincuenta céntimos"),
        ("es", "1.50", "USD", "un dólar estadounidense con cincuenta"),
        ("pt", "12.50", "BRL", "doze reais e cinquenta"),
        ("pt", "1.00", "BRL", "um real"),
        ("pt", "2.00", "GBP", "duas libras esterlinas"),
        ("pt", "45.99", "EUR", "quarenta e cinco euros e noventa e nove"),
        ("pt", "0.50", "BRL", "cinquenta centavos"),
    ],
)
def test_money_in_the_language(code: str, amount: str, currency: str, spoken: str) -> None:
    assert language(code).money(Decimal(amount), currency) == spoken


def test_spanish_lists_with_and_and_or() -> None:
    spanish = language("es")
    assert spanish.join(["el código postal", "el teléfono"]) == "el código postal y el teléfono"
    assert spanish.join(["fotos", "la factura", "el albarán"]) == "fotos, la factura y el albarán"
    assert spanish.join(["Francia", "Italia"]) == "Francia e Italia"  # "y" before /i/
    assert spanish.join(["agua", "hielo"]) == "agua y hielo"  # not before a diphthong
    assert spanish.join_or(["el código", "las letras"]) == "el código o las letras"
    assert spanish.join_or(["siete", "ocho"]) == "siete u ocho"  # "o" before /o/
    assert spanish.join(["la factura"]) == "la factura"


def test_portuguese_lists_with_and_and_or() -> None:
    portuguese = language("pt")
    assert portuguese.join(["as fotos", "a nota fiscal", "o CEP"]) == (
        "as fotos, a nota fiscal e o CEP"
    )
    assert portuguese.join_or(["o CEP", "o telefone"]) == "o CEP ou o telefone"


@pytest.mark.parametrize(
    ("code", "days", "hours"),
    [
        (
            "es",
            ["un día", "dos días", "veintiún días"],
            ["una hora", "dos horas", "veintiuna horas"],
        ),
        (
            "pt",
            ["um dia", "dois dias", "vinte e um dias"],
            ["uma hora", "duas horas", "vinte e uma horas"],
        ),
    ],
)
def test_counts_agree_with_their_noun(code: str, days: list[str], hours: list[str]) -> None:
    speech = language(code)
    assert [speech.days(count) for count in (1, 2, 21)] == days
    assert [speech.hours(count) for count in (1, 2, 21)] == hours


@pytest.mark.parametrize(
    ("code", "count", "feminine", "masculine"),
    [
        ("es", 31, "treinta y una", "treinta y un"),
        ("es", 200, "doscientas", "doscientos"),
        ("es", 300_000, "trescientas mil", "trescientos mil"),
        ("pt", 22, "vinte e duas", "vinte e dois"),
        ("pt", 201_000, "duzentas e uma mil", "duzentos e um mil"),
        ("pt", 2_000, "duas mil", "dois mil"),
    ],
)
def test_larger_counts_agree_with_their_noun(
    code: str, count: int, feminine: str, masculine: str
) -> None:
    speech = language(code)
    hours, days = ("horas", "días") if code == "es" else ("horas", "dias")
    assert speech.say("unit.hours", count=count) == f"{feminine} {hours}"
    assert speech.say("unit.days", count=count) == f"{masculine} {days}"


@pytest.mark.parametrize(
    ("code", "spoken"),
    [("es", "de uno a veintiún días"), ("pt", "de um a vinte e dois dias")],
)
def test_a_count_before_no_noun_stands_alone(code: str, spoken: str) -> None:
    speech = language(code)
    high = 21 if code == "es" else 22
    assert speech.say("unit.day_range", low=speech.number(1), high=speech.number(high)) == spoken


@pytest.mark.parametrize(
    ("code", "one", "two"),
    [
        ("es", "Puede intentarlo una vez más.", "Puede intentarlo dos veces más."),
        ("pt", "Você pode tentar mais uma vez.", "Você pode tentar mais duas vezes."),
    ],
)
def test_attempts_left_are_counted_in_words(code: str, one: str, two: str) -> None:
    speech = language(code)
    assert speech.say("verify.attempts_left", count=speech.number(1)) == one
    assert speech.say("verify.attempts_left_many", count=speech.number(2)) == two


@pytest.mark.parametrize("code", ["es", "pt"])
def test_no_digit_is_left_for_the_synthesizer(code: str) -> None:
    """Counts are words (a synthesizer reads "1 hora" as "uno hora")."""
    speech = language(code)
    for key, template in speech.templates.items():
        said = speech.say(key, **{field: "3" for field in template_fields(template)})
        assert not any(ch.isdigit() for ch in said), (code, key, said)


def test_spanish_prepositions_merge_with_the_article() -> None:
    spanish = language("es")
    uk = spanish.country("GB")
    assert uk == "el Reino Unido"
    said = spanish.say("delivery_time.country", country=uk, value="cinco días")
    assert said.startswith("El envío al Reino Unido tarda cinco días")
    customs = spanish.say("status.holder.import_customs", country=uk)
    assert customs == "Está en la aduana de importación del Reino Unido."
    named = spanish.say("status.holder.import_customs", country="El Salvador")
    assert named == "Está en la aduana de importación de El Salvador."  # a name's own "El"


def test_portuguese_prepositions_merge_with_articles_and_weekdays() -> None:
    portuguese = language("pt")
    assert [portuguese.country(code) for code in ("DE", "BR", "US", "PT", "PH", "QQ")] == [
        "a Alemanha",
        "o Brasil",
        "os Estados Unidos",
        "Portugal",
        "as Filipinas",
        "QQ",
    ]
    customs = [
        portuguese.say("status.holder.import_customs", country=portuguese.country(code))
        for code in ("DE", "BR", "PT")
    ]
    assert customs == [
        "Ele está na alfândega de importação da Alemanha.",
        "Ele está na alfândega de importação do Brasil.",
        "Ele está na alfândega de importação de Portugal.",
    ]
    scan = portuguese.say(
        "lost.last_scan",
        age=portuguese.days(3),
        date=portuguese.date(date(2024, 11, 12)),
        stage=portuguese.say("stage.international"),
    )
    assert scan == (
        "A última leitura foi há três dias, na terça-feira, dia doze de novembro, "
        "no transporte internacional."
    )
    saturday = portuguese.say("status.delivered", date=portuguese.date(date(2024, 11, 9)))
    assert saturday == "Ele foi entregue no sábado, dia nove de novembro."


@pytest.mark.parametrize(
    ("code", "spoken"),
    [
        ("es", "El sábado nueve de noviembre, en Londres, Reino Unido: llegó."),
        ("pt", "No sábado, dia nove de novembro, em Londres, Reino Unido: chegou."),
    ],
)
def test_a_place_names_its_country_without_an_article(code: str, spoken: str) -> None:
    speech = language(code)
    place = f"Londres, {speech.country('GB')}"
    text = "llegó" if code == "es" else "chegou"
    said = speech.say("status.event", date=speech.date(date(2024, 11, 9)), place=place, text=text)
    assert said == spoken


def test_the_factors_asked_for_read_as_one_sentence_in_spanish_and_portuguese() -> None:
    assert _factors("es") == (
        "Para confirmar que es usted, dígame el código postal, las primeras tres letras del "
        "correo electrónico o los últimos cuatro dígitos del número de teléfono."
    )
    assert _factors("pt") == (
        "Para confirmar que é você, por favor, me diga o CEP, as primeiras três letras do "
        "e-mail ou os últimos quatro dígitos do telefone."
    )


@pytest.mark.parametrize(
    ("code", "spoken"),
    [
        (
            "es",
            "Un compañero le llamará el jueves catorce de noviembre, antes de las nueve y "
            "media de la mañana, hora de Madrid.",
        ),
        (
            "pt",
            "Um colega vai ligar para você na quinta-feira, dia quatorze de novembro, até as "
            "nove e meia da manhã, horário de Madrid.",
        ),
    ],
)
def test_a_call_back_time_in_another_zone(code: str, spoken: str) -> None:
    """As handoff.py builds it: the time, its zone's city, then the sentence with the date."""
    speech = language(code)
    moment = datetime(2024, 11, 14, 9, 30, tzinfo=ZoneInfo("Europe/Madrid"))
    time = speech.say("handoff.zone_time", time=speech.time(moment), city="Madrid")
    assert speech.say("handoff.created", time=time, date=speech.date(moment.date())) == spoken


# --- a whole call in Spanish and Brazilian Portuguese ----------------------------------------

CALLS = (
    ("Where is my order?", "4 5 0 6 9", "10119", "my parcel is lost", "no"),
    ("Where is my parcel?", "3 1 1 4 6", "33130", "yes"),
    ("Has my order arrived?", "5 8 8 1 2", "75011", "I want to return it", "yes"),
    ("Do I have to pay customs duties?", "4 5 0 6 9", "10119", "tracking number"),
    ("Where's my order?", "1 0 2 3 2", "SW1A 1AA", "change the address"),
    ("my item arrived damaged", "5 8 8 1 2", "75011", "yes", "a person please"),
    ("Where is my order?", "9 9 9 9 9", "1 2 3 4 5", "7 7 7 7 7", "4 4 4 4 4"),
)
"""Demo-shop calls: requests in English (understood in every call), numbers and postcodes as
digits; the replies are what is checked here."""


_MERGED = {
    "a": "a|al|ao|aos|à|às",
    "de": "de|del|do|da|dos|das",
    "em": "em|no|na|nos|nas",
    "por": "por|pelo|pela|pelos|pelas",
}
"""A preposition before a field and what it becomes merged with the field's article."""


def _sentence(template: str) -> re.Pattern[str] | None:
    """A template as a pattern: its own words exactly, any text where a field goes (a
    preposition before it merged or not: "em a" -> "na"); None for a template with no words
    of its own ("{attribute}, {value}." would match anything)."""
    pieces = list(string.Formatter().parse(template))
    if not any(char.isalpha() for text, _, _, _ in pieces for char in text):
        return None
    pattern = ""
    for text, field, _, _ in pieces:
        before = re.match(r"(.*?)\b(a|de|em|por) $", text, re.DOTALL | re.IGNORECASE)
        if field is None or before is None:
            pattern += re.escape(text) + ("(.+)" if field else "")
            continue
        merged = _MERGED[before.group(2).lower()]
        pattern += re.escape(before.group(1)) + f"(?i:{merged}) (.+)"
    return re.compile(pattern)


@pytest.mark.parametrize("code", ["es", "pt"])
def test_every_sentence_of_a_call_comes_from_its_language(
    code: str, repository: Repository, policies: Policies
) -> None:
    speech = language(code)
    sentences = {key: _sentence(template) for key, template in speech.templates.items()}
    engine = DialogueEngine(repository, policies, language=code)
    said: set[str] = set()
    for script in CALLS:
        call = new_call(engine, repository)
        for line in script:
            call.say(line)
        for reply in call.replies:
            assert reply.language == code
            for chunk in reply.chunks:
                keys = {
                    key
                    for key, pattern in sentences.items()
                    if pattern is not None and pattern.fullmatch(chunk)
                }
                assert keys, (code, chunk)
                said |= keys
    # the calls went through the flows, not round an unclear loop
    assert {"ack.verified", "lost.responsible", "return.opened", "verify.locked_now"} <= said
