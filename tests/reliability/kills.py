"""Support of the kill tests: runs of `runlake` under `tests.reliability.killing_cli`, and the
end state of a lake compared table by table.

A scenario's starting point is one folder holding `lake/` and `home/` (the home holds the
generated keys: the credentials key and the public-id key, so a copy builds the same public ids).
Each run gets a fresh copy of that folder.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lake import registry
from lake.storage import Lake
from lake.table import read
from pipeline.steps.athlete_data import ERASING_PREFIX

REPO = Path(__file__).resolve().parents[2]

#: Columns that legitimately differ between an uninterrupted run and a killed run plus its re-run:
#: wall-clock times of a write, and the sync's own run bookkeeping (a kill after the last commit
#: makes the re-run a genuine second run, incremental instead of full). Every other column of
#: every registered table is compared.
VOLATILE: dict[str, tuple[str, ...]] = {
    "activities": ("updated_at",),  # when the row was (re)written
    "strava_activities": ("synced_at",),
    "private/privacy_marks": ("marked_at",),
    "private/gear": ("added_at", "updated_at"),  # when the sync stored the gear it fetched
    "_meta/migrations": ("applied_at",),
    # Strava rotates the refresh token at every run, and Fernet encrypts with a random IV: the
    # re-run saves another token (that it is saved, and works, the re-run itself shows)
    "private/credentials": ("ciphertext", "updated_at"),
    # the sync's own run bookkeeping: a kill after its last commit makes the re-run a second run
    "strava_sync": ("runs_since_full_listing", "last_full_listing_at", "last_run_at"),
}


#: A fixed public-id key: without it the first public build generates one into the home, and a
#: killed run plus its re-run would publish other ids than the reference (a new key, not a fault).
PUBLIC_ID_SALT = "6b" * 32
#: A fixed key for the credentials in the lake, for the same reason (else generated into the home).
SECRET_KEY = base64.urlsafe_b64encode(b"kill-tests-credentials-key-32byt").decode()


def runlake_env(base: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
    env.update({
        "RUNLAKE_HOME": str(base / "home"),
        "RUNLAKE_LAKE_URI": str(base / "lake"),
        "RUNLAKE_TIMEZONE": "Europe/Amsterdam",
        "RUNLAKE_PUBLIC_ID_SALT": PUBLIC_ID_SALT,
        "RUNLAKE_SECRET_KEY": SECRET_KEY,
        "COLUMNS": "200",
    })
    env.update(extra)
    return env


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    commits: list[str]  # one line per commit made: "<n> <operation> <table uri>"
    seconds: float
    commit_times: list[float]  # seconds after the start

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def _commits(log: Path) -> tuple[list[str], list[float]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.rsplit(" ", 1)[0] for line in lines], [float(line.rsplit(" ", 1)[1]) for line in lines]


class ForkServer:
    """`killing_cli --serve` in a subprocess: one forked `runlake` process per `run`."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.killing_cli", "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)

    def run(self, args: tuple[str, ...], base: Path, env: dict[str, str], *, after: int = 0, kill_at_s: float | None = None) -> Run:
        """One `runlake` process on the lake and home under `base`: killed after its `after`-th
        commit, or (its whole process group) `kill_at_s` seconds after its start, or neither."""
        tag = time.monotonic_ns()
        log, out, err = (base / f"run-{tag}.{suffix}" for suffix in ("commits", "out", "err"))
        job = {"args": list(args), "env": env, "cwd": str(REPO), "after": after, "log": str(log), "stdout": str(out),
               "stderr": str(err), "kill_at_s": kill_at_s}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        assert answer, "the fork server died"
        result = json.loads(answer)
        commits, times = _commits(log)
        return Run(result["returncode"], out.read_text(), err.read_text(), commits, result["seconds"], times)


def fresh_copy(start: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(start, dest, symlinks=True)
    return dest


# --- the end state -----------------------------------------------------------------------------


def lake_state(lake_root: Path) -> dict[str, pl.DataFrame]:
    """Every registered table's rows sorted by its key (volatile columns dropped), plus the list
    of files of the raw archive and of erasures under way as a table `raw/*`. A table that does not exist reads as no rows."""
    lake = Lake.at(str(lake_root))
    state: dict[str, pl.DataFrame] = {}
    for spec in registry.ALL:
        frame = read(lake, spec).drop(VOLATILE.get(spec.name, ()), strict=False)
        state[spec.name] = frame.sort(list(spec.key), nulls_last=True)
    raw_files = sorted(
        str(p.relative_to(lake_root)) for prefix in (*registry.RAW_PREFIXES, ERASING_PREFIX)
        for p in (lake_root / prefix).rglob("*") if p.is_file()
    )
    state["raw/*"] = pl.DataFrame({"path": raw_files}, schema={"path": pl.String})
    return state


def duplicates(lake_root: Path) -> dict[str, int]:
    """Rows whose key another row of the same table has, per table (only tables that have some)."""
    lake = Lake.at(str(lake_root))
    found = {}
    for spec in registry.ALL:
        n = int(read(lake, spec).select(list(spec.key)).is_duplicated().sum())
        if n:
            found[spec.name] = n
    return found


#: Floats may differ in their last bits: a parallel `group_by(...).mean()` adds in any order.
FLOAT_TOLERANCE = 1e-9


def _differ(have: pl.Series, want: pl.Series) -> pl.Series:
    """Per row: whether the values differ (nulls equal; floats within `FLOAT_TOLERANCE`, relative)."""
    if have.dtype.is_float() and want.dtype.is_float():
        scale = want.abs().clip(lower_bound=1.0)
        close = ((have - want).abs() <= scale * FLOAT_TOLERANCE) | (have.is_nan() & want.is_nan())
        return ~(close.fill_null(False) | (have.is_null() & want.is_null()))
    return have.ne_missing(want)


def differences(expected: dict[str, pl.DataFrame], got: dict[str, pl.DataFrame]) -> dict[str, str]:
    """Per table, what differs: rows lost, rows extra, or the columns whose values differ."""
    found = {}
    for name, want in expected.items():
        have = got[name]
        if have.equals(want, null_equal=True):
            continue
        if have.columns != want.columns:
            found[name] = f"columns {want.columns} expected, {have.columns} found"
            continue
        if have.height != want.height:
            found[name] = f"{want.height} rows expected, {have.height} found"
            continue
        columns = [c for c in want.columns if _differ(have[c], want[c]).any()]
        if not columns:
            continue
        detail = []
        for c in columns:
            differ = _differ(have[c], want[c])
            example = want.filter(differ).head(1).to_dicts()[0]
            detail.append(f"{c} in {int(differ.sum())} rows, e.g. expected {example[c]!r}, found {have.filter(differ)[c][0]!r} "
                          f"at {({k: example[k] for k in want.columns[:4]})}")
        found[name] = "values differ: " + "; ".join(detail)
    return found
