"""The process's native heap (glibc malloc): fewer arenas, and freed memory handed back.

The agent's big buffers are native: the recognizer's (CTranslate2), the voices' and the VAD's
(onnxruntime), numpy's audio, aiortc's codecs. They are allocated and freed on many threads
(the inference scheduler's, asyncio's executor, the libraries' own pools), and glibc gives
threads malloc arenas of their own, up to eight per core. A buffer freed in an arena stays in
that arena for the next allocation there: nothing is leaked, but resident memory ratchets up
by whole buffers call after call, in every arena, and is seldom handed back to the kernel
(only what lies at the very top of an arena is).

Two remedies, both settings of `[server]`:
- `malloc_arena_max`: at most this many arenas (glibc's M_ARENA_MAX), set at start before the
  server's threads exist. Threads share arenas, so freed blocks are found and reused again.
- `malloc_trim_after_call`: when a call ends, malloc_trim(0) returns the free pages of every
  arena to the kernel (it walks the arenas under their locks: off the event loop).

Both are no-ops where the C library has no such calls (musl, macOS): `limit_arenas` and
`trim` say whether they did anything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8
"""mallopt's parameter number for the arena limit (glibc's malloc.h)."""


@cache
def _libc() -> Any:
    """The C library, or None where it cannot be loaded."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def limit_arenas(count: int, libc: Any = None) -> bool:
    """At most `count` malloc arenas (0: the C library's default); True if it was set.

    Call it before threads are started: a thread keeps the arena it was given."""
    if count <= 0:
        return False
    mallopt = getattr(libc or _libc(), "mallopt", None)
    if mallopt is None:
        return False
    done = bool(mallopt(ctypes.c_int(M_ARENA_MAX), ctypes.c_int(count)))
    if done:
        logger.info("malloc arenas limited to %d", count)
    return done


def trim(libc: Any = None) -> bool:
    """Hand the heap's free pages back to the kernel (blocking: milliseconds, more for a large
    heap, so run it off the event loop); True if there was such a call."""
    malloc_trim = getattr(libc or _libc(), "malloc_trim", None)
    if malloc_trim is None:
        return False
    malloc_trim(ctypes.c_size_t(0))
    return True
