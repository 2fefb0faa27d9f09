"""Marts benchmark: full build vs incremental build after one more day of runs.

`python -m bench.marts` (BENCH_YEARS, default 1). The synthetic history (doubles most days,
1 Hz records with HR, distance and altitude) is generated with numpy straight into the tables of
a lake cached under bench/.cache/marts-<years>y, so only the first run pays for it.

`BENCH_MARTS_HOME=<RUNLAKE_HOME> python -m bench.marts` instead copies that home (e.g. one made by
`runlake demo --years 10`; the original is never written) and times `runlake marts build --full`
on the copy in a child process: wall time, CPU time and the child's peak memory (ru_maxrss).
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from pipeline.steps.build_marts import build_marts
from lake import activities as A
from lake import records as R
from lake.storage import Lake
from lake.table import overwrite, replace_rows, table_exists, upsert
from runlake.settings import Settings

CACHE = Path(__file__).parent / ".cache"
UTC = dt.timezone.utc


def _day_runs(day: dt.date, rng: np.random.Generator, tag: str = "") -> tuple[list[dict], list[pl.DataFrame]]:
    acts, recs = [], []
    sessions = [(6, rng.uniform(40, 80))] + ([(17, rng.uniform(25, 45))] if rng.random() < 0.6 else [])
    if day.weekday() == 6:
        sessions = [(8, rng.uniform(100, 140))]
    for i, (hour, minutes) in enumerate(sessions):
        aid = f"bench-{day.isoformat()}-{i}{tag}"
        start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        n = int(minutes * 60)
        speed = np.clip(rng.normal(4.2, 0.3) + 0.2 * np.sin(np.arange(n) / 300), 2.5, 6.5)
        dist = np.cumsum(speed)
        hr = np.clip(120 + (speed - 3.5) * 25 + np.arange(n) / n * 8 + rng.normal(0, 2, n), 60, 200).astype(np.int32)
        acts.append({
            "activity_id": aid, "athlete_id": "me", "sport": "running", "sub_sport": "generic", "start_time": start,
            "utc_offset_s": 3600, "distance_m": float(dist[-1]), "elapsed_s": float(n), "moving_s": float(n),
            "avg_hr_bpm": float(hr.mean()), "source": "fit", "is_private": False, "is_deleted": False,
        })
        recs.append(pl.DataFrame({
            "athlete_id": "me", "year": np.full(n, start.year, np.int32), "activity_id": aid,
            "seq": np.arange(n, dtype=np.int32),
            "timestamp": pl.datetime_range(start, start + dt.timedelta(seconds=n - 1), "1s", eager=True, time_zone="UTC"),
            "lat_deg": 45.0 + dist / 111000, "lon_deg": np.full(n, 7.0), "distance_m": dist, "speed_mps": speed,
            "altitude_m": 200 + 20 * np.sin(dist / 800), "hr_bpm": hr,
        }))
    return acts, recs


def history_lake(years: int, end: dt.date) -> Lake:
    path = CACHE / f"marts-{years}y"
    lake = Lake.at(str(path))
    if table_exists(lake, A.SPEC):
        return lake
    rng = np.random.default_rng(42)
    day, first = end - dt.timedelta(days=365 * years), True
    while day < end:  # write a month at a time to bound memory
        acts, recs = [], []
        for _ in range(30):
            if day >= end:
                break
            if rng.random() > 0.08:  # ~1 rest day in 12
                a, r = _day_runs(day, rng)
                acts += a
                recs += r
            day += dt.timedelta(days=1)
        frame = A.SPEC.conform(pl.DataFrame(acts))
        records = R.SPEC.conform(pl.concat(recs))
        if first:
            overwrite(lake, A.SPEC, frame)
            overwrite(lake, R.SPEC, records)
            first = False
        else:
            upsert(lake, A.SPEC, frame)
            replace_rows(lake, R.SPEC, records, by="activity_id", values=frame["activity_id"].to_list())
    return lake


def full_build_of_home(home: Path) -> dict:
    """Copy `home` and time `runlake marts build --full` on the copy in a child process."""
    with tempfile.TemporaryDirectory(prefix="bench-marts-") as tmp:
        copy = Path(tmp) / "home"
        shutil.copytree(home, copy)
        env = dict(os.environ, RUNLAKE_HOME=str(copy))
        env.pop("RUNLAKE_LAKE_URI", None)
        cli = Path(sys.executable).with_name("runlake")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run([str(cli), "marts", "build", "--full"], env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_mb": after.ru_maxrss / 1024,  # the largest child so far: the build (the copy ran in-process)
        "output": done.stdout.strip().splitlines()[-3:],
    }


def main_home(home: Path) -> None:
    result = full_build_of_home(home)
    load = os.getloadavg()
    print(f"marts bench on a copy of {home}: runlake marts build --full (public layer included)")
    print(f"  full build: {result['wall_s']:8.2f} s wall, {result['cpu_s']:.2f} s CPU (target <= 15 s wall)")
    print(f"  peak memory of the build: {result['peak_mb']:.0f} MB (ru_maxrss)")
    print(f"  load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for line in result["output"]:
        print(f"  | {line}")


def main() -> None:
    if os.environ.get("BENCH_MARTS_HOME"):
        main_home(Path(os.environ["BENCH_MARTS_HOME"]))
        return
    years = int(os.environ.get("BENCH_YEARS", "1"))
    end = dt.date(2025, 6, 1)
    t0 = time.perf_counter()
    cached = history_lake(years, end)
    gen = time.perf_counter() - t0
    work = CACHE / f"marts-{years}y-work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(cached.root, work)
    lake = Lake.at(str(work))
    settings = Settings(lake_uri=str(work))
    t0 = time.perf_counter()
    full = build_marts(lake, settings, full=True, today=end)
    full_s = time.perf_counter() - t0
    acts, recs = _day_runs(end, np.random.default_rng(7), tag="-new")
    upsert(lake, A.SPEC, A.SPEC.conform(pl.DataFrame(acts)))
    replace_rows(lake, R.SPEC, R.SPEC.conform(pl.concat(recs)), by="activity_id", values=[a["activity_id"] for a in acts])
    t0 = time.perf_counter()
    inc = build_marts(lake, settings, today=end)
    inc_s = time.perf_counter() - t0
    print(f"marts bench: {years} year(s), {full.activities} activities (history ready in {gen:.1f} s)")
    print(f"  full build:        {full_s:8.2f} s")
    print(f"  incremental build: {inc_s:8.2f} s  ({inc.recomputed} activities recomputed, days from {inc.from_day})")
    print(f"  ratio full/incremental: {full_s / inc_s:.1f}x (target >= 10x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
