"""Storage faults (issue 17 item 2): the real CLI against moto S3 through the fault proxy.

Every command runs as a user runs it (`python -m flows.cli …`, a subprocess) with
`RUNLAKE_LAKE_URI=s3://…` and `AWS_ENDPOINT_URL` pointing at `fault_proxy.FaultProxy` (in its own process), which
answers 5xx, slows, drops, loses answers (after S3 applied the request) and stalls past the client
timeout on a seeded share of requests. Each faulted run either ends like a fault-free run of the
same commands (same keys in every table, no duplicate, same marts and public values) or fails with
one clear line (exit non-zero, no traceback); a run that failed is run again and must then end
like the fault-free one. Meanwhile a reader, straight on moto (not through the proxy), loads the
API's snapshot and reads the private tables over and over: it must never see a half-written state
(duplicate keys, an activity without its records, a read that fails).

Concurrency: commits go through the proxy, which forwards PUTs under `_delta_log/` one at a time
(moto's conditional put is not atomic; serialised, a commit race behaves as on real S3). These
tests run one writer at a time anyway; the reader never writes.

The client timeout is shortened for the tests (`RUNLAKE_S3_TIMEOUT_S=2`) so a stall of 6 s is
longer than it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import polars as pl
import pytest
from cryptography.fernet import Fernet

from lake import activities as activities_table
from lake import records as records_table
from lake import registry
from lake.storage import Lake
from lake.table import TableSpec, delete_rows, overwrite, read, replace_rows, replace_where, table_exists, upsert
from runlake.settings import Settings
from sources.fit.synthetic.single import write_run
from tests.reliability.fault_proxy import ProxyProcess, Schedule
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava

#: Real servers (moto, the proxy, the CLI): run after the parallel suite, one at a time (`make test`).
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.long]

REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = Fernet.generate_key().decode()
SALT = "storage-faults-test-salt-" + "x" * 24
TODAY = "2025-03-20"

#: Columns that say when a row was written, not what it holds: times, the hashes of rows that hold
#: them (the marts' and public build's `fingerprint`), and the Strava token's Fernet ciphertext
#: (fresh at every save). They differ between any two runs.
VOLATILE = ("_at", "ciphertext", "fingerprint")


def volatile(column: str) -> bool:
    return column.endswith(VOLATILE) and column != "settings_fingerprint"


# --- set-up ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fit_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fit")
    start = datetime(2025, 3, 10, 7, 0, tzinfo=timezone.utc)
    write_run(root / "a.fit", start, 3000)
    write_run(root / "b.fit", start + timedelta(days=1), 2500, seed=1)
    write_run(root / "c.fit", start + timedelta(days=3), 2000, seed=2, gps=False)
    return root


@pytest.fixture(scope="module")
def proxy(moto_server):
    with ProxyProcess(moto_server["AWS_ENDPOINT_URL"]) as p:
        yield p


@pytest.fixture(scope="module")
def strava():
    with FakeStrava(make_history(4, duration_s=120, start=datetime(2025, 3, 18, 6, 30, tzinfo=timezone.utc))) as server:
        yield server


def new_bucket(moto_server) -> str:
    name = f"faults-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto_server["AWS_ENDPOINT_URL"], region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing-secret").create_bucket(Bucket=name)
    return f"s3://{name}/lake"


def cli_env(tmp: Path, lake_uri: str, endpoint: str, moto_server, strava: FakeStrava) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
    env.update(moto_server)
    env.update({
        "AWS_ENDPOINT_URL": endpoint,
        "RUNLAKE_HOME": str(tmp / "home"),
        "RUNLAKE_LAKE_URI": lake_uri,
        "RUNLAKE_SECRET_KEY": SECRET_KEY,
        "RUNLAKE_PUBLIC_ID_SALT": SALT,
        "RUNLAKE_STRAVA_URL": strava.url,
        "RUNLAKE_STRAVA_CLIENT_ID": strava.client_id,
        "RUNLAKE_STRAVA_CLIENT_SECRET": strava.client_secret,
        "RUNLAKE_S3_TIMEOUT_S": "2",
        "RUNLAKE_S3_MAX_RETRIES": "10",
        "RUNLAKE_S3_RETRY_TIMEOUT_S": "40",
        "COLUMNS": "200",
    })
    return env


def runlake(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=240)


def commands(fit_folder: Path, strava: FakeStrava) -> list[tuple[str, ...]]:
    """The day's work: FIT ingest, Strava sync, the marts and public build."""
    return [
        ("ingest", "fit", str(fit_folder)),
        ("sync", "strava"),
        ("marts", "build", "--today", TODAY),
    ]


def direct_lake(moto_server, lake_uri: str) -> Lake:
    """The lake straight on moto, not through the proxy (the reader's and the checks' view)."""
    return Lake.at(lake_uri, env=moto_server)


# --- what a lake holds ------------------------------------------------------------------------------


def end_state(lake: Lake) -> dict[str, pl.DataFrame]:
    """Every registered table that exists, without the write-time columns, sorted by its key."""
    state = {}
    for spec in registry.ALL:
        if spec.name == "_meta/migrations" or not table_exists(lake, spec):
            continue
        frame = read(lake, spec)
        frame = frame.drop([c for c in frame.columns if volatile(c)])
        state[spec.name] = frame.sort(list(spec.key)) if spec.key else frame.sort(frame.columns)
    return state


def duplicates(lake: Lake) -> dict[str, int]:
    out = {}
    for spec in registry.ALL:
        if spec.key and table_exists(lake, spec):
            frame = read(lake, spec)
            out[spec.name] = frame.height - frame.select(spec.key).unique().height
    return out


class Reader(threading.Thread):
    """Reads the lake over and over while a command writes it, as the API and the dashboard do."""

    def __init__(self, lake: Lake, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.lake, self.settings = lake, settings
        self.stop = threading.Event()
        self.reads = 0
        self.half_written: list[str] = []

    def run(self) -> None:
        from api.snapshot import load_snapshot, watched_versions

        while not self.stop.is_set():
            try:
                load_snapshot(self.lake, self.settings, watched_versions(self.lake))
                self._check_private()
            except Exception as exc:  # noqa: BLE001 — a failing read is what the test counts, then reports
                self.half_written.append(f"read failed: {type(exc).__name__}: {exc}")
            self.reads += 1

    def _check_private(self) -> None:
        for name, count in duplicates(self.lake).items():
            if count:
                self.half_written.append(f"{name}: {count} duplicate keys")
        acts = read(self.lake, activities_table.SPEC)
        recs = read(self.lake, records_table.SPEC).select("activity_id").unique()
        orphans = acts.filter(pl.col("source") == "fit").join(recs, on="activity_id", how="anti")
        if orphans.height:
            self.half_written.append(f"{orphans.height} FIT activities without records")


def assert_clear_failure(proc: subprocess.CompletedProcess) -> None:
    """Exit non-zero with one `runlake:` line naming S3 and no traceback (`marts build` adds its
    own summary line, "marts build failed for <athlete> …")."""
    assert proc.returncode != 0, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert all(line.startswith("runlake:") for line in lines), proc.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("runlake: marts build failed for")), proc.stderr
    assert "S3" in lines[0] or "endpoint URL" in lines[0], lines[0]


def run_day(env: dict, fit_folder: Path, strava: FakeStrava, reader: Reader | None = None, attempts: int = 3):
    """Each command until it succeeds (at most `attempts` runs); returns [(command, runs, failures)].

    A failed run must have said so in one line, without a traceback."""
    env = {**env, "RUNLAKE_STRAVA_REFRESH_TOKEN": strava.issue_refresh_token()}
    results = []
    if reader:
        reader.start()
    try:
        for command in commands(fit_folder, strava):
            failures = []
            started = time.monotonic()
            for _ in range(attempts):
                proc = runlake(*command, env=env)
                if proc.returncode == 0:
                    break
                failures.append(proc)
            else:
                raise AssertionError(f"{' '.join(command)} failed {attempts} times; last: {failures[-1].stderr}")
            for failed in failures:
                assert_clear_failure(failed)
            results.append((" ".join(command[:2]), len(failures) + 1, round(time.monotonic() - started, 1),
                            [f.stderr.strip() for f in failures]))
    finally:
        if reader:
            reader.stop.set()
            reader.join(60)
    return results


@pytest.fixture(scope="module")
def fault_free(moto_server, proxy, fit_folder, strava, tmp_path_factory) -> dict[str, pl.DataFrame]:
    """The end state of the day's commands run without a fault (through the proxy, faults off)."""
    proxy.use(Schedule())
    uri = new_bucket(moto_server)
    env = cli_env(tmp_path_factory.mktemp("clean"), uri, proxy.url, moto_server, strava)
    results = run_day(env, fit_folder, strava, attempts=1)
    assert [r[1] for r in results] == [1, 1, 1]
    print(f"\nFAULT-FREE runs {results}")
    state = end_state(direct_lake(moto_server, uri))
    assert state["activities"].height == 3 + 4 and state["public/activities"].height > 0
    return state


def assert_same(state: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    assert sorted(state) == sorted(expected)
    for name, frame in expected.items():
        got = state[name]
        differing = [c for c in frame.columns if c not in got.columns or got.height != frame.height or not got[c].equals(frame[c])]
        assert got.equals(frame), (f"{name} differs from the fault-free run in {differing}:\n"
                                   f"{got.select(differing).rows()}\n{frame.select(differing).rows()}")


# --- the faults -----------------------------------------------------------------------------------

SCHEDULES = {
    "5xx, slow, dropped and stalled": Schedule(seed=1, shares={"error": 0.08, "slow": 0.05, "drop": 0.04, "stall": 0.01}),
    "lost answers (the first 8 commits, then 3%)": Schedule(seed=4, shares={"lost": 0.03}, first_commits=("lost",) * 8),
}


@pytest.mark.parametrize("fault", list(SCHEDULES))
def test_a_day_under_storage_faults_ends_like_a_fault_free_day(fault, moto_server, proxy, fit_folder, strava, fault_free,
                                                                 tmp_path):
    uri = new_bucket(moto_server)
    env = cli_env(tmp_path, uri, proxy.url, moto_server, strava)
    lake = direct_lake(moto_server, uri)
    reader = Reader(lake, Settings(lake_uri=uri, public_id_salt=SALT, secret_key=SECRET_KEY))
    proxy.use(SCHEDULES[fault])
    results = run_day(env, fit_folder, strava, reader=reader)
    injected, requests = proxy.injected, proxy.requests
    proxy.use(Schedule())

    assert sum(injected.values()) > 0, "no fault was injected"
    assert reader.reads > 0 and reader.half_written == []
    assert all(count == 0 for count in duplicates(lake).values()), duplicates(lake)
    assert_same(end_state(lake), fault_free)
    print(f"\nFAULTS {fault}: {requests} requests, injected {injected}, runs {results}, reader reads {reader.reads}")


# --- a commit whose answer is lost ------------------------------------------------------------------

SCHEMA = pl.Schema({"k": pl.Int64, "grp": pl.String, "v": pl.Int64})


def rows(*triples) -> pl.DataFrame:
    return pl.DataFrame(list(triples), schema=SCHEMA, orient="row")


@pytest.mark.parametrize("fault", ["lost", "drop", "stall"])
def test_a_commit_whose_answer_is_lost_is_not_written_twice(fault, moto_server, proxy):
    """Every way lake/table.py writes a table (the only code that writes Delta), with its commit
    hit by `fault`. `lost`: S3 stored the commit but the answer never came; the client's retried
    PUT gets 412, and delta-rs either commits the same actions again (the same file paths, which
    the log counts once) or raises `CommitFailedError`. `drop` and `stall`: the PUT of the commit
    fails (object_store does not retry a conditional PUT) and the commit may or may not be
    stored. `with_commit_retry` runs the write again from a fresh read, and a merge on the key, a
    predicate overwrite and a delete give the same rows the second time. No app transaction is
    needed for that; this proves it per write."""
    uri = new_bucket(moto_server)
    lake = Lake.at(uri, env={**moto_server, "AWS_ENDPOINT_URL": proxy.url},
                   credentials={"timeout": "2s", "max_retries": "3", "retry_timeout": "30s"})
    reader = direct_lake(moto_server, uri)
    spec = TableSpec(f"faults/{fault}", "one row per k", SCHEMA, key=("k",))
    proxy.use(Schedule())
    upsert(lake, spec, rows((1, "a", 1)))  # the lake's first write also stamps its version: no fault
    steps = [
        (lambda: upsert(lake, spec, rows((1, "a", 10), (2, "a", 2))), [(1, "a", 10), (2, "a", 2)]),
        (lambda: replace_rows(lake, spec, rows((3, "b", 3), (4, "b", 4)), by="grp", values=["b"]),
         [(1, "a", 10), (2, "a", 2), (3, "b", 3), (4, "b", 4)]),
        (lambda: replace_where(lake, spec, rows((2, "a", 20)), "grp = 'a'"), [(2, "a", 20), (3, "b", 3), (4, "b", 4)]),
        (lambda: delete_rows(lake, spec, "k = 3"), [(2, "a", 20), (4, "b", 4)]),
        (lambda: overwrite(lake, spec, rows((5, "c", 5), (6, "c", 6)), predicate="grp = 'c'"),
         [(2, "a", 20), (4, "b", 4), (5, "c", 5), (6, "c", 6)]),
        (lambda: overwrite(lake, spec, rows((7, "d", 7))), [(7, "d", 7)]),
    ]
    for step, (write, expected) in enumerate(steps):
        proxy.use(Schedule(first_commits=(fault,), stall_s=3))
        write()
        assert proxy.injected.get(fault) == 1, f"step {step}: no commit was hit"
        assert read(reader, spec).sort("k").equals(rows(*expected)), f"step {step}"
    proxy.use(Schedule())


# --- an outage ------------------------------------------------------------------------------------




def test_an_outage_mid_command_fails_with_one_line_and_a_rerun_finishes(moto_server, proxy, fit_folder, strava,
                                                                        fault_free, tmp_path):
    """S3 answers 5xx to everything from some point of `ingest fit` on, and later stops answering
    at all in `marts build`: each fails with one line within its bounded retries; run again once
    S3 is back, the day ends like the fault-free one, and the reader never saw a half-written state."""
    uri = new_bucket(moto_server)
    env = cli_env(tmp_path, uri, proxy.url, moto_server, strava)
    env["RUNLAKE_STRAVA_REFRESH_TOKEN"] = strava.issue_refresh_token()
    short = {**env, "RUNLAKE_S3_MAX_RETRIES": "2", "RUNLAKE_S3_RETRY_TIMEOUT_S": "6"}  # the outage's runs give up sooner
    lake = direct_lake(moto_server, uri)
    reader = Reader(lake, Settings(lake_uri=uri, public_id_salt=SALT, secret_key=SECRET_KEY))
    ingest, sync, marts = commands(fit_folder, strava)
    reader.start()
    try:
        proxy.use(Schedule(shares={"error": 1.0}, start_after=60))
        started = time.monotonic()
        assert_clear_failure(runlake(*ingest, env=short))
        print(f"\nOUTAGE 5xx: ingest failed after {time.monotonic() - started:.1f} s, {proxy.requests} requests")
        proxy.use(Schedule())
        for command in (ingest, sync):
            assert runlake(*command, env=env).returncode == 0
        proxy.use(Schedule(shares={"stall": 1.0}, start_after=60))
        started = time.monotonic()
        assert_clear_failure(runlake(*marts, env=short))
        print(f"OUTAGE stall: marts build failed after {time.monotonic() - started:.1f} s, {proxy.requests} requests")
        proxy.use(Schedule())
        assert runlake(*marts, env=env).returncode == 0
    finally:
        reader.stop.set()
        reader.join(60)
    assert reader.reads > 0 and reader.half_written == []
    assert_same(end_state(lake), fault_free)
