"""Turn a decoded FIT file into rows of the `activities`, `laps` and `records` tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from sources.fit.identity import fit_activity_id
from sources.fit.model import DecodedFile


@dataclass
class FileRows:
    """The rows one activity file (FIT, or GPX/TCX through `sources.track`) contributes."""

    activities: list[dict] = field(default_factory=list)
    laps: list[pl.DataFrame] = field(default_factory=list)
    records: list[pl.DataFrame] = field(default_factory=list)

    @property
    def activity_ids(self) -> list[str]:
        return [a["activity_id"] for a in self.activities]


def file_rows(decoded: DecodedFile, *, sha256: str, athlete_id: str, now: datetime) -> FileRows:
    ident = decoded.identity
    out = FileRows()
    for session in decoded.sessions:
        summary = session.summary
        activity_id = fit_activity_id(ident, sha256, int(summary["session_index"]), athlete_id)
        start: datetime | None = summary.get("start_time")
        year = start.year if start is not None else None
        out.activities.append(
            {
                **summary,
                "quality_flags": session.quality_flags,
                "activity_id": activity_id,
                "athlete_id": athlete_id,
                "device_manufacturer": ident.manufacturer,
                "device_product": ident.product,
                "device_serial": None if ident.serial_number is None else str(ident.serial_number),
                "fit_sha256": sha256,
                "strava_id": None,
                "source": decoded.source,
                "is_private": False,
                "is_deleted": False,
                "updated_at": now,
            }
        )
        ids = {"activity_id": activity_id, "athlete_id": athlete_id}
        out.laps.append(session.laps.with_columns(*(pl.lit(v).alias(k) for k, v in ids.items())))
        out.records.append(
            session.records.with_columns(
                *(pl.lit(v).alias(k) for k, v in ids.items()),
                pl.lit(year, dtype=pl.Int32).alias("year"),
            )
        )
    return out
