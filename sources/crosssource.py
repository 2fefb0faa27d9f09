"""Cross-source identity: which watch-file activity and which Strava activity are the same run.

Pure functions over `activities` rows (dicts). The rule (docs/strava.md):

1. **external_id**: Strava's `external_id` names the FIT file the activity was uploaded from
   (compared case-insensitively on the base name without `.fit`/`.fit.gz`, or equal to the
   file's SHA-256) → same run, whatever the distances (athletes correct distances on Strava).
   In a file with several sessions, the session starting closest to the Strava start is taken.
2. **start + distance**: starts within 60 s and distances within 3 % of the longer one (two
   activities without distance count as equal) → same run, whatever the `external_id`
   (phone uploads carry other ids).

Pairs are one-to-one; rule 1 wins over rule 2, then the closer start. The merged row is the FIT
row (its id, summary and samples win) plus Strava's `strava_id`, name, description, gear,
private flag and external id, with `source = 'fit+strava'` (`gpx+strava`, `tcx+strava` for a
GPX or TCX file of an archive import: `file_source`); the Strava-only row (`strava-<id>`)
is retired with its laps and records. Whichever source arrives first, the same merged row
results. Deleted on Strava, a merged row stays (the watch file is the athlete's own record)
and loses its Strava fields (`strip_strava`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lake.activities import STRAVA_OWNED

#: Columns Strava owns on a merged row (`source` is set by the merge itself).
STRAVA_FIELDS = tuple(c for c in STRAVA_OWNED if c != "source")
START_TOLERANCE_S = 60.0
DISTANCE_TOLERANCE = 0.03
SOURCE_FIT, SOURCE_STRAVA, SOURCE_BOTH = "fit", "strava", "fit+strava"
_TOL = timedelta(seconds=START_TOLERANCE_S)


@dataclass(frozen=True)
class Match:
    fit_activity_id: str
    strava_id: int
    rule: str  # "external_id" | "start+distance" | "already paired"


@dataclass
class MergePlan:
    merged: list[dict] = field(default_factory=list)  # rows to upsert (FIT ids)
    retired_ids: list[str] = field(default_factory=list)  # Strava-only activity ids to delete
    matches: list[Match] = field(default_factory=list)


def file_key(name: str | None) -> str | None:
    """"Uploads/2024-03-01-07-12-33.FIT" → "2024-03-01-07-12-33"; None for nothing."""
    if not name:
        return None
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    for suffix in (".gz", ".fit"):
        base = base.removesuffix(suffix)
    return base or None


def external_id_names(external_id: str | None, fit_row: dict) -> bool:
    key = file_key(external_id)
    if key is None:
        return False
    sha = (fit_row.get("fit_sha256") or "").lower()
    return key == file_key(fit_row.get("fit_file_name")) or (bool(sha) and key == sha)


def _start_gap_s(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else abs((a - b).total_seconds())


def distances_agree(a: float | None, b: float | None) -> bool:
    a, b = a or 0.0, b or 0.0
    longer = max(a, b)
    if longer < 1.0:  # neither has a distance (strength, manual entries)
        return True
    return abs(a - b) <= DISTANCE_TOLERANCE * longer


def same_run(fit_row: dict, strava_row: dict) -> str | None:
    """The rule by which two rows are the same run, or None."""
    if external_id_names(strava_row.get("strava_external_id"), fit_row):
        return "external_id"
    gap = _start_gap_s(fit_row.get("start_time"), strava_row.get("start_time"))
    if gap is not None and gap <= START_TOLERANCE_S and distances_agree(fit_row.get("distance_m"), strava_row.get("distance_m")):
        return "start+distance"
    return None


def match_activities(fit_rows: Sequence[dict], strava_rows: Sequence[dict]) -> list[Match]:
    """One-to-one pairs between unpaired FIT rows and Strava-only rows."""
    by_file: dict[str, list[int]] = {}
    for i, row in enumerate(fit_rows):
        for key in {file_key(row.get("fit_file_name")), (row.get("fit_sha256") or "").lower() or None} - {None}:
            by_file.setdefault(key, []).append(i)
    timed = sorted((row["start_time"], i) for i, row in enumerate(fit_rows) if row.get("start_time") is not None)
    starts = [t for t, _ in timed]
    candidates: list[tuple[int, float, float, int, int, str]] = []
    for j, srow in enumerate(strava_rows):
        seen: set[int] = set()
        near = []
        if srow.get("start_time") is not None:
            lo = bisect.bisect_left(starts, srow["start_time"] - _TOL)
            hi = bisect.bisect_right(starts, srow["start_time"] + _TOL)
            near = [i for _, i in timed[lo:hi]]
        for i in by_file.get(file_key(srow.get("strava_external_id")) or "", []) + near:
            if i in seen:
                continue
            seen.add(i)
            rule = same_run(fit_rows[i], srow)
            if rule is None:
                continue
            gap = _start_gap_s(fit_rows[i].get("start_time"), srow.get("start_time"))
            ddist = abs((fit_rows[i].get("distance_m") or 0.0) - (srow.get("distance_m") or 0.0))
            candidates.append((0 if rule == "external_id" else 1, gap if gap is not None else float("inf"), ddist, i, j, rule))
    candidates.sort(key=lambda c: c[:3] + (str(fit_rows[c[3]]["activity_id"]), int(strava_rows[c[4]]["strava_id"])))
    used_fit: set[int] = set()
    used_strava: set[int] = set()
    matches = []
    for _, _, _, i, j, rule in candidates:
        if i in used_fit or j in used_strava:
            continue
        used_fit.add(i)
        used_strava.add(j)
        matches.append(Match(fit_rows[i]["activity_id"], int(strava_rows[j]["strava_id"]), rule))
    return matches


def file_source(row: dict) -> str:
    """The file format a FIT-backed row came from ("fit", "gpx", "tcx"), whatever Strava added."""
    return (row.get("source") or SOURCE_FIT).split("+", 1)[0] or SOURCE_FIT


def merge_rows(fit_row: dict, strava_row: dict) -> dict:
    """The one row of a run known from both sources: FIT wins, Strava adds its own fields."""
    merged = {k: v for k, v in fit_row.items() if k != "fit_file_name"}
    for column in STRAVA_FIELDS:
        merged[column] = strava_row.get(column)
    merged["source"] = f"{file_source(fit_row)}+{SOURCE_STRAVA}"
    return merged


def strip_strava(row: dict) -> dict:
    """A merged row whose Strava activity was deleted: the FIT activity alone remains.

    Its private flag goes with the Strava fields: `pipeline.activity_merge.forget_strava` records the
    run's privacy mark first, which keeps it private (docs/privacy.md, "Privacy is sticky")."""
    stripped = {k: v for k, v in row.items() if k != "fit_file_name"}
    for column in STRAVA_FIELDS:
        stripped[column] = None
    stripped["is_private"] = False
    stripped["source"] = file_source(row)
    return stripped


def plan_merges(fit_rows: Iterable[dict], strava_rows: Iterable[dict], *, now: datetime | None = None) -> MergePlan:
    """Merge plan for FIT-backed rows (paired or not) and live Strava-only rows.

    A Strava-only row whose Strava id is already on a FIT-backed row (a merge interrupted after
    its upsert) is retired too, its fields refreshed on the merged row.
    """
    fit_rows, strava_rows = list(fit_rows), list(strava_rows)
    paired = {int(r["strava_id"]): r for r in fit_rows if r.get("strava_id") is not None}
    unpaired = [r for r in fit_rows if r.get("strava_id") is None]
    plan = MergePlan()
    loose = []
    for srow in strava_rows:
        fit_row = paired.get(int(srow["strava_id"]))
        if fit_row is None:
            loose.append(srow)
            continue
        plan.matches.append(Match(fit_row["activity_id"], int(srow["strava_id"]), "already paired"))
        plan.merged.append(merge_rows(fit_row, srow))
        plan.retired_ids.append(srow["activity_id"])
    fit_by_id = {r["activity_id"]: r for r in unpaired}
    strava_by_id = {int(r["strava_id"]): r for r in loose}
    for match in match_activities(unpaired, loose):
        plan.matches.append(match)
        plan.merged.append(merge_rows(fit_by_id[match.fit_activity_id], strava_by_id[match.strava_id]))
        plan.retired_ids.append(strava_by_id[match.strava_id]["activity_id"])
    if now is not None:
        for row in plan.merged:
            row["updated_at"] = now
    return plan

