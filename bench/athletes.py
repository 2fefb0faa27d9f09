"""Many athletes (issue 13): the marts build of 50 athletes × 1 year in one lake, against one
athlete's build of the same year measured in the same run.

Each athlete gets a copy of the benchmark's one-year private history (bench/marts.py) under its
own generated id, so every athlete's build does the same work: a build that scanned other
athletes' rows would grow faster than the number of athletes. Prints the total, the time per
athlete and the ratio to the single-athlete build.

    python -m bench.athletes          # ATHLETES=50 by default
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time

import polars as pl

from bench.marts import CACHE, history_lake
from pipeline.athletes import list_athletes
from flows.steps.build_marts import build_marts
from lake import activities as A
from lake import athletes as athletes_table
from lake import laps as L
from lake import records as R
from lake.storage import Lake
from lake.table import overwrite, read, replace_rows
from runlake.settings import Settings

END = dt.date(2025, 6, 1)


def _many(source: Lake, target: Lake, n: int) -> None:
    """`n` athletes, each with a copy of `source`'s rows under its own ids."""
    ids = [f"a-{i:020x}" for i in range(1, n + 1)]
    for spec in (A.SPEC, L.SPEC, R.SPEC):  # one athlete's copy at a time: memory of one, not of n
        frame = read(source, spec)
        for a in ids:
            copy = frame.with_columns(athlete_id=pl.lit(a), activity_id=pl.col("activity_id") + f"-{a}")
            replace_rows(target, spec, copy, by="athlete_id", values=[a])
    now = dt.datetime.now(dt.timezone.utc)
    overwrite(target, athletes_table.SPEC, athletes_table.SPEC.conform(pl.DataFrame([
        {"athlete_id": a, "handle": f"runner-{i:02d}", "public": True, "created_at": now, "updated_at": now}
        for i, a in enumerate(ids, start=1)
    ])))


def main() -> None:
    n = int(os.environ.get("ATHLETES", "50"))
    single_src = history_lake(1, END)
    single = CACHE / "athletes-single-work"
    shutil.rmtree(single, ignore_errors=True)
    shutil.copytree(single_src.root, single)
    t0 = time.perf_counter()
    one = build_marts(Lake.at(str(single)), Settings(lake_uri=str(single)), full=True, today=END)
    one_s = time.perf_counter() - t0

    work = CACHE / f"athletes-{n}-work"
    shutil.rmtree(work, ignore_errors=True)
    lake = Lake.at(str(work))
    t0 = time.perf_counter()
    _many(single_src, lake, n)
    setup_s = time.perf_counter() - t0
    settings = Settings(lake_uri=str(work), athlete_public=False)  # the default athlete has no rows here
    t0 = time.perf_counter()
    built = 0
    for athlete in list_athletes(lake, settings):
        if athlete.is_default:
            continue
        built += build_marts(lake, athlete.settings, full=True, today=END).activities
    total_s = time.perf_counter() - t0
    print(f"athletes bench: {n} athletes x 1 year ({one.activities} activities each, {built} in all; lake written in {setup_s:.1f} s)")
    print(f"  one athlete, full marts build (marts + public layer): {one_s:8.2f} s")
    print(f"  {n} athletes, each built on its own:                  {total_s:8.2f} s  ({total_s / n:.2f} s per athlete)")
    print(f"  per-athlete time / single-athlete time: {total_s / n / one_s:.2f}x (1.0 = no athlete slows another)")
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(single, ignore_errors=True)


if __name__ == "__main__":
    main()
