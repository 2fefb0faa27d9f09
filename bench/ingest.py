"""Ingest benchmark (issues 4 and 9): `runlake ingest fit` against a plain fitparse decode.

For each data set (the shared corpus's readable files; a synthetic history of BENCH_YEARS years)
it measures, in the same run:
  * fitparse: decoding every record message of the same files (values read), single process;
  * start-up: `runlake ingest fit` of one small file into an empty lake (CLI start, imports);
  * ingest: `runlake ingest fit` of all the files into an empty lake;
start-up and ingest BENCH_REPEAT times each (default 3, alternating, medians used)
and prints records/s and the ratio (ingest − start-up) / fitparse (issue 9: ≤ 1/20).
Then `runlake lake rebuild` (issue 9: ≤ 60 s for the 10-year history on the 2-core machine): the
synthetic history of BENCH_REBUILD_YEARS years (default 10; generated once and cached, ~70 s
CPU) is ingested into an empty lake (timed, no fitparse reference: it would take an hour) and
rebuilt, with the peak resident memory of the largest process.

    python -m bench.ingest            # BENCH_YEARS=1, BENCH_REBUILD_YEARS=10 by default
    BENCH_REBUILD_YEARS=0 python -m bench.ingest   # skip the big rebuild
"""

from __future__ import annotations

import os
import resource
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_FIT = REPO.parent / "shared" / "data" / "fit"


def fitparse_decode_seconds(files: list[Path]) -> tuple[float, int]:
    import fitparse

    records = 0
    started = time.perf_counter()
    for path in files:
        for message in fitparse.FitFile(str(path)).get_messages("record"):
            message.get_values()
            records += 1
    return time.perf_counter() - started, records


def fitparse_readable(files: list[Path]) -> list[Path]:
    import fitparse

    readable = []
    for path in files:
        try:
            fitparse.FitFile(str(path)).parse()
        except Exception:  # unreadable by fitparse: not part of the comparison
            continue
        readable.append(path)
    return readable


def linked_home(files: list[Path], home: Path) -> tuple[Path, dict]:
    """A runlake home whose inbox holds hard links to `files` (same bytes, no copy), and the
    environment of a CLI run on it (no developer RUNLAKE_/AWS_ setting leaks in)."""
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    for path in files:
        os.link(path, inbox / path.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
    env["RUNLAKE_HOME"] = str(home)
    return inbox, env


def runlake(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([str(REPO / ".venv" / "bin" / "runlake"), *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def ingest_seconds(files: list[Path], work: Path, repeat: int) -> tuple[list[float], list[float], Path]:
    """(start-up seconds, ingest seconds, lake) for ingesting `files` into an empty lake, `repeat`
    times each (alternating, each into a new lake): on a shared machine one run of either can be
    a second off, which is all of the net figure on the corpus."""
    staged = work / "in"
    staged.mkdir()
    for i, path in enumerate(files):
        target = staged / f"{i:05d}_{path.name}"
        try:
            os.link(path, target)  # cheap; same bytes
        except OSError:
            shutil.copy(path, target)
    smallest = min(files, key=lambda p: p.stat().st_size)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAKE_")}
    env["RUNLAKE_HOME"] = str(work / "home")
    startups, totals = [], []
    for i in range(repeat):
        startups.append(runlake(["ingest", "fit", str(smallest)], {**env, "RUNLAKE_LAKE_URI": str(work / f"startup-lake-{i}")}))
        lake = work / f"lake-{i}"
        totals.append(runlake(["ingest", "fit", str(staged)], {**env, "RUNLAKE_LAKE_URI": str(lake)}))
    return startups, totals, lake


def report(name: str, files: list[Path], work: Path) -> Path:
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    fp_s, records = fitparse_decode_seconds(files)
    startups, totals, lake = ingest_seconds(files, work, repeat)
    startup, total = statistics.median(startups), statistics.median(totals)
    net = max(total - startup, 1e-9)
    runs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    print(f"[ingest] {name}: {len(files)} files, {records:,} records")
    print(f"  fitparse decode      {fp_s:8.2f} s  {records / fp_s:12,.0f} records/s")
    print(f"  runlake ingest       {total:8.2f} s  median of {runs(totals)}")
    print(f"  start-up (1 file)    {startup:8.2f} s  median of {runs(startups)}")
    print(f"  net ingest           {net:8.2f} s  {records / net:12,.0f} records/s")
    print(f"  ratio net ingest / fitparse = 1/{fp_s / net:.1f}  (target ≤ 1/20: {'met' if fp_s / net >= 20 else 'NOT met'})")
    return lake


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, also into a file
    years = float(os.environ.get("BENCH_YEARS", "1"))
    with tempfile.TemporaryDirectory(prefix="runlake-bench-") as tmp:
        work = Path(tmp)
        if SHARED_FIT.is_dir():
            corpus = fitparse_readable(sorted(p for p in SHARED_FIT.glob("*.fit")))
            (work / "corpus").mkdir()
            report("shared corpus (files fitparse reads)", corpus, work / "corpus")
        else:
            print("[ingest] shared corpus not found: skipped")
        from bench.synthetic_cache import cached_history

        history = sorted(cached_history(years).glob("*.fit"))
        (work / "synthetic").mkdir()
        lake = report(f"synthetic history, {years:g} years", history, work / "synthetic")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAKE_")}
        env.update(RUNLAKE_HOME=str(work / "home"), RUNLAKE_LAKE_URI=str(lake))
        seconds = runlake(["lake", "rebuild"], env)
        print(f"  runlake lake rebuild {seconds:8.2f} s  (this history; the goal is for 10 years, below)")
        rebuild_years = float(os.environ.get("BENCH_REBUILD_YEARS", "10"))
        if rebuild_years > 0:
            rebuild_report(rebuild_years, work / "rebuild")


def rebuild_report(years: float, work: Path) -> None:
    from bench.synthetic_cache import cached_history

    folder = cached_history(years)
    files = sorted(folder.glob("*.fit"))
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAKE_")}
    env.update(RUNLAKE_HOME=str(work / "home"), RUNLAKE_LAKE_URI=str(work / "lake"))
    ingest_s = runlake(["ingest", "fit", str(folder)], env)
    records = _records_in(work / "lake")
    rebuild_s = runlake(["lake", "rebuild"], env)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"[rebuild] synthetic history, {years:g} years: {len(files)} files, {records:,} records")
    print(f"  runlake ingest fit   {ingest_s:8.2f} s  {records / ingest_s:12,.0f} records/s (start-up included)")
    print(f"  runlake lake rebuild {rebuild_s:8.2f} s  {records / rebuild_s:12,.0f} records/s  (goal ≤ 60 s for 10 years: {'met' if rebuild_s <= 60 else 'NOT met'})")
    print(f"  peak resident memory of the largest process so far: {peak_mb:,.0f} MB")


def _records_in(lake: Path) -> int:
    import polars as pl

    return pl.scan_delta(str(lake / "records")).select(pl.len()).collect().item()


if __name__ == "__main__":
    sys.exit(main())
