"""The few rules understanding keeps per language: the control requests, thanks, anger, a
request called off, and where a turn breaks into clauses (no model here: plain patterns)."""

from __future__ import annotations

import pytest

from voice_agent.dialogue.classifier import clauses
from voice_agent.dialogue.language_rules import (
    LANGUAGES,
    called_off,
    decisive,
    fold,
    is_frustrated,
    is_greeting,
    is_thanks,
    named,
    rules_for,
)
from voice_agent.dialogue.nlu import Intent


def test_text_is_folded_as_the_patterns_are_written() -> None:
    assert fold("Können Sie das WIEDERHOLEN?") == "konnen sie das wiederholen"
    assert fold("¿Qué ha dicho?") == "que ha dicho"
    assert fold("Qu’est-ce que vous avez dit ?") == "qu'est ce que vous avez dit"
    assert fold("Não entendi, a ligação caiu") == "nao entendi a ligacao caiu"
    assert fold("Straße") == "strasse"


@pytest.mark.parametrize(
    ("language", "said", "intent"),
    [
        ("de", "Verbinden Sie mich bitte mit einem Mitarbeiter.", Intent.HUMAN),
        ("de", "Ich will mit einem echten Menschen reden", Intent.HUMAN),
        ("de", "Entschuldigung, wie bitte?", Intent.REPEAT),
        ("de", "Etwas langsamer, bitte.", Intent.SLOWER),
        ("de", "Nein, das war's. Tschüss!", Intent.GOODBYE),
        ("es", "¿Me pasa con una persona, por favor?", Intent.HUMAN),
        ("es", "No le he entendido.", Intent.REPEAT),
        ("es", "Hable más despacio, por favor", Intent.SLOWER),
        ("es", "Nada más, muchas gracias. Adiós.", Intent.GOODBYE),
        ("fr", "Je voudrais parler à un conseiller", Intent.HUMAN),
        ("fr", "Vous pouvez répéter ?", Intent.REPEAT),
        ("fr", "Pas si vite, s'il vous plaît", Intent.SLOWER),
        ("fr", "Non, c'est tout, merci. Bonne soirée !", Intent.GOODBYE),
        ("pt", "Quero falar com um atendente", Intent.HUMAN),
        ("pt", "Não entendi direito", Intent.REPEAT),
        ("pt", "Fala mais devagar, por favor", Intent.SLOWER),
        ("pt", "Só isso mesmo, obrigada, tchau", Intent.GOODBYE),
    ],
)
def test_the_control_requests_are_decisive_in_each_language(
    language: str, said: str, intent: Intent
) -> None:
    assert decisive(said, language) is intent


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("de", "Wo ist meine Bestellung?"),
        ("de", "Das Paket war beschädigt, das war alles kaputt"),
        ("de", "Guten Tag, ich habe eine Frage zu meiner Rechnung"),
        ("es", "No me ha llegado el paquete"),
        ("es", "Buen día, quería saber de mi pedido"),
        ("fr", "C'est tout cassé"),
        ("fr", "Le service client m'a dit de rappeler"),
        ("pt", "Bom dia, meu pedido não chegou"),
        ("pt", "Não recebi meu reembolso"),
    ],
)
def test_a_request_or_a_greeting_is_no_control_request(language: str, said: str) -> None:
    assert decisive(said, language) is None


def test_a_named_complaint_is_told_from_anger() -> None:
    assert named("Ich möchte mich beschweren", "de") is Intent.COMPLAINT
    assert named("Quiero poner una queja", "es") is Intent.COMPLAINT
    assert named("Je veux porter plainte", "fr") is Intent.COMPLAINT
    assert named("Isso é um absurdo", "pt") is None
    assert is_frustrated("Isso é um absurdo", "pt")


def test_thanks_alone_in_each_language() -> None:
    for language, said in (
        ("de", "Okay, vielen Dank!"),
        ("es", "Vale, muchas gracias"),
        ("fr", "D'accord, merci beaucoup"),
        ("pt", "Beleza, obrigada"),
        ("en", "thank you so much"),
    ):
        assert is_thanks(said, language), said
    assert not is_thanks("Danke, tschüss", "de")  # a goodbye
    assert not is_thanks("Gracias, pero dónde está mi pedido", "en")


def test_anger_in_each_language() -> None:
    for language, said in (
        ("de", "Das ist eine Frechheit, ich warte seit Wochen"),
        ("es", "Estoy harta, es la tercera vez que llamo"),
        ("fr", "J'en ai marre, c'est scandaleux"),
        ("pt", "Já liguei cinco vezes e ninguém resolve"),
        ("de", "Mein Paket ist VERSCHWUNDEN"),  # shouted
    ):
        assert is_frustrated(said, language), said
    for language, said in (
        ("de", "Wo ist mein Paket?"),
        ("es", "Quiero devolver la chaqueta"),
        ("fr", "Mon colis DHL n'est pas arrivé"),
        ("pt", "Quero trocar o tamanho"),
    ):
        assert not is_frustrated(said, language), said


def test_a_request_called_off() -> None:
    assert called_off("bitte nicht stornieren", "de")
    assert called_off("no hace falta cancelarlo", "es")
    assert called_off("non, n'annulez pas", "fr")
    assert called_off("não precisa cancelar", "pt")
    for language, said in (
        ("de", "das paket ist nicht angekommen"),
        ("es", "no me llegó el paquete"),
        ("fr", "je ne l'ai pas reçu"),
        ("pt", "não chegou o pedido"),
    ):
        assert not called_off(said, language), said


@pytest.mark.parametrize(
    ("language", "said", "expected"),
    [
        (
            "de",
            "Wo ist meine Bestellung und können Sie mir eine Rechnung schicken?",
            ("Wo ist meine Bestellung", "können Sie mir eine Rechnung schicken?"),
        ),
        (
            "es",
            "Quiero devolver la chaqueta y además necesito una factura",
            ("Quiero devolver la chaqueta", "necesito una factura"),
        ),
        (
            "fr",
            "Où est mon colis ? Et aussi, je voudrais une facture",
            ("Où est mon colis ?", "je voudrais une facture"),
        ),
        (
            "pt",
            "Cadê meu pedido e também quero a nota fiscal",
            ("Cadê meu pedido", "quero a nota fiscal"),
        ),
    ],
)
def test_a_turn_breaks_at_its_languages_joining_words(
    language: str, said: str, expected: tuple[str, ...]
) -> None:
    assert clauses(said, language) == expected


def test_a_short_pair_stays_one_clause() -> None:
    assert clauses("Ich will die Jacke in Schwarz und Weiß", "de") == (
        "Ich will die Jacke in Schwarz und Weiß",
    )
    assert clauses("la quiero en blanco y negro", "es") == ("la quiero en blanco y negro",)


def test_a_language_without_rules_is_a_clear_error() -> None:
    assert set(LANGUAGES) == {"de", "es", "fr", "pt"}
    with pytest.raises(ValueError, match=r"no understanding rules for language 'it'"):
        rules_for("it")
    with pytest.raises(ValueError, match="'it'"):
        clauses("dov'è il mio ordine", "it")


def test_a_greeting_is_only_greeting_words() -> None:
    assert is_greeting("Hi there.", "en")
    assert is_greeting("Guten Tag!", "de")
    assert is_greeting("Olá, tudo bem?", "pt")
    assert is_greeting("Buenos días", "es")
    assert is_greeting("Bonjour", "fr")
    assert not is_greeting("Hi, where is my order?", "en")
    assert not is_greeting("Tudo bem, tchau", "pt")
    assert not is_greeting("", "en")


def test_brazilian_thanks_is_no_goodbye() -> None:
    assert decisive("Valeu, obrigado", "pt") is None
    assert is_thanks("Valeu, obrigado", "pt")
    assert decisive("Valeu, tchau", "pt") is Intent.GOODBYE


def test_a_question_in_the_negative_calls_nothing_off() -> None:
    assert called_off("stornieren Sie das bitte nicht", "de")
    assert not called_off("haben Sie es nicht verschickt", "de")
