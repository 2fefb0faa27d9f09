"""Data rights of one athlete: export everything it owns, or erase it from the lake.

Ownership comes from the registry (`lake.registry`): a `PRIVATE` table's rows are the athlete's
through `athlete_id`, a `PUBLIC` table's through its `athlete` handle; raw files through the
`fit_files`, `quarantine` and `strava_activities` rows that refer to them (the raw archive is
content-addressed and shared, so erasure keeps a file another athlete's row still refers to).
A table added to the registry later (tokens, credentials, …) is exported and erased without a
change here. docs/athletes.md ("Export and erasure") states the rules.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.lake_access import lake_at
from lake import athletes as athletes_table
from lake import fit_files, lease, quarantine, raw, registry, strava_state
from lake.purge import purge_history
from lake.storage import Lake
from lake.table import TableSpec, delete_rows, in_predicate, scan, table_exists
from pipeline.athletes import Athlete, UnknownAthleteError, athlete_from_row, resolve_athlete
from pipeline.athletes import registry as registry_rows
from sources.fit.inbox import ATHLETES_FOLDER
from runlake.errors import RunlakeError
from runlake.settings import Settings
from sources.strava.auth import token_path

log = logging.getLogger(__name__)

#: Columns never written to an export, in whatever table they appear: encrypted secrets
#: (`private/credentials`) are useless without the server's key and a liability in a zip; an API
#: token's salt and hash (`private/api_tokens`) are of no use to the athlete and, like any
#: credential's hash, have no place in a file that leaves the server.
SECRET_COLUMNS = frozenset({"ciphertext", "salt", "token_hash"})
MANIFEST = "manifest.json"


def _owner(spec: TableSpec, athlete: Athlete) -> tuple[str, str]:
    """The column and value that mark `athlete`'s rows of `spec` (private: its id; public: its handle)."""
    if "athlete_id" in spec.schema:
        return "athlete_id", athlete.athlete_id
    if "athlete" in spec.schema:
        return "athlete", athlete.handle
    raise ValueError(f"{spec.name}: neither athlete_id nor athlete: cannot tell whose rows these are")


def _owned(spec: TableSpec, athlete: Athlete) -> pl.Expr:
    """True on the rows of `spec` that belong to `athlete`."""
    column, value = _owner(spec, athlete)
    return pl.col(column).eq_missing(value)


def _owned_predicate(spec: TableSpec, athlete: Athlete) -> str:
    """`_owned` as a Delta SQL predicate."""
    column, value = _owner(spec, athlete)
    return in_predicate(column, [value])


# --- raw files -------------------------------------------------------------------------------------


def _raw_references(lake: Lake) -> pl.DataFrame:
    """(athlete_id, path) of every raw file a row refers to; only files that exist."""
    fit_present = set(raw.list_relative(lake, raw.FIT_PREFIX))
    by_hash = pl.concat([
        scan(lake, fit_files.SPEC).select("athlete_id", "sha256"),
        scan(lake, quarantine.SPEC).select("athlete_id", "sha256"),
    ]).unique().collect()
    refs = [(a, raw.fit_relative_path(sha)) for a, sha in by_hash.iter_rows() if sha]
    stored = scan(lake, fit_files.SPEC).select("athlete_id", "raw_uri").drop_nulls("raw_uri").unique().collect()
    refs += [(a, path) for a, path in stored.iter_rows()]
    fit_refs = pl.DataFrame(refs, schema={"athlete_id": pl.String, "path": pl.String}, orient="row")
    fit_refs = fit_refs.filter(pl.col("path").is_in(list(fit_present)))

    strava_files = pl.DataFrame({"path": raw.list_relative(lake, "raw/strava")}, schema={"path": pl.String})
    strava_files = strava_files.with_columns(strava_id=pl.col("path").str.split("/").list.get(2).cast(pl.Int64, strict=False))
    strava_refs = (
        scan(lake, strava_state.ACTIVITIES).select("athlete_id", "strava_id").collect()
        .join(strava_files, on="strava_id").select("athlete_id", "path")
    )
    return pl.concat([fit_refs, strava_refs]).unique()


def _raw_files(lake: Lake, athlete_id: str) -> tuple[list[str], list[str]]:
    """The athlete's raw files, and those of them another athlete's rows also refer to."""
    refs = _raw_references(lake)
    mine = set(refs.filter(pl.col("athlete_id").eq_missing(athlete_id))["path"])
    others = set(refs.filter(pl.col("athlete_id").ne_missing(athlete_id))["path"])
    return sorted(mine), sorted(mine & others)


# --- export ----------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    athlete: Athlete
    out: Path
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows exported
    raw_files: int = 0
    notes: list[str] = field(default_factory=list)


def export_file_name(spec: TableSpec) -> str:
    """`marts/daily_load` -> `marts__daily_load.parquet`."""
    return spec.name.replace("/", "__") + ".parquet"


def export_athlete(lake: Lake, settings: Settings, handle: str, out: Path) -> ExportReport:
    """Write every row and raw file `handle` owns into the zip `out` (replaced atomically).

    Table by table, each from a filtered lazy scan sunk to a temporary Parquet file, so memory
    holds one streaming batch, not the athlete's history.
    """
    athlete = resolve_athlete(lake, settings, handle)
    out = Path(out).expanduser().resolve()
    if not out.parent.is_dir():
        raise RunlakeError(f"--out {out}: folder {out.parent} does not exist")
    report = ExportReport(athlete, out)
    tables: dict[str, dict] = {}
    fd, tmp_zip = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_zip, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for spec in registry.OWNED:
                tables[spec.name] = _export_table(lake, spec, athlete, zf, out.parent)
                report.rows[spec.name] = tables[spec.name]["rows"]
            files, _ = _raw_files(lake, athlete.athlete_id)
            for rel in files:
                zf.writestr(rel, raw.read_bytes(lake, rel),
                            compress_type=zipfile.ZIP_STORED if rel.endswith(".gz") else zipfile.ZIP_DEFLATED)
            report.raw_files = len(files)
            manifest = {
                "athlete": {"handle": athlete.handle, "athlete_id": athlete.athlete_id, "display_name": athlete.display_name},
                "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "runlake_version": importlib.metadata.version("runlake"),
                "tables": tables,
                "raw_files": len(files),
                "omitted_columns": sorted(SECRET_COLUMNS),
                "notes": report.notes,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
        os.replace(tmp_zip, out)
    except BaseException:
        Path(tmp_zip).unlink(missing_ok=True)
        raise
    return report


def _export_table(lake: Lake, spec: TableSpec, athlete: Athlete, zf: zipfile.ZipFile, tmp_dir: Path) -> dict:
    rows = scan(lake, spec).filter(_owned(spec, athlete))
    omitted = sorted(SECRET_COLUMNS.intersection(spec.schema.names()))
    if omitted:
        rows = rows.drop(omitted)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".export-", suffix=".parquet")
    os.close(fd)
    try:
        rows.sink_parquet(tmp)
        count = pl.scan_parquet(tmp).select(pl.len()).collect().item()
        zf.write(tmp, export_file_name(spec), compress_type=zipfile.ZIP_STORED)  # Parquet is compressed already
    finally:
        Path(tmp).unlink(missing_ok=True)
    entry = {"file": export_file_name(spec), "rows": count}
    if omitted:
        entry["omitted_columns"] = omitted
    return entry


# --- erasure ---------------------------------------------------------------------------------------


class AthleteBusyError(RunlakeError):
    """Another writer of the athlete (an ingest, a sync) kept its lease: nothing was erased."""


@dataclass
class ErasureReport:
    athlete: Athlete
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows deleted (tables with any)
    raw_removed: list[str] = field(default_factory=list)
    raw_kept_shared: list[str] = field(default_factory=list)
    folders_removed: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)  # outside the lake (token file)
    purged: list[str] = field(default_factory=list)  # tables whose history was erased
    notes: list[str] = field(default_factory=list)


def erase_athlete(lake: Lake, settings: Settings, handle: str, *, lease_wait_s: float | None = None) -> ErasureReport:
    """Delete everything of `handle` from the lake, its inbox folder and RUNLAKE_HOME, holding
    the athlete's lease (waiting up to `lease_wait_s`, default RUNLAKE_LEASE_WAIT_S, for its other
    writer; then a one-line RunlakeError), and last its lease objects themselves.

    Order: a mark of the erasure under way (`ERASING_PREFIX`: the registry row), raw files,
    inbox, token file, then each table's rows, the registry row (`athletes`) last, then every
    table's history, `athletes` last, the leases, the mark — so a run stopped midway is finished
    by running it again: the rows that name the rest are the last to go, and once the registry
    row is gone the mark still names the athlete (docs/reliability.md, "Kills"). Each table
    loses the athlete's rows by a delete with a predicate (conflict-checked against other
    athletes' concurrent commits, and retried), and then every table's history is purged: old
    data files, Delta log entries — the delete's own, which names the athlete, included — with
    their column statistics, partition folders such as `records/athlete_id=…`. Other athletes
    lose their time travel from before the erasure. Other athletes' writers may run meanwhile
    (the purge is not `full`: nothing they have not committed yet is touched); one of them that
    read a table before the purge fails and is run again.
    """
    athlete = _athlete_to_erase(lake, settings, handle)
    wait = settings.lease_wait_s if lease_wait_s is None else lease_wait_s
    try:
        held = lease.acquire(lake, athlete.athlete_id, "athlete erase", wait_s=wait)
    except lease.LeaseBusyError as exc:
        raise AthleteBusyError(str(exc)) from None
    with held:
        _mark_erasing(lake, athlete)
        report = _erase(lake, settings, athlete)
    lease.delete_leases(lake, athlete.athlete_id)  # released first: no heartbeat writes one back
    mark = _erasing_path(athlete.athlete_id)
    raw.remove_files(lake, [p for p in raw.list_relative(lake, ERASING_PREFIX) if p == mark])
    return report


#: Where an erasure keeps the registry row of the athlete it erases until it has finished: the
#: row is deleted from `athletes` (and that table's history purged) before the end, so a run
#: killed after that finds the athlete here when it is run again.
ERASING_PREFIX = "_meta/erasing"


def _erasing_path(athlete_id: str) -> str:
    return f"{ERASING_PREFIX}/{athlete_id}.parquet"


def _mark_erasing(lake: Lake, athlete: Athlete) -> None:
    row = athletes_table.SPEC.conform(registry_rows(lake).filter(pl.col("athlete_id") == athlete.athlete_id))
    if row.is_empty():  # the default athlete without a row, or a re-run that found the mark
        return
    buffer = io.BytesIO()
    row.write_parquet(buffer)
    raw.write_bytes(lake, _erasing_path(athlete.athlete_id), buffer.getvalue())


def _athlete_to_erase(lake: Lake, settings: Settings, handle: str) -> Athlete:
    """The athlete called `handle`, or the one whose erasure was stopped after its registry row
    was deleted (its mark under `ERASING_PREFIX`): running the erasure again finishes it."""
    try:
        return resolve_athlete(lake, settings, handle)
    except UnknownAthleteError:
        wanted = handle.strip().lower()
        for path in raw.list_relative(lake, ERASING_PREFIX):
            row = pl.read_parquet(io.BytesIO(raw.read_bytes(lake, path)))
            if row.height == 1 and row["handle"][0] == wanted:
                log.warning("finishing the erasure of athlete %r, stopped after its registry row was deleted", wanted)
                return athlete_from_row(settings, row.to_dicts()[0])
        raise


def _erase(lake: Lake, settings: Settings, athlete: Athlete) -> ErasureReport:
    report = ErasureReport(athlete)

    files, shared = _raw_files(lake, athlete.athlete_id)
    report.raw_kept_shared = shared
    report.raw_removed = sorted(set(files) - set(shared))
    raw.remove_files(lake, report.raw_removed)

    _erase_inbox(settings, athlete, report)
    token = token_path(settings, athlete.athlete_id)
    if token.exists():
        token.unlink()
        report.files_removed.append(str(token))
    if athlete.is_default and settings.strava_secret_block:
        report.notes.append(f"the Strava token in Prefect Secret block {settings.strava_secret_block!r} is not deleted: delete the block")

    # The registry row goes last (and its table's history is purged last): until then a re-run
    # finds the athlete by its handle, and the public tables' rows by that handle.
    last = [athletes_table.SPEC]
    for spec in [s for s in registry.OWNED if s not in last] + last:
        if not table_exists(lake, spec):
            continue
        count = scan(lake, spec).filter(_owned(spec, athlete)).select(pl.len()).collect().item()
        if count:
            # A delete by predicate: Delta's conflict check sees another athlete's commit in
            # between (a token revoked, a row merged), and the delete is retried on top of it —
            # an overwrite with the other rows would silently undo it. The commit names the
            # athlete; the purge below removes that log entry with the rest of the history.
            delete_rows(lake, spec, _owned_predicate(spec, athlete))
            report.rows[spec.name] = count
    for spec in [s for s in registry.ALL if s not in last] + last:  # every table: an earlier version may hold rows since deleted
        if purge_history(lake, spec) is not None:
            report.purged.append(spec.name)
    return report


def _erase_inbox(settings: Settings, athlete: Athlete, report: ErasureReport) -> None:
    if athlete.is_default:
        report.notes.append(f"the default athlete's inbox {settings.inbox} is your own folder: not deleted")
        return
    inbox = lake_at(settings.inbox, settings)  # the lake-wide inbox: settings are the deployment's
    folder = f"{ATHLETES_FOLDER}/{athlete.athlete_id}"
    if raw.list_relative(inbox, folder) or (not inbox.is_s3 and Path(inbox.uri(folder)).exists()):
        raw.remove_tree(inbox, folder)
        report.folders_removed.append(inbox.uri(folder))
