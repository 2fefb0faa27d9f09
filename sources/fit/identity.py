"""Deterministic activity ids.

A FIT activity's id comes from the recording's identity in its `file_id` message (manufacturer,
product, serial number, time created) plus the session index, so the same recording keeps its id
when it is re-exported, re-downloaded or re-ingested. A file without a complete identity falls
back to its content hash. A Strava-only activity's id comes from its Strava id.

Ids are unique across a lake of many athletes: an athlete registered with `runlake athlete add`
(generated ids start with `GENERATED_ATHLETE_PREFIX`) has its athlete id hashed into its FIT ids
and appended (8 hex of its hash) to its Strava ids, so the same file or Strava activity given by
two athletes is two activities. The default athlete (`RUNLAKE_ATHLETE_ID`, which may not take
the generated form) keeps the ids it always had, so a lake of one runner needs no re-keying.
"""

from __future__ import annotations

import hashlib

from sources.fit.model import FileIdentity

FIT_PREFIX = "fit-"
STRAVA_PREFIX = "strava-"
GENERATED_ATHLETE_PREFIX = "a-"  # lake.athletes.new_athlete_id


def is_generated_athlete(athlete_id: str | None) -> bool:
    """Whether `athlete_id` is a registered (generated) athlete's, not the default athlete's."""
    return bool(athlete_id) and athlete_id.startswith(GENERATED_ATHLETE_PREFIX)


def fit_activity_id(identity: FileIdentity, sha256: str, session_index: int, athlete_id: str | None = None) -> str:
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
    if is_generated_athlete(athlete_id):
        basis = f"athlete|{athlete_id}|{basis}"
    digest = hashlib.sha256(f"{basis}|session|{session_index}".encode()).hexdigest()
    return FIT_PREFIX + digest[:24]


def strava_activity_id(strava_id: int, athlete_id: str | None = None) -> str:
    if is_generated_athlete(athlete_id):
        return f"{STRAVA_PREFIX}{int(strava_id)}-{hashlib.sha256(athlete_id.encode()).hexdigest()[:8]}"
    return f"{STRAVA_PREFIX}{int(strava_id)}"
