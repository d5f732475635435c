"""Language tags and the number dialled."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voice_agent.languages import language_for_number, language_of_tag, offered_hint
from voice_agent.settings import LanguageSettings


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("pt-BR", "pt"),
        ("de_DE", "de"),
        ("EN", "en"),
        ("fr-CA", "fr"),
        ("", None),
        (None, None),
        ("<script>", None),
        ("deu", None),
        ("es-419", "es"),
    ],
)
def test_a_tag_names_its_language(tag: str | None, code: str | None) -> None:
    assert language_of_tag(tag) == code


def test_a_hint_counts_only_for_an_offered_language() -> None:
    assert offered_hint("de-AT", ("en", "de")) == "de"
    assert offered_hint("it", ("en", "de")) is None


def test_the_number_dialled_picks_the_language_by_its_digits() -> None:
    by_number = {"+49 30 123456": "de", "34911234567": "es"}
    assert language_for_number("4930123456", by_number) == "de"
    assert language_for_number("+34 91 123 45 67", by_number) == "es"
    assert language_for_number("441234", by_number) is None
    assert language_for_number(None, by_number) is None


def test_settings_refuse_a_language_without_replies_or_a_default_not_offered() -> None:
    with pytest.raises(ValidationError, match="no replies for it"):
        LanguageSettings(offered=("en", "it"))
    with pytest.raises(ValidationError, match=r"not in languages\.offered"):
        LanguageSettings(default="de", offered=("en",))
    with pytest.raises(ValidationError, match="by_number"):
        LanguageSettings(offered=("en",), by_number={"123": "de"})
