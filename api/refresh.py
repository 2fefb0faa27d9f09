"""Keeping the snapshot and the tokens current: a background thread polls the Delta versions at
most once a second and swaps in a new snapshot (or token book) when one changed.

Readers take `store.snapshot` / `store.tokens` once per request: each is replaced by a single
assignment of a fully built object, so no request sees a half-built one. A failed reload (the
lake unreachable, a table mid-rewrite) is logged with its cause and tried again at the next tick;
the previous snapshot keeps being served meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time

from api.snapshot import Snapshot, load_snapshot, watched_versions
from lake import activity_edits, laps, records
from lake.storage import Lake
from lake.table import table_version
from pipeline.tokens import TokenBook, tokens_version
from runlake.settings import Settings

log = logging.getLogger("runlake.api")

#: Seconds between two version checks: new and revoked tokens take effect within this (+ a load).
REFRESH_S = 1.0


class Store:
    """What requests read: the current snapshot and token book (None until the first load; the
    book is loaded first), and the versions of the tables `/v1/me/activities/{id}` reads on demand."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.tokens: TokenBook | None = None
        self.stream_versions: tuple = ()


class Refresher:
    def __init__(self, lake: Lake, settings: Settings, store: Store, interval_s: float = REFRESH_S):
        self.lake = lake
        self.settings = settings
        self.store = store
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> None:
        """One check: reload what changed (the snapshot, the token book, the stream versions)."""
        book = self.store.tokens  # first: once a snapshot is served, a token book is too
        if book is None or book.version != tokens_version(self.lake):
            self.store.tokens = TokenBook.load(self.lake)
        self.store.stream_versions = (table_version(self.lake, records.SPEC), table_version(self.lake, laps.SPEC),
                                      table_version(self.lake, activity_edits.SPEC))
        versions = watched_versions(self.lake)
        current = self.store.snapshot
        if current is None or current.versions != versions:
            started = time.perf_counter()
            self.store.snapshot = load_snapshot(self.lake, self.settings, versions)
            log.info("snapshot loaded in %.2f s", time.perf_counter() - started)

    def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self.refresh()
            except Exception:  # keep serving the last snapshot; the cause is in the log
                log.exception("refreshing the API snapshot from %s failed; retrying", self.lake.root)
            if self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started))):
                return

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="runlake-api-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
