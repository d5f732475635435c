"""The native heap's settings: glibc's calls where there are some, nothing elsewhere."""

from __future__ import annotations

import ctypes
import platform
from typing import Any

import pytest

from voice_agent.memory import M_ARENA_MAX, limit_arenas, trim


class _Glibc:
    """Records the calls a glibc would get."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def mallopt(self, parameter: ctypes.c_int, value: ctypes.c_int) -> int:
        self.calls.append(("mallopt", (parameter.value, value.value)))
        return 1

    def malloc_trim(self, pad: ctypes.c_size_t) -> int:
        self.calls.append(("malloc_trim", (pad.value,)))
        return 1


class _OtherLibc:
    """A C library without glibc's malloc extensions (musl, macOS)."""


def test_the_arena_limit_is_set_with_mallopt_and_zero_leaves_the_default() -> None:
    libc = _Glibc()
    assert limit_arenas(2, libc) is True
    assert limit_arenas(0, libc) is False
    assert libc.calls == [("mallopt", (M_ARENA_MAX, 2))]


def test_the_heap_is_trimmed_with_malloc_trim() -> None:
    libc = _Glibc()
    assert trim(libc) is True
    assert libc.calls == [("malloc_trim", (0,))]


@pytest.mark.parametrize("call", [lambda libc: limit_arenas(2, libc), trim])
def test_without_glibc_nothing_is_done_and_nothing_fails(call: Any) -> None:
    assert call(_OtherLibc()) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_this_systems_heap_can_be_trimmed() -> None:
    assert trim() is True
