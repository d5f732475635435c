"""A sentence embedder for unit tests: bag of words, each word a fixed random direction.

Texts that share words land close together, texts that share none land near orthogonal; that
is all the classifier's routing needs, and it builds in microseconds.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from voice_agent.dialogue.classifier import Vectors

DIMENSIONS = 256


def _word(word: str) -> Vectors:
    generator = np.random.default_rng(zlib.crc32(word.encode()))
    vector: Vectors = generator.standard_normal(DIMENSIONS).astype(np.float32)
    return vector / np.linalg.norm(vector)


class BagOfWordsEmbedder:
    def __init__(self) -> None:
        self.calls: list[int] = []
        """How many texts each encode call had."""

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(len(texts))
        rows = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[\w']+", text.lower()):
                rows[row] += _word(word)
            norm = np.linalg.norm(rows[row])
            if norm:
                rows[row] /= norm
        return rows
