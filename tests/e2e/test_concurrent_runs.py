"""Concurrent flow runs for one athlete on a real Prefect server: nothing lost, nothing doubled.

A `daily` run and ad-hoc `prefect deployment run`s of `ingest-fit`, `sync-strava` and
`build-marts` (two of each) are started at once for the same (default) athlete, on one process
worker that runs them all as concurrent subprocesses. The test holds the athlete's lease while
they start, so every ad-hoc run must meet a busy lease: each must log "waiting for the lease"
and go on once it is free, not fail. Then every run must end Completed, `runlake lake check`
must exit 0, no table may hold a duplicate key, and the lake's end state (activity ids, records
and laps per activity, the daily sums of `marts/daily_load`) must equal that of the same inputs
run one after the other with the CLI.

Inputs: two synthetic FIT files already ingested before the race, two more new in the inbox,
and four activities on a fake Strava server (running in this test process) that nobody has
synced yet — so the first ingest, the first sync and the first marts build of the race each have
real work, and the others must find it done.

One server, one worker; everything started is stopped in fixture teardown.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lake import lease
from lake.storage import Lake
from tests.e2e.lake_state import duplicate_keys, lake_state
from tests.e2e.prefect_stack import BIN, REPO, TERMINAL, Api, prefect_server, process_worker, run
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

ATHLETE = "me"  # the default athlete: every run below works on it
AD_HOC = ("ingest-fit/local", "sync-strava/local", "build-marts/local") * 2
WAITING = "waiting for the lease of athlete"


def synthetic_fits(folder: Path) -> list[Path]:
    """Four short runs on four mornings, from the project's own FIT generator."""
    from sources.fit.synthetic import write_run

    start = datetime.now(ZoneInfo("Europe/Amsterdam")).replace(hour=6, minute=30, second=0, microsecond=0)
    return [
        write_run(folder / f"run-{i}.fit", start - timedelta(days=4 - i), 2000.0 + 500 * i, 300.0 - 10 * i, seed=20 + i)
        for i in range(4)
    ]


def lake_env(base: dict[str, str], tmp: Path, name: str, strava: FakeStrava) -> dict[str, str]:
    """RUNLAKE_* of one lake: its own home, lake, inbox and Strava refresh token."""
    return {
        **base,
        "RUNLAKE_HOME": str(tmp / f"home-{name}"),
        "RUNLAKE_LAKE_URI": str(tmp / f"lake-{name}"),
        "RUNLAKE_INBOX_URI": str(tmp / f"inbox-{name}"),
        "RUNLAKE_STRAVA_URL": strava.url,
        "RUNLAKE_STRAVA_CLIENT_ID": strava.client_id,
        "RUNLAKE_STRAVA_CLIENT_SECRET": strava.client_secret,
        "RUNLAKE_STRAVA_REFRESH_TOKEN": strava.issue_refresh_token(),
    }


def settings_of(env: dict[str, str]):
    """The Settings a command started with `env` would read (built here, in-process)."""
    from runlake.settings import Settings

    return Settings(
        home=Path(env["RUNLAKE_HOME"]), lake_uri=env["RUNLAKE_LAKE_URI"], inbox_uri=env["RUNLAKE_INBOX_URI"],
        strava_url=env["RUNLAKE_STRAVA_URL"], strava_client_id=env["RUNLAKE_STRAVA_CLIENT_ID"],
        strava_client_secret=env["RUNLAKE_STRAVA_CLIENT_SECRET"], strava_refresh_token=env["RUNLAKE_STRAVA_REFRESH_TOKEN"],
    )


def ingest_inbox(env: dict[str, str]) -> None:
    """What `runlake ingest fit` does, in this process (no Python start-up to pay on a busy machine)."""
    from pipeline.lake_access import open_lake
    from pipeline.steps.ingest_fit import ingest_fit_files, resolve_inputs

    settings = settings_of(env)
    items, options = resolve_inputs(settings, None)
    ingest_fit_files(open_lake(settings), settings, items, read_options=options)


def prepare(env: dict[str, str], fits: list[Path]) -> None:
    """The first two FIT files ingested, the other two waiting in the inbox."""
    inbox = Path(env["RUNLAKE_INBOX_URI"])
    inbox.mkdir(parents=True)
    for fit in fits[:2]:
        shutil.copy(fit, inbox)
    ingest_inbox(env)
    for fit in fits[2:]:
        shutil.copy(fit, inbox)


def serial_run(env: dict[str, str]) -> None:
    """The reference: ingest, Strava sync, marts, one after the other (the CLI's functions)."""
    from pipeline.lake_access import open_lake
    from pipeline.steps.build_marts import build_marts
    from pipeline.strava_sync import sync_strava

    ingest_inbox(env)
    settings = settings_of(env)
    sync_strava(open_lake(settings), settings)
    build_marts(open_lake(settings), settings)


def wait_for_log(api: Api, run_ids: list[str], text: str, timeout_s: float, diagnose) -> None:
    """Until every run's log holds `text` (a run that ends first fails the wait at once)."""
    deadline = time.monotonic() + timeout_s
    pending = set(run_ids)
    while pending:
        for run_id in sorted(pending):
            if text in api.logs(run_id):
                pending.discard(run_id)
            elif api.flow_run(run_id)["state"]["type"] in TERMINAL:
                raise AssertionError(f"run {run_id} ended before it logged {text!r}: {api.logs(run_id)}\n{diagnose()}")
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"runs {sorted(pending)} did not log {text!r} within {timeout_s} s\n{diagnose()}")
        time.sleep(2)


@pytest.fixture(scope="module")
def strava():
    with FakeStrava(make_history(4, duration_s=180)) as server:
        yield server


@pytest.fixture(scope="module")
def stack():
    """A Prefect server with runlake's deployments, in a folder of this module's own (pytest's
    numbered temp folders are shared with every other pytest run on the machine)."""
    tmp = Path(tempfile.mkdtemp(prefix="runlake-e2e-concurrent-"))
    try:
        with prefect_server(tmp, start_timeout_s=420) as base:  # a busy shared machine: minutes, not seconds
            deployed = run(
                [str(BIN / "runlake"), "deploy", "--scheduled-pool", "none", "--prefect-file", str(REPO / "deployments" / "prefect.yaml")],
                base, timeout_s=600,
            )
            assert deployed.returncode == 0, deployed.stdout + deployed.stderr
            yield tmp, base
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def worker_log(tmp: Path) -> str:
    return (tmp / "worker-concurrent.log").read_text()[-6000:]


def test_daily_and_ad_hoc_runs_of_one_athlete_at_once(stack, strava):
    tmp, base = stack
    clock = time.monotonic()
    fits = synthetic_fits(tmp / "generated")
    serial, concurrent = lake_env(base, tmp, "serial", strava), lake_env(base, tmp, "concurrent", strava)
    prepare(serial, fits)
    serial_run(serial)
    expected = lake_state(Lake.at(serial["RUNLAKE_LAKE_URI"]))
    assert len(expected["activity_ids"]) == 8 and expected["daily_load"], expected

    prepare(concurrent, fits)
    lake = Lake.at(concurrent["RUNLAKE_LAKE_URI"])
    api = Api(base["PREFECT_API_URL"])
    print(f"setup {time.monotonic() - clock:.0f} s")
    clock = time.monotonic()
    with process_worker(concurrent, tmp, "concurrent"):
        # Every run is created while the athlete is busy (what `prefect deployment run` posts:
        # one create_flow_run per run), so each ad-hoc run must meet the lease and wait.
        with lease.acquire(lake, ATHLETE, "e2e test holding the lease", wait_s=0):
            daily_id = api.create_run("daily/local")
            ad_hoc_ids = [api.create_run(name) for name in AD_HOC]
            wait_for_log(api, ad_hoc_ids, WAITING, timeout_s=300, diagnose=lambda: worker_log(tmp))
            print(f"all {len(ad_hoc_ids)} ad-hoc runs waiting after {time.monotonic() - clock:.0f} s")
        finished = {run_id: api.wait(run_id, timeout_s=300) for run_id in [daily_id, *ad_hoc_ids]}
    print(f"all runs final after {time.monotonic() - clock:.0f} s")

    states = {f"{r['name']} ({run_id})": r["state"]["type"] for run_id, r in finished.items()}
    logs = {run_id: api.logs(run_id) for run_id, r in finished.items() if r["state"]["type"] != "COMPLETED"}
    assert set(states.values()) == {"COMPLETED"}, (states, logs, worker_log(tmp))
    children = api.post("flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [daily_id]}}})
    child_states = {c["name"]: c["state"]["type"] for c in children}  # maintain-lake too: a fresh lake is due
    assert {"daily-athlete-me", "lake-check"} <= set(child_states), child_states
    assert set(child_states.values()) == {"COMPLETED"}, (child_states, api.logs(daily_id))

    checked = run([str(BIN / "runlake"), "lake", "check"], concurrent, timeout_s=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert set(duplicate_keys(lake).values()) == {0}, duplicate_keys(lake)
    assert lake_state(lake) == expected
