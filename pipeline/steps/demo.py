"""The demo pipeline: a synthetic athlete's FIT files into the inbox, then ingest and marts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.steps.build_marts import build_marts
from pipeline.steps.ingest_fit import IngestReport, ingest_fit_files, resolve_inputs
from lake import athlete_profile
from lake.storage import Lake
from lake.table import read, upsert
from runlake.errors import RunlakeError
from runlake.files import make_private_dir
from runlake.settings import Settings

Progress = Callable[[str, int, int | None], None]


@dataclass
class DemoResult:
    inbox: Path
    files: int
    ingest: IngestReport
    notes: list[str] = field(default_factory=list)


def demo_inbox(settings: Settings) -> Path:
    if settings.inbox.startswith("s3://"):
        raise RunlakeError("runlake demo writes its FIT files to a local inbox: unset RUNLAKE_INBOX_URI or point it to a folder")
    return Path(settings.inbox)


def _record_demo_physiology(lake: Lake, settings: Settings) -> None:
    """Give the demo athlete its generator's physiology, unless the lake already has a profile."""
    from sources.fit.synthetic import Physiology

    existing = read(lake, athlete_profile.SPEC).filter(pl.col("athlete_id") == settings.athlete_id)
    if existing.height:
        return
    phys = Physiology()
    row = {
        "athlete_id": settings.athlete_id,
        "valid_from": dt.date(2000, 1, 1),
        "hr_rest_bpm": int(phys.hr_rest_bpm),
        "hr_max_bpm": int(phys.hr_max_bpm),
        "sex": "m",
        "threshold_pace_s_per_km": phys.threshold_pace_s_per_km,
        "updated_at": dt.datetime.now(dt.UTC),
    }
    upsert(lake, athlete_profile.SPEC, pl.DataFrame([row], schema=athlete_profile.SPEC.schema))


def run_demo(lake: Lake, settings: Settings, *, years: float, seed: int, progress: Progress) -> DemoResult:
    from sources.fit.synthetic import generate_history

    inbox = demo_inbox(settings)
    make_private_dir(inbox)
    files = generate_history(inbox, years=years, seed=seed, progress=lambda done, total: progress("generating FIT files", done, total))
    items, read_options = resolve_inputs(settings, [str(inbox)])
    done = {"n": 0}

    def on_ingest(n: int) -> None:
        done["n"] += n
        progress("ingesting", done["n"], len(items))

    report = ingest_fit_files(lake, settings, items, read_options=read_options, progress=on_ingest)
    _record_demo_physiology(lake, settings)
    progress("building marts", 0, None)
    marts = build_marts(lake, settings)
    public = ", ".join(f"{name.removeprefix('public/')} {rows}" for name, rows in (marts.public or {}).items())
    notes = [
        f"marts ({marts.mode}): {marts.activities} activities, {marts.days} days, {marts.weeks} weeks in {marts.seconds:.1f} s",
        f"public tables: {public}",
    ]
    return DemoResult(inbox=inbox, files=len(files), ingest=report, notes=notes)
