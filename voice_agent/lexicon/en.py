"""English: the canonical form itself; only its frequent words, for guessing a typed turn's
language."""

from __future__ import annotations

FUNCTION_WORDS = frozenset(
    """the a an and or but is are was were be been being have has had having i me my mine
    you your yours it its it's this that these those we our they their he she him her what
    where when why how which who whom not no don't doesn't didn't can can't could would
    should will won't shall do does did to of in on at for with from by about into over
    after before please thanks thank hello hi yes yeah still yet haven't hasn't isn't wasn't
    i'm i've i'd there here just want need know got get arrived received delivered refund
    order package parcel delivery week today yesterday tomorrow some any""".split()
)
