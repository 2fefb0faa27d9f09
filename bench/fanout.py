"""The daily fan-out on the process pool (issue 13): `daily` on a real Prefect server with a
process worker, for N athletes (ATHLETES, default 5) with a few new runs each, against one
`daily-athlete` run of a single athlete measured in the same run.

The Prefect server, the worker and the deploy are the e2e tests' own (tests/e2e/prefect_stack.py),
started on loopback with a temporary PREFECT_HOME and stopped at the end.

    python -m bench.fanout
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.e2e.prefect_stack import BIN, REPO, deployment_run, prefect_server, process_worker, run

RUNS_PER_ATHLETE = 3


def _new_runs(folder: Path, seed: int) -> None:
    from sources.fit.synthetic import write_run

    start = datetime.now(ZoneInfo("Europe/Amsterdam")).replace(hour=7, minute=0, second=0, microsecond=0)
    folder.mkdir(parents=True, exist_ok=True)
    for day in range(1, RUNS_PER_ATHLETE + 1):
        write_run(folder / f"run-{seed}-{day}.fit", start - timedelta(days=day), 8000.0, 270.0, seed=seed * 10 + day)


def _timed(name: str, env: dict, **params: str) -> float:
    started = time.perf_counter()
    done, _ = deployment_run(name, env, **params)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    from pipeline.athletes import inbox_of, resolve_athlete
    from lake.storage import Lake
    from runlake.settings import Settings

    n = int(os.environ.get("ATHLETES", "5"))
    with tempfile.TemporaryDirectory(prefix="runlake-fanout-") as tmp_dir:
        tmp = Path(tmp_dir)
        lake_dir, inbox_dir = tmp / "lake", tmp / "inbox"
        with prefect_server(tmp) as server_env:
            env = {**server_env, "RUNLAKE_HOME": str(tmp / "home"), "RUNLAKE_LAKE_URI": str(lake_dir),
                   "RUNLAKE_INBOX_URI": str(inbox_dir)}
            deployed = run([str(BIN / "runlake"), "deploy", "--scheduled-pool", "local", "--prefect-file",
                            str(REPO / "deployments" / "prefect.yaml")], env, timeout_s=600)
            if deployed.returncode != 0:
                raise RuntimeError(f"runlake deploy failed: {deployed.stdout[-2000:]}{deployed.stderr[-2000:]}")
            handles = [f"bench-{i}" for i in range(1, n)]
            for handle in handles:
                run([str(BIN / "runlake"), "athlete", "add", handle, "--public"], env, timeout_s=180)
            lake, settings = Lake.at(str(lake_dir)), Settings(lake_uri=str(lake_dir), inbox_uri=str(inbox_dir))
            _new_runs(inbox_dir, seed=1)  # the default athlete's inbox
            for i, handle in enumerate(handles, start=2):
                _new_runs(Path(inbox_of(settings, resolve_athlete(lake, settings, handle).athlete_id)), seed=i)
            with process_worker(env, tmp, "bench"):
                one = _timed("daily-athlete/local", env)  # the default athlete alone (its runs ingested here)
                _new_runs(inbox_dir, seed=101)  # new runs for the default athlete too
                fanned = _timed("daily/local", env, maintain="false")
    print(f"fan-out bench: {n} athletes, {RUNS_PER_ATHLETE} new runs each, process pool (limit 4 children at once)")
    print(f"  one athlete's daily-athlete run:   {one:8.1f} s")
    print(f"  daily over {n} athletes (fan-out): {fanned:8.1f} s  ({fanned / one:.1f}x one athlete's run)")


if __name__ == "__main__":
    main()
