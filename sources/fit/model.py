"""What decoding a FIT file produces, independent of the decoder that produced it.

`decode_fit(data: bytes, *, default_tz: str) -> DecodedFile` (in `sources.fit.decode`) returns one
`DecodedSession` per FIT `session` message (zero-length ones left out, `sources.fit.clean`), or raises:

* `NotAnActivity(reason)`: a valid FIT file that holds no activity session (course, workout,
  settings, monitoring, a file_id-only file). Recorded as skipped, not an error.
* `BrokenFitFile(error)`: empty, no FIT header, truncated, CRC mismatch, undecodable message.
  The message is one clear line; the file goes to quarantine.

Frames use the column names and dtypes of the lake tables (`lake/laps.py`, `lake/records.py`)
minus the ids the ingest adds (`athlete_id`, `activity_id`, `year`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from lake import activities


class FitError(Exception):
    """Base of the decoding outcomes that are not a crash."""


class NotAnActivity(FitError):
    """A valid FIT file without an activity session."""


class BrokenFitFile(FitError):
    """A file that is not a readable FIT file; the message is one line for the quarantine."""


@dataclass(frozen=True)
class FileIdentity:
    """The recording's identity from the `file_id` message (any field may be missing)."""

    manufacturer: str | None = None
    product: str | None = None
    serial_number: int | None = None
    time_created: datetime | None = None  # UTC
    file_type: str | None = None

    @property
    def is_complete(self) -> bool:
        return self.manufacturer is not None and self.serial_number is not None and self.time_created is not None


#: Session summary columns: the `activities` columns a FIT session fills (types from its spec).
SESSION_COLUMNS = pl.Schema(
    {
        name: activities.SPEC.schema[name]
        for name in (
            "session_index", "sport", "sub_sport", "start_time", "utc_offset_s", "distance_m", "elapsed_s",
            "moving_s", "avg_hr_bpm", "max_hr_bpm", "ascent_m", "descent_m", "calories_kcal", "avg_cadence_spm",
        )
    }
)

@dataclass
class DecodedSession:
    """One activity session: its summary row, its laps and its samples."""

    summary: dict  # keys: SESSION_COLUMNS
    laps: pl.DataFrame  # lake.laps columns minus activity_id/athlete_id
    records: pl.DataFrame  # lake.records columns minus athlete_id/activity_id/year
    #: what `sources.fit.clean` nulled or noticed ("hr_out_of_range=3; gps_jump=1"), None when nothing
    quality_flags: str | None = None


@dataclass
class DecodedFile:
    identity: FileIdentity
    sessions: list[DecodedSession]
    decoder: str  # which decoder read it, e.g. "fast", "garmin-fit-sdk", "fitdecode", "fitparse", "gpxpy", "lxml-tcx"
    warnings: list[str] = field(default_factory=list)
    #: the file format, the `activities.source` of its rows: "fit", or "gpx"/"tcx" (`sources.track`)
    source: str = "fit"


#: The decoder-neutral intermediate form: per message kind (`file_id`, `session`, `lap`, `record`,
#: `activity`), a frame with one row per message in file order and one column per FIT profile
#: field name (garmin-fit-sdk's Profile names: `timestamp`, `position_lat`, `enhanced_speed`,
#: `heart_rate`, `cadence`, `fractional_cadence`, …). Values are scaled and offset as the FIT
#: profile says; invalid values are null; enum fields are their profile string (unknown
#: values: the number as a string); date_time fields (`timestamp`, `start_time`,
#: `time_created`, `local_timestamp`) are Int64 FIT seconds (since 1989-12-31T00:00:00Z);
#: `position_lat`/`position_long` stay Int64 semicircles. Every frame also carries `_file_index`
#: (which chained FIT file in the byte stream, from 0). Reference adapters and the fast decoder
#: both produce this form; `sources.fit.normalize` turns it into a `DecodedFile`.
RawMessages = dict[str, pl.DataFrame]
