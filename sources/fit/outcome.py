"""What happened to one activity file (FIT, GPX or TCX): ingested (with its rows), skipped, or quarantined.

`decode_to_outcome` is a plain, picklable function so the ingest can run it in worker processes.
It never raises for a bad file: every input ends as an outcome with a one-line reason.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from lake.fit_files import STATUS_INGESTED as INGESTED
from lake.fit_files import STATUS_QUARANTINED as QUARANTINED
from lake.fit_files import STATUS_SKIPPED as SKIPPED
from sources.fit.model import BrokenFitFile, NotAnActivity
from sources.fit.rows import FileRows, file_rows

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    sha256: str
    name: str
    uri: str
    size_bytes: int
    status: str
    reason: str | None = None
    decoder: str | None = None
    rows: FileRows | None = None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_to_outcome(
    data: bytes, *, sha256: str, name: str, uri: str, athlete_id: str, default_tz: str, now: datetime
) -> FileOutcome:
    from sources.formats import decode_activity_file

    base = dict(sha256=sha256, name=name, uri=uri, size_bytes=len(data))
    try:
        decoded = decode_activity_file(data, default_tz=default_tz, now=now)
    except NotAnActivity as exc:
        return FileOutcome(**base, status=SKIPPED, reason=str(exc))
    except BrokenFitFile as exc:
        return FileOutcome(**base, status=QUARANTINED, reason=str(exc))
    except Exception as exc:  # a decoder bug must not stop the batch: record it, loudly
        log.exception("unexpected error decoding %s", name)
        return FileOutcome(**base, status=QUARANTINED, reason=f"internal decoder error: {type(exc).__name__}: {exc}")
    rows = file_rows(decoded, sha256=sha256, athlete_id=athlete_id, now=now)
    if not rows.activities:
        return FileOutcome(**base, status=SKIPPED, reason="no activity session", decoder=decoded.decoder)
    return FileOutcome(**base, status=INGESTED, decoder=decoded.decoder, rows=rows)
