"""Deterministic activity ids.

A FIT activity's id comes from the recording's identity in its `file_id` message (manufacturer,
product, serial number, time created) plus the session index, so the same recording keeps its id
when it is re-exported, re-downloaded or re-ingested. A file without a complete identity falls
back to its content hash. A Strava-only activity's id comes from its Strava id.
"""

from __future__ import annotations

import hashlib

from sources.fit.model import FileIdentity

FIT_PREFIX = "fit-"
STRAVA_PREFIX = "strava-"


def fit_activity_id(identity: FileIdentity, sha256: str, session_index: int) -> str:
    if identity.is_complete:
        basis = "|".join(
            [
                "file_id",
                str(identity.manufacturer),
                str(identity.product or ""),
                str(identity.serial_number),
                identity.time_created.isoformat(),
            ]
        )
    else:
        basis = f"sha256|{sha256}"
    digest = hashlib.sha256(f"{basis}|session|{session_index}".encode()).hexdigest()
    return FIT_PREFIX + digest[:24]


def strava_activity_id(strava_id: int) -> str:
    return f"{STRAVA_PREFIX}{int(strava_id)}"
