"""Whole-history benchmark (issue 16, items 1 and 4): the 10-year history from raw, then one new day.

On the synthetic history of BENCH_HISTORY_YEARS years (default 10; cached, bench/synthetic_cache.py;
or any folder of FIT files named by the generator, BENCH_HISTORY_DIR) it measures, in the same run:

  * reference: a plain fitparse decode of BENCH_HISTORY_SAMPLE files (default 40) spread evenly
    over the years (record messages, values read; records/s);
  * setup (timed, for information): `runlake ingest fit` of the whole inbox but its last day into
    an empty lake;
  * item 1: `runlake lake rebuild`, then `runlake marts build --full` (the real CLI, public layer
    included): wall time of each and both, peak resident memory of each (the largest process of
    its tree, from `wait4`), and the ratio history records / (rebuild + marts seconds) against
    fitparse records/s (goal ≥ 50×);
  * item 4: the CLI's start-up (`runlake ingest fit` of one already-known inbox file, median of
    BENCH_REPEAT, default 3), then the held-back last day's files dropped into the inbox and
    `runlake ingest fit` + `runlake marts build` (what the daily run does: ingest, then the
    marts and their public rows): work beyond start-up = both − 2 × start-up (each command pays
    one start-up) (goal ≤ 5 s). A `runlake marts build` with nothing new follows, for information.

    python -m bench bench.history
    BENCH_HISTORY_DIR=/tmp/inbox10 python -m bench.history
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import REPO, _records_in, fitparse_decode_seconds, linked_home

RATIO_GOAL = 50.0
DAY_GOAL_S = 5.0
#: CPU seconds (user + system) of the last run of each command, by its arguments.
CPU_SECONDS: dict[str, float] = {}
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})_")


def run_with_peak(args: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak resident MB of the largest process of its tree, stdout) of one runlake
    command, waited for with `wait4` so the peak is this command's own. Its CPU seconds (user +
    system, with its worker processes) are added to `CPU_SECONDS` under the command's name."""
    out_file = tempfile.TemporaryFile(mode="w+")
    err_file = tempfile.TemporaryFile(mode="w+")
    started = time.perf_counter()
    proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "runlake"), *args], env=env, stdout=out_file, stderr=err_file)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out_file.seek(0)
    err_file.seek(0)
    out, err = out_file.read(), err_file.read()
    out_file.close()
    err_file.close()
    if proc.returncode != 0:
        raise RuntimeError(f"runlake {' '.join(args)} exited {proc.returncode}: {err.strip()[-2000:]}")
    CPU_SECONDS[" ".join(args)] = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, out


def history_files() -> tuple[str, list[Path]]:
    folder = os.environ.get("BENCH_HISTORY_DIR")
    if folder:
        return f"FIT files of {folder}", sorted(Path(folder).glob("*.fit"))
    from bench.synthetic_cache import cached_history

    years = float(os.environ.get("BENCH_HISTORY_YEARS", "10"))
    return f"synthetic history, {years:g} years", sorted(cached_history(years).glob("*.fit"))


def split_last_day(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """(every file but the last day's, the last day's files), by the generator's `YYYY-MM-DD_` names."""
    days = [_DAY.match(p.name) for p in files]
    if not all(days):
        raise RuntimeError("the history's files are not named YYYY-MM-DD_...: cannot tell its last day")
    last = max(m.group(1) for m in days)
    return ([p for p, m in zip(files, days, strict=True) if m.group(1) != last],
            [p for p, m in zip(files, days, strict=True) if m.group(1) == last])


def spread_sample(files: list[Path], n: int) -> list[Path]:
    """`n` files evenly spread over the (time-ordered) history."""
    if len(files) <= n:
        return list(files)
    return [files[round(i * (len(files) - 1) / (n - 1))] for i in range(n)]


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    name, files = history_files()
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    history, new_day = split_last_day(files)
    sample = spread_sample(history, int(os.environ.get("BENCH_HISTORY_SAMPLE", "40")))
    print(f"[history] {name}: {len(files)} files; load average at the start: {_load()}")

    cpu_before = time.process_time()
    fp_s, fp_records = fitparse_decode_seconds(sample)
    fp_cpu = time.process_time() - cpu_before
    fp_rate = fp_records / fp_s
    print(f"  fitparse decode of {len(sample)} files spread over the years: {fp_records:,} records in {fp_s:.2f} s "
          f"= {fp_rate:,.0f} records/s (reference; CPU {fp_cpu:.1f} s)")

    with tempfile.TemporaryDirectory(prefix="runlake-bench-history-") as tmp:
        home = Path(tmp) / "home"
        inbox, env = linked_home(history, home)

        ingest_s, ingest_mb, _ = run_with_peak(["ingest", "fit"], env)
        print(f"  setup: runlake ingest fit, {len(history)} files (all but the last day) {ingest_s:8.2f} s, "
              f"peak {ingest_mb:,.0f} MB (not part of the ratio)")
        rebuild_s, rebuild_mb, _ = run_with_peak(["lake", "rebuild"], env)
        records = _records_in(home / "lake")
        print(f"[history] item 1, whole history from raw: {len(history)} files, {records:,} records")
        print(f"  runlake lake rebuild         {rebuild_s:8.2f} s  {records / rebuild_s:12,.0f} records/s  peak {rebuild_mb:,.0f} MB"
              f"  CPU {CPU_SECONDS['lake rebuild']:.1f} s")
        marts_s, marts_mb, _ = run_with_peak(["marts", "build", "--full"], env)
        both = rebuild_s + marts_s
        rate = records / both
        ratio = rate / fp_rate
        print(f"  runlake marts build --full   {marts_s:8.2f} s  {records / marts_s:12,.0f} records/s  peak {marts_mb:,.0f} MB"
              f"  CPU {CPU_SECONDS['marts build --full']:.1f} s  (goal ≤ 15 s: {'met' if marts_s <= 15 else 'NOT met'})")
        print(f"  rebuild + marts              {both:8.2f} s  {rate:12,.0f} records/s")
        print(f"  fitparse (reference)                    {fp_rate:12,.0f} records/s")
        print(f"  ratio (rebuild + marts) / fitparse = {ratio:.1f}×  (goal ≥ {RATIO_GOAL:g}×: "
              f"{'met' if ratio >= RATIO_GOAL else 'NOT met'})")
        cpu = CPU_SECONDS["lake rebuild"] + CPU_SECONDS["marts build --full"]
        print(f"  on a loaded machine, per CPU second: rebuild + marts {records / cpu:,.0f} records/CPU-s, fitparse "
              f"{fp_records / fp_cpu:,.0f}: {records / cpu / (fp_records / fp_cpu):.1f}× (information; the goal is on wall time)")

        day(env, inbox, history[0], new_day, repeat)
    print(f"[history] load average at the end: {_load()}")


def day(env: dict, inbox: Path, known: Path, new_day: list[Path], repeat: int) -> None:
    """Item 4: one day's new runs into the lake, against the CLI's start-up."""
    startups = [run_with_peak(["ingest", "fit", str(inbox / known.name)], env)[0] for _ in range(repeat)]
    startup = statistics.median(startups)
    for path in new_day:
        os.link(path, inbox / path.name)
    ingest_s, _, ingest_out = run_with_peak(["ingest", "fit"], env)
    marts_s, _, marts_out = run_with_peak(["marts", "build"], env)
    again_s, _, _ = run_with_peak(["marts", "build"], env)
    net = ingest_s + marts_s - 2 * startup
    runs = ", ".join(f"{x:.2f}" for x in startups)
    print(f"[history] item 4, a day's new runs ({len(new_day)} files) into the lake")
    print(f"  start-up: runlake ingest fit <one known file>  {startup:6.2f} s  median of {runs}")
    print(f"  runlake ingest fit (inbox)                     {ingest_s:6.2f} s  {ingest_out.strip().splitlines()[-1]}")
    print(f"  runlake marts build (incremental + public)     {marts_s:6.2f} s  {marts_out.strip().splitlines()[-1]}")
    print(f"  runlake marts build, nothing new (information) {again_s:6.2f} s")
    print(f"  work beyond start-up = {ingest_s:.2f} + {marts_s:.2f} − 2 × {startup:.2f} = {net:.2f} s  "
          f"(goal ≤ {DAY_GOAL_S:g} s: {'met' if net <= DAY_GOAL_S else 'NOT met'})")


if __name__ == "__main__":
    sys.exit(main())
