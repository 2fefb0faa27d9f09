"""The lease objects of one athlete: `<lake>/private/leases/<athlete_id>/<generation>.json`.

Small write-once-by-name objects with one atomic primitive, *create if absent*: locally a
temporary file hard-linked to its final name (`os.link` fails when the name exists, and the
content is complete before the name appears), on S3 a PUT with `If-None-Match: *` (s3fs
`pipe_file(mode="create")`; 412 → `FileExistsError`). `lake/lease.py` builds the lease on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from pathlib import Path

import fsspec

from lake.storage import Lake

log = logging.getLogger(__name__)

LEASES_PREFIX = "private/leases"
_GENERATION = re.compile(r"^(\d{20})\.json$")


class LeaseObjects:
    """The numbered lease objects of one athlete (bytes in, bytes out)."""

    def __init__(self, lake: Lake, athlete_id: str) -> None:
        self.athlete_id = athlete_id
        self._uri = lake.uri(LEASES_PREFIX, athlete_id)
        # Listings are never cached: a lease decision needs the folder as it is now.
        self._fs = fsspec.filesystem("s3", use_listings_cache=False, **lake.fsspec_options()) if lake.is_s3 else None
        self._key = self._uri.removeprefix("s3://")

    @staticmethod
    def name(generation: int) -> str:
        return f"{generation:020d}.json"

    def generations(self) -> list[int]:
        """The generations present, ascending."""
        try:
            if self._fs is not None:
                names = [k.rsplit("/", 1)[-1] for k in self._fs.ls(self._key, detail=False, refresh=True)]
            else:
                names = os.listdir(self._uri)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for n in names if (m := _GENERATION.match(n)))

    def read(self, generation: int) -> bytes | None:
        name = self.name(generation)
        try:
            return self._fs.cat_file(f"{self._key}/{name}") if self._fs else Path(self._uri, name).read_bytes()
        except FileNotFoundError:
            return None

    def create(self, generation: int, data: bytes) -> bool:
        """Write `data` as `generation` unless that exists. False when another process has it."""
        name = self.name(generation)
        if self._fs is not None:
            try:
                self._fs.pipe_file(f"{self._key}/{name}", data, mode="create")
                return True
            except FileExistsError:  # 412; also when s3fs retried our own successful PUT (the
                return False  # caller then finds its own token in the object)
            except OSError as exc:
                if "ConditionalRequestConflict" not in str(exc):
                    raise
                log.info("lease of %s: concurrent create of %s (%s)", self.athlete_id, name, exc)
                return False  # 409: another conditional PUT of this name was in flight
        folder = Path(self._uri)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{secrets.token_hex(8)}"
        tmp.write_bytes(data)
        try:
            os.link(tmp, folder / name)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink()

    def put(self, generation: int, data: bytes) -> None:
        """Replace `generation`'s content (only its holder does: heartbeat and release)."""
        name = self.name(generation)
        if self._fs is not None:
            self._fs.pipe_file(f"{self._key}/{name}", data)
            return
        tmp = Path(self._uri, f".tmp-{secrets.token_hex(8)}")
        tmp.write_bytes(data)
        os.replace(tmp, Path(self._uri, name))  # a reader sees the old or the new record, whole

    def delete(self, generation: int) -> None:
        name = self.name(generation)
        if self._fs is None:
            Path(self._uri, name).unlink(missing_ok=True)
            return
        try:
            self._fs.rm_file(f"{self._key}/{name}")
        except FileNotFoundError:
            pass

    def remove_folder(self) -> None:
        """Erasure: the athlete's (now empty) lease folder goes too — its name is the athlete id.
        On S3 there is no folder once the objects are gone."""
        if self._fs is None:
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(self._uri)
