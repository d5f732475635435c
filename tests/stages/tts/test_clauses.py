import pytest

from voice_agent.stages.tts.clauses import Clause, Pause, speakable, split_clauses


def _texts(clauses: list[Clause]) -> list[str]:
    return [clause.text for clause in clauses]


def test_cuts_at_sentence_ends_commas_semicolons_and_colons() -> None:
    clauses = split_clauses("Thanks, got it. Two things: the box; the label! Okay?", max_words=6)
    assert _texts(clauses) == [
        "Thanks,",
        "got it.",
        "Two things:",
        "the box;",
        "the label!",
        "Okay?",
    ]
    assert [clause.pause for clause in clauses] == [
        Pause.CLAUSE,
        Pause.SENTENCE,
        Pause.CLAUSE,
        Pause.CLAUSE,
        Pause.SENTENCE,
        Pause.SENTENCE,
    ]


def test_rejoined_clauses_give_back_the_words() -> None:
    text = "I checked your order, and the parcel left Rotterdam on Monday. It is insured!"
    clauses = split_clauses(text, max_words=4, first_words=2)
    assert " ".join(_texts(clauses)) == text


def test_long_clause_is_cut_at_word_boundaries_within_the_limit() -> None:
    text = "it left our warehouse in Rotterdam on Monday and should arrive within five working days"
    clauses = split_clauses(text, max_words=6)
    assert all(1 <= clause.words <= 6 for clause in clauses)
    assert " ".join(_texts(clauses)) == text
    assert [clause.pause for clause in clauses[:-1]] == [Pause.NONE] * (len(clauses) - 1)
    assert clauses[-1].pause is Pause.SENTENCE


def test_long_clause_is_cut_before_a_phrase_not_after_an_article() -> None:
    # Five words each would end the first piece on "in"; a cut before "in" reads better.
    clauses = split_clauses("please return the item in the original box soon", max_words=5)
    assert _texts(clauses) == ["please return the item", "in the original box soon"]


def test_long_clause_pieces_are_balanced_not_a_lone_last_word() -> None:
    clauses = split_clauses("one two three four five six seven", max_words=6)
    assert [clause.words for clause in clauses] in ([4, 3], [3, 4])


def test_first_clause_of_a_reply_is_short() -> None:
    text = "Your parcel has shipped today. It should arrive within three working days."
    clauses = split_clauses(text, max_words=6, first_words=3)
    assert clauses[0].words <= 3
    assert clauses[0].pause is Pause.NONE
    assert _texts(clauses)[:2] == ["Your parcel", "has shipped today."]
    # Only the first clause of the reply is shortened; later ones keep the normal limit.
    assert "It should arrive within" in " ".join(_texts(clauses[2:]))
    assert max(clause.words for clause in clauses[2:]) > 3


def test_short_first_clause_is_left_whole() -> None:
    clauses = split_clauses("Hello there. How can I help you today?", max_words=6, first_words=3)
    assert _texts(clauses) == ["Hello there.", "How can I help you today?"]


def test_abbreviations_and_initials_end_no_clause() -> None:
    text = "Mr. Smith and Dr. Jones from the U.S. office, e.g. J. Doe, called."
    clauses = split_clauses(text, max_words=20)
    assert _texts(clauses) == [
        "Mr. Smith and Dr. Jones from the U.S. office,",
        "e.g. J. Doe,",
        "called.",
    ]


def test_numbers_with_points_commas_and_colons_stay_whole() -> None:
    text = "It weighs 3.5 kg, costs 1,200.50 euros and arrives at 10:30 today."
    clauses = split_clauses(text, max_words=20)
    assert _texts(clauses) == [
        "It weighs 3.5 kg,",
        "costs 1,200.50 euros and arrives at 10:30 today.",
    ]


def test_word_cut_does_not_separate_a_number_from_its_unit() -> None:
    clauses = split_clauses("the box weighs 3.5 kg in total", max_words=4)
    assert all(not clause.text.endswith("3.5") for clause in clauses)
    assert " ".join(_texts(clauses)) == "the box weighs 3.5 kg in total"


def test_dashes_cut_clauses_and_closing_quotes_keep_the_sentence_end() -> None:
    clauses = split_clauses('He said "thanks." Then — after a while — he left.', max_words=6)
    assert _texts(clauses) == ['He said "thanks."', "Then", "after a while", "he left."]


def test_blank_text_gives_no_clauses() -> None:
    assert split_clauses("  \n ", max_words=6) == []


def test_max_words_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_words"):
        split_clauses("hello", max_words=0)


def test_speakable_spells_out_titles_espeak_would_end_a_sentence_at() -> None:
    assert speakable("Mr. Smith and Mrs. Jones, order No. 5") == (
        "Mister Smith and Missus Jones, order number 5"
    )
    assert speakable("No. Not today.") == "No. Not today."


def test_each_language_keeps_its_abbreviations_inside_a_clause() -> None:
    cases = {
        "de": "Hr. Müller, Ihre Bestellung Nr. 5 kommt z.B. am Montag.",
        "es": "Sra. García, su pedido núm. 5 llega el lunes.",
        "fr": "M. Dupont, votre commande arrive lundi.",
        "pt": "Sr. Silva, o seu pedido chega na segunda.",
    }
    for language, text in cases.items():
        clauses = split_clauses(text, max_words=20, language=language)
        assert [c.pause for c in clauses] == [Pause.CLAUSE, Pause.SENTENCE], (language, clauses)


def test_english_abbreviations_end_a_sentence_in_german() -> None:
    # "Mr." is no German abbreviation: a German reply that ends a sentence on it is cut there.
    clauses = split_clauses("Das ist Mr. Das war alles.", max_words=20, language="de")
    assert [c.text for c in clauses] == ["Das ist Mr.", "Das war alles."]
    english = split_clauses("That is Mr. Smith.", max_words=20, language="en")
    assert [c.text for c in english] == ["That is Mr. Smith."]


def test_a_cut_between_words_leaves_no_article_dangling_in_each_language() -> None:
    cases = {
        "de": "bitte schicken Sie das Paket an die neue Adresse zurück",
        "es": "por favor envíe el paquete a la nueva dirección de entrega",
        "fr": "merci de renvoyer le colis à la nouvelle adresse de livraison",
        "pt": "por favor devolva o pacote para o novo endereço de entrega",
    }
    articles = {"das", "die", "el", "la", "le", "o", "a", "à", "de"}
    for language, text in cases.items():
        clauses = split_clauses(text, max_words=4, language=language)
        assert all(c.text.split()[-1] not in articles for c in clauses[:-1]), (language, clauses)


def test_speakable_reads_titles_and_number_signs_in_the_reply_language() -> None:
    assert speakable("Hr. Weber, Nr. 12", "de") == "Herr Weber, Nummer 12"
    assert speakable("Sra. Ruiz, núm. 12", "es") == "señora Ruiz, número 12"
    assert speakable("Mme Martin, n° 12", "fr") == "Madame Martin, numéro 12"
    assert speakable("Sr. Souza, nº 12", "pt") == "senhor Souza, número 12"
    assert speakable("Nr. 12", "en") == "Nr. 12"  # English reads no German number sign
    assert speakable("Hr. Weber", "pt-BR") == "Hr. Weber"  # a tag reads as its language
