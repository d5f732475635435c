"""The built-in mutation fuzzer, used where atheris does not install.

It has no coverage feedback: it mutates seeds (bit flips, byte changes, cuts, repeats,
splices, dictionary tokens, numbers at their edges) and keeps a small random share of its
own outputs as new starting points so mutations can stack.  Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

# Tokens every text protocol here chokes on when they come in the wrong place.
COMMON_TOKENS: tuple[bytes, ...] = (
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b" ",
    b"\t",
    b":",
    b";",
    b",",
    b"=",
    b"-",
    b"/",
    b'"',
    b"<",
    b">",
    b"\x00",
    b"\xff",
    b"0",
    b"65535",
    b"65536",
    b"2147483648",
    b"4294967295",
    b"4294967296",
    b"18446744073709551616",
    b"-1",
    b"9" * 40,
    b"9" * 5000,
)

_EDGE_NUMBERS = (
    b"0",
    b"1",
    b"255",
    b"256",
    b"65535",
    b"65536",
    b"2147483648",
    b"4294967295",
    b"99999999",
    b"9" * 4400,  # past Python's int() digit limit
)
_POOL_LIMIT = 2000  # generated inputs kept as starting points


class Mutator:
    def __init__(
        self,
        seeds: Sequence[bytes],
        *,
        tokens: Sequence[bytes] = (),
        max_len: int = 4096,
        seed: int = 0,
    ) -> None:
        self._random = random.Random(seed)
        self._seeds = [s[:max_len] for s in seeds] or [b""]
        self._pool: list[bytes] = []
        self._tokens = list(tokens) + list(COMMON_TOKENS)
        self._max_len = max_len
        self._steps: list[Callable[[bytearray], None]] = [
            self._flip_bit,
            self._set_byte,
            self._insert_bytes,
            self._delete_range,
            self._repeat_range,
            self._insert_token,
            self._insert_token,
            self._replace_number,
            self._splice,
        ]

    def next(self) -> bytes:
        """A new input: one to four mutations of a seed or an earlier output."""
        source = self._pick()
        data = bytearray(source)
        for _ in range(self._random.randint(1, 4)):
            self._random.choice(self._steps)(data)
        result = bytes(data[: self._max_len])
        if self._random.random() < 0.01:
            self._keep(result)
        return result

    def _pick(self) -> bytes:
        if self._pool and self._random.random() < 0.3:
            return self._random.choice(self._pool)
        return self._random.choice(self._seeds)

    def _keep(self, data: bytes) -> None:
        if len(self._pool) < _POOL_LIMIT:
            self._pool.append(data)
        else:
            self._pool[self._random.randrange(_POOL_LIMIT)] = data

    def _position(self, data: bytearray) -> int:
        return self._random.randint(0, len(data))

    def _flip_bit(self, data: bytearray) -> None:
        if data:
            index = self._random.randrange(len(data))
            data[index] ^= 1 << self._random.randrange(8)

    def _set_byte(self, data: bytearray) -> None:
        if data:
            data[self._random.randrange(len(data))] = self._random.randrange(256)

    def _insert_bytes(self, data: bytearray) -> None:
        count = self._random.randint(1, 8)
        index = self._position(data)
        data[index:index] = bytes(self._random.randrange(256) for _ in range(count))

    def _delete_range(self, data: bytearray) -> None:
        if data:
            start = self._random.randrange(len(data))
            del data[start : start + self._random.randint(1, 32)]

    def _repeat_range(self, data: bytearray) -> None:
        if data:
            start = self._random.randrange(len(data))
            piece = data[start : start + self._random.randint(1, 64)]
            index = self._position(data)
            data[index:index] = piece * self._random.randint(1, 64)

    def _insert_token(self, data: bytearray) -> None:
        token = self._random.choice(self._tokens)
        index = self._position(data)
        if self._random.random() < 0.5 and data:
            data[index : index + len(token)] = token  # overwrite
        else:
            data[index:index] = token

    def _replace_number(self, data: bytearray) -> None:
        """Swap one run of ASCII digits for an edge value (0, limits, huge)."""
        runs = [
            index
            for index, byte in enumerate(data)
            if _is_digit(byte) and (index == 0 or not _is_digit(data[index - 1]))
        ]
        if not runs:
            return
        start = self._random.choice(runs)
        end = start
        while end < len(data) and _is_digit(data[end]):
            end += 1
        data[start:end] = self._random.choice(_EDGE_NUMBERS)

    def _splice(self, data: bytearray) -> None:
        other = self._random.choice(self._seeds)
        if other:
            start = self._random.randrange(len(other))
            piece = other[start : start + self._random.randint(1, 256)]
            index = self._position(data)
            data[index:index] = piece


def _is_digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39
