"""Reply content: keyword matching and the reply's audio window."""

from __future__ import annotations

import numpy as np

from voice_agent.bench.content import holds_keywords, reply_audio, reply_window
from voice_agent.bench.measures import Sound
from voice_agent.bench.timeline import HeardPacket


def test_every_entry_must_match_and_alternatives_need_one() -> None:
    text = "Thanks. What's your order number? You can type it on your keypad."
    assert holds_keywords(text, ["order number"])
    assert holds_keywords(text, ["postcode|order number", "keypad"])
    assert not holds_keywords(text, ["order number", "postcode|e-mail"])
    assert holds_keywords("Please give me the e-mail address.", ["e mail|email"])
    assert not holds_keywords("A colleague will call.", ["all"])  # words, not fragments
    assert holds_keywords("anything", [])


def test_reply_window_runs_from_the_first_sound_to_the_next_line() -> None:
    heard = [Sound(1.0, 2.0), Sound(5.0, 6.0), Sound(6.5, 8.0), Sound(12.0, 13.0)]
    assert reply_window(heard, 4.0, 10.0) == (5.0, 8.1)
    assert reply_window(heard, 8.5, 10.0) is None


def test_reply_audio_is_put_back_in_the_senders_order() -> None:
    first = np.full(160, 1000, dtype=np.int16)
    second = np.full(160, 2000, dtype=np.int16)
    heard = [HeardPacket(1.00, 0.02, second, 8000), HeardPacket(1.001, 0.0, first, 8000)]
    audio = reply_audio(heard, 0.9, 2.0)
    assert audio.rate == 16000
    assert len(audio.samples) == 640
    assert abs(int(audio.samples[100]) - 1000) < 50
    assert abs(int(audio.samples[540]) - 2000) < 50


def test_keywords_in_other_languages_match_whatever_the_accents_and_case() -> None:
    german = "Danke, das stimmt überein. Ein Mitarbeiter ruft Sie zurück. Auf Wiederhören!"
    assert holds_keywords(german, ["stimmt|uberein", "mitarbeiter", "wiederhoren"])
    assert holds_keywords("Sie zahlen die Einfuhrabgaben an die Straße.", ["strasse"])
    assert holds_keywords("Votre numéro de commande ?", ["numéro de commande"])
    assert holds_keywords("Obrigado, os dados CONFEREM.", ["confere"])  # a word's stem
    assert not holds_keywords("Gracias, los datos no coinciden.", ["adios|llamada"])


def test_a_word_elided_onto_the_next_counts_on_its_own() -> None:
    french = "Merci de votre appel. Un conseiller de l'équipe vous rappellera."
    assert holds_keywords(french, ["equipe", "rappel"])
    assert holds_keywords("Vous n’avez rien à payer.", ["avez"])  # a typographic apostrophe
    assert holds_keywords("I'll ask a colleague.", ["i'll"])
    assert not holds_keywords("vous appel", ["appel vous"])  # never across the two readings
