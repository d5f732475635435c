"""The shop's catalogue and translations as calls read them, read again after a re-import.

Several instances may share one database: `voice-agent data import` on any machine bumps the
store's catalogue version (store/importer.py). Each instance looks at that version at most
every `check_every_s` (one one-row query, when a call needs the catalogue) and reads the
catalogue again when it moved, so a re-import reaches every instance without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from voice_agent.dialogue.products import Catalogue
from voice_agent.store.repository import Repository
from voice_agent.store.views import ShopTexts

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShopData:
    catalogue: Catalogue
    texts: ShopTexts
    version: int
    """The store's catalogue version when these were read."""


class ShopDataCache:
    """Thread-safe: calls read it from their worker threads."""

    def __init__(
        self,
        repository: Repository,
        now: Callable[[], float] | None = None,
        check_every_s: float = 5.0,
    ) -> None:
        """`now` (the clock's): when to look at the version again; None reads the data once
        and never again (a one-off command)."""
        self._repository = repository
        self._now = now
        self._check_every_s = check_every_s
        self._lock = threading.Lock()
        self._data: ShopData | None = None
        self._checked_at = 0.0

    def current(self) -> ShopData:
        with self._lock:
            now = self._now() if self._now is not None else None
            if self._data is None:
                self._data = self._read(now)
            elif now is not None and now - self._checked_at >= self._check_every_s:
                self._checked_at = now
                version = self._repository.catalogue_version()
                if version != self._data.version:
                    logger.info("the shop's data was imported again (version %d)", version)
                    self._data = self._read(now)
            return self._data

    def _read(self, now: float | None) -> ShopData:
        # the version first: an import between the reads is read again at the next look
        version = self._repository.catalogue_version()
        if now is not None:
            self._checked_at = now
        catalogue = Catalogue(self._repository.products())
        return ShopData(catalogue, self._repository.shop_texts(), version)
