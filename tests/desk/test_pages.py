"""The desk pages' own readings of a query (the pages themselves: test_web.py)."""

from __future__ import annotations

import pytest

from voice_agent.desk.pages import _page_number
from voice_agent.store.desk import DeskError


@pytest.mark.parametrize(("text", "page"), [("1", 1), ("007", 7), ("9999999", 9_999_999)])
def test_a_page_number_is_read(text: str, page: int) -> None:
    assert _page_number(text) == page


# found writing the fuzz target: "²" passes str.isdigit() but not int(), int() refuses 5000
# digits, and 20 digits overflow the database's OFFSET: each was a 500 instead of a refusal
@pytest.mark.parametrize("text", ["", "0", "000", "-1", "1.5", "²", "٣", "9" * 5000, "9" * 20])
def test_anything_else_is_refused_as_not_a_page_number(text: str) -> None:
    with pytest.raises(DeskError, match="is not a page number"):
        _page_number(text)
