"""TCX (Garmin Training Center XML v2) files → a `DecodedFile` (`decode_tcx`), read with lxml.

The first `<Activity>` is the session (Strava and Garmin Connect export one per file); its
`<Lap>`s are the laps, with what each states (StartTime, TotalTimeSeconds = timer time,
DistanceMeters, Calories, heart rates, Intensity, TriggerMethod). Per `<Trackpoint>`: Time,
Position, AltitudeMeters, DistanceMeters (cumulative), HeartRateBpm, Cadence, and the
ActivityExtension `TPX` values `Speed`, `RunCadence`, `Watts`. Elements are found by local name,
whatever the namespace prefix. Derivations (moving time, UTC offset…) are `sources.track`'s.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from lxml import etree

from sources.fit.model import BrokenFitFile, DecodedFile, FileIdentity, NotAnActivity
from sources.track import POINT_SCHEMA, LapStated, decoded_track, sport_of

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _children(node, name: str) -> list:
    return [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _first(node, *path: str):
    for name in path:
        if node is None:
            return None
        found = _children(node, name)
        node = found[0] if found else None
    return node


def _text(node, *path: str) -> str | None:
    found = _first(node, *path)
    return found.text.strip() if found is not None and found.text else None


def _number(node, *path: str) -> float | None:
    text = _text(node, *path)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _tpx(point, name: str) -> float | None:
    for tpx in point.iter():
        if isinstance(tpx.tag, str) and etree.QName(tpx).localname == "TPX":
            return _number(tpx, name)
    return None


def _lap_rows(lap, index: int) -> list[dict]:
    rows = []
    for track in _children(lap, "Track"):
        for point in _children(track, "Trackpoint"):
            cadence = _tpx(point, "RunCadence")
            rows.append(
                {
                    "lap": index,
                    "timestamp": _time(_text(point, "Time")),
                    "lat_deg": _number(point, "Position", "LatitudeDegrees"),
                    "lon_deg": _number(point, "Position", "LongitudeDegrees"),
                    "altitude_m": _number(point, "AltitudeMeters"),
                    "distance_m": _number(point, "DistanceMeters"),
                    "speed_mps": _tpx(point, "Speed"),
                    "hr_bpm": _number(point, "HeartRateBpm", "Value"),
                    "cadence": cadence if cadence is not None else _number(point, "Cadence"),
                    "power_w": _tpx(point, "Watts"),
                    "temperature_c": None,
                }
            )
    return rows


def _stated(lap) -> LapStated:
    trigger = _text(lap, "TriggerMethod")
    intensity = _text(lap, "Intensity")
    return LapStated(
        start_time=_time(lap.get("StartTime")),
        timer_s=_number(lap, "TotalTimeSeconds"),
        distance_m=_number(lap, "DistanceMeters"),
        calories_kcal=_number(lap, "Calories"),
        avg_hr_bpm=_number(lap, "AverageHeartRateBpm", "Value"),
        max_hr_bpm=_number(lap, "MaximumHeartRateBpm", "Value"),
        intensity={"Active": "active", "Resting": "rest"}.get(intensity or "", intensity),
        lap_trigger=trigger.lower() if trigger else None,
    )


def decode_tcx(data: bytes, *, default_tz: str = "UTC", now: datetime | None = None) -> DecodedFile:
    """Decode one TCX file's first activity. `BrokenFitFile` (one line) for unreadable XML;
    `NotAnActivity` for a file without an activity or whose track has no times (a course)."""
    now = datetime.now(UTC) if now is None else now
    try:
        root = etree.fromstring(data.lstrip(b"\xef\xbb\xbf \t\r\n"), _PARSER)
    except etree.XMLSyntaxError as error:
        raise BrokenFitFile(f"unreadable TCX: {' '.join(str(error).split())[:200]}") from error
    activity = _first(root, "Activities", "Activity")
    if activity is None:
        raise NotAnActivity("TCX file without an <Activity> (a course or workout file)")
    laps = _children(activity, "Lap")
    rows = [row for index, lap in enumerate(laps) for row in _lap_rows(lap, index)]
    creator = _text(activity, "Creator", "Name")
    return decoded_track(
        pl.DataFrame(rows, schema=POINT_SCHEMA),
        [_stated(lap) for lap in laps],
        sport=sport_of(activity.get("Sport")),
        source="tcx",
        decoder="lxml-tcx",
        identity=FileIdentity(product=creator),
        default_tz=default_tz,
        now=now,
    )
