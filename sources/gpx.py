"""GPX 1.0/1.1 files → a `DecodedFile` (`decode_gpx`), read with gpxpy.

Every track of the file is one activity session (Strava and Garmin Connect export one track per
activity); its segments are the laps. Per point: time, position, elevation and the Garmin
TrackPointExtension values (`hr`, `cad`, `atemp`) plus `power` (Strava's extension), found by
local name whatever the namespace prefix. Distance, speed, moving time and the UTC offset are
derived by `sources.track`. Sport: the track's `<type>` ("running", Strava's "9"…).
"""

from __future__ import annotations

from datetime import UTC, datetime

import gpxpy
import gpxpy.gpx
import polars as pl

from sources.fit.model import BrokenFitFile, DecodedFile, FileIdentity, NotAnActivity
from sources.track import POINT_SCHEMA, decoded_track, sport_of

#: Strava's numeric GPX `<type>` values for the foot and bike sports (others: sport unknown)
STRAVA_GPX_TYPES = {"9": "running", "1": "cycling", "10": "walking", "4": "hiking"}
_EXTENSION_FIELDS = {"hr": "hr_bpm", "heartrate": "hr_bpm", "cad": "cadence", "cadence": "cadence",
                     "atemp": "temperature_c", "power": "power_w", "watts": "power_w"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _extension_values(point: gpxpy.gpx.GPXTrackPoint) -> dict[str, float]:
    values: dict[str, float] = {}
    for element in point.extensions:
        for node in element.iter():
            column = _EXTENSION_FIELDS.get(_local(node.tag))
            if column and node.text and column not in values:
                try:
                    values[column] = float(node.text.strip())
                except ValueError:
                    continue  # a non-numeric extension value is not a sample
    return values


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def track_points(track: gpxpy.gpx.GPXTrack) -> pl.DataFrame:
    rows = []
    for lap, segment in enumerate(track.segments):
        for point in segment.points:
            extra = _extension_values(point)
            rows.append(
                {
                    "lap": lap,
                    "timestamp": _utc(point.time),
                    "lat_deg": point.latitude,
                    "lon_deg": point.longitude,
                    "altitude_m": point.elevation,
                    "distance_m": None,
                    "speed_mps": None,
                    **extra,
                }
            )
    return pl.DataFrame(rows, schema=POINT_SCHEMA)


def decode_gpx(data: bytes, *, default_tz: str = "UTC", now: datetime | None = None) -> DecodedFile:
    """Decode one GPX file's first timed track. `BrokenFitFile` (one line) for unreadable XML,
    `NotAnActivity` for a file without a timed track (a route, waypoints only)."""
    now = datetime.now(UTC) if now is None else now
    try:
        gpx = gpxpy.parse(data.decode("utf-8-sig", errors="replace"))
    except (gpxpy.gpx.GPXException, ValueError) as error:
        raise BrokenFitFile(f"unreadable GPX: {' '.join(str(error).split())[:200]}") from error
    creator = (gpx.creator or "").strip() or None
    for track in gpx.tracks:
        points = track_points(track)
        if points["timestamp"].drop_nulls().len() < 2:
            continue
        kind = (track.type or "").strip()
        sport = STRAVA_GPX_TYPES.get(kind) or sport_of(kind)
        return decoded_track(points, [], sport=sport, source="gpx", decoder="gpxpy", identity=FileIdentity(product=creator),
                             default_tz=default_tz, now=now)
    raise NotAnActivity("GPX file without a timed track (a route or waypoints, not an activity)")
