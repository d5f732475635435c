"""The call's language: hinted, heard and confirmed, followed on a switch."""

from __future__ import annotations

from pathlib import Path

from voice_agent.dialogue.call_language import answering_language, follow, language_names
from voice_agent.dialogue.state import DialogueState

OFFERED = ("en", "de", "es", "fr", "pt")


def test_a_first_turn_heard_in_another_language_is_followed_and_confirmed_by_the_next() -> None:
    state = DialogueState(language="en")
    first = follow(state, "es", 0.62, words=6, offered=OFFERED)
    assert (first.state.language, first.state.language_settled) == ("es", False)
    second = follow(first.state, "es", 0.9, words=4, offered=OFFERED)
    assert (second.state.language, second.state.language_settled) == ("es", True)


def test_a_settled_language_gives_way_only_to_a_sure_switch() -> None:
    settled = DialogueState(language="de", language_settled=True)
    assert follow(settled, "en", 0.6, words=5, offered=OFFERED).state.language == "de"
    switched = follow(settled, "en", 0.93, words=5, offered=OFFERED).state
    assert (switched.language, switched.language_settled) == ("en", False)


def test_short_turns_and_unknown_languages_change_nothing() -> None:
    state = DialogueState(language="fr")
    assert follow(state, "de", 0.99, words=1, offered=OFFERED).state == state  # "ja"
    assert follow(state, None, 1.0, words=8, offered=OFFERED).state == state


def test_a_language_the_line_does_not_offer_is_reported_not_adopted() -> None:
    state = DialogueState(language="en")
    followed = follow(state, "it", 0.95, words=6, offered=OFFERED)
    assert followed.unsupported == "it" and followed.state.language == "en"
    only_english = follow(state, "de", 0.95, words=6, offered=("en",))
    assert only_english.unsupported == "de"


def test_an_unsupported_caller_is_answered_in_their_language_where_there_is_a_voice() -> None:
    assert answering_language("de") == "de"
    assert answering_language("it") == "en"


def test_language_names_in_the_language_spoken() -> None:
    assert language_names(("de", "en"), "en") == ["German", "English"]
    assert language_names(("de", "en"), "de") == ["Deutsch", "Englisch"]


def test_an_unsure_identification_counts_when_the_words_read_as_that_language() -> None:
    from voice_agent.dialogue.call import CallDialogue
    from voice_agent.stages.asr import Transcript

    class _Engine:
        offered = OFFERED

    dialogue = CallDialogue(_Engine())  # type: ignore[arg-type]
    german = "Hallo, ich möchte wissen, wo meine Bestellung ist."
    unsure = Transcript(german, "de", 0.8, language_probability=0.35)
    assert dialogue._heard(german, unsure) == ("de", 0.5)
    english_words = Transcript("where is my order please", "de", 0.8, language_probability=0.35)
    assert dialogue._heard(english_words.text, english_words) == ("de", 0.35)
    fixed = Transcript(german, "de", 0.8)
    assert dialogue._heard(german, fixed) == (None, 0.0)


def test_an_answer_in_the_calls_language_completes_what_was_asked() -> None:
    """Endpointing holds a turn open while an order number may go on: in German too, the
    number said in words completes it, and a goodbye or a person asked for answers instead."""
    from dataclasses import replace

    from voice_agent.dialogue.call import CallDialogue
    from voice_agent.dialogue.policies import load_policies
    from voice_agent.dialogue.state import Awaiting

    class _Engine:
        offered = OFFERED
        policies = load_policies(Path("config/policies.toml"))

    dialogue = CallDialogue(_Engine())  # type: ignore[arg-type]
    asking = replace(DialogueState(language="de"), awaiting=Awaiting.ORDER_NUMBER)
    assert dialogue.entity_complete("Die Nummer ist vier fünf null sechs sieben", asking)
    assert not dialogue.entity_complete("Die Nummer ist vier fünf", asking)
    assert dialogue.entity_complete("Nein, das ist alles, danke, auf Wiederhören", asking)
    assert dialogue.entity_complete("Kann ich mit einem Mitarbeiter sprechen?", asking)
    french = replace(asking, language="fr")
    assert dialogue.entity_complete("Non, c'est tout, merci, au revoir", french)
