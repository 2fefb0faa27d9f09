"""End to end on a real Prefect server: deploy, a process worker, flow runs, the lake on disk and S3.

What runs here is what runs in production, only on the `local` pool: `runlake deploy` creates
the pools and runs `prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml` from
the repo root; a process worker on runlake-local takes its RUNLAKE_* settings from its own
environment; `prefect deployment run '<flow>/local' --watch` runs ingest-fit, build-marts and
daily; then the same with RUNLAKE_LAKE_URI=s3://… on a moto server. Bad input is tried as a new
user would, and the daily-failure automation must deliver its notification.

One server for the module; everything started is stopped in fixture teardown.
"""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from lake import activities, fit_files
from lake.history import last_operation_at
from lake.storage import Lake
from lake.table import TableSpec, read, table_exists
from tests.e2e.prefect_stack import (
    BIN,
    REPO,
    Api,
    WebhookReceiver,
    clean_env,
    deployment_run,
    free_port,
    prefect_server,
    process_worker,
    run,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NOTIFY_BLOCK = "custom-webhook/runlake-e2e"
DAILY_LOAD = "marts/daily_load"


def generated_runs(folder: Path) -> list[Path]:
    """Two short synthetic runs (one activity each) from the project's own FIT generator."""
    from sources.fit.synthetic import write_run

    zone = ZoneInfo("Europe/Amsterdam")
    start = datetime.now(zone).replace(hour=6, minute=30, second=0, microsecond=0) - timedelta(days=2)
    return [
        write_run(folder / "easy-run.fit", start, 3000.0, 280.0, seed=1),
        write_run(folder / "next-morning.fit", start + timedelta(days=1), 4000.0, 250.0, seed=2),
    ]


def deployable_prefect_file(tmp: Path) -> Path:
    """deployments/prefect.yaml, deployed as it is: every flow it names must be in the checkout."""
    return REPO / "deployments" / "prefect.yaml"


class Stack:
    def __init__(self, tmp: Path, env: dict[str, str], webhook: WebhookReceiver, s3_env: dict[str, str]):
        self.tmp, self.env, self.webhook, self.s3_env = tmp, env, webhook, s3_env
        self.api = Api(env["PREFECT_API_URL"])
        self.fits = generated_runs(tmp / "generated")
        self.local_lake, self.local_inbox = tmp / "lake", tmp / "inbox"
        self.deploy_output = ""


@pytest.fixture(scope="module")
def stack(tmp_path_factory, moto_server):
    """The Prefect server, the webhook receiver and (from tests/conftest.py) the moto S3 server."""
    tmp = tmp_path_factory.mktemp("e2e-prefect")
    with WebhookReceiver() as webhook, prefect_server(tmp) as env:
        env = {**env, "RUNLAKE_HOME": str(tmp / "home"), "RUNLAKE_NOTIFY_BLOCK": NOTIFY_BLOCK}
        yield Stack(tmp, env, webhook, moto_server)


def test_runlake_deploy_without_api_is_one_clear_line(tmp_path):
    env = clean_env(PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api", PREFECT_HOME=str(tmp_path))
    done = run([str(BIN / "runlake"), "deploy"], env, timeout_s=180)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("runlake: cannot reach the Prefect API at http://127.0.0.1:"), done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_deploy_creates_pools_deployments_and_automations(stack):
    block = (
        "from prefect.blocks.notifications import CustomWebhookNotificationBlock as B\n"
        f"B(name='runlake-e2e', url={stack.webhook.url!r}, json_data={{'text': '{{{{subject}}}} {{{{body}}}}'}})"
        ".save('runlake-e2e')\n"
    )
    made = run([sys.executable, "-c", block], stack.env, timeout_s=180)
    assert made.returncode == 0, made.stderr
    prefect_file = deployable_prefect_file(stack.tmp)
    done = run(
        [str(BIN / "runlake"), "deploy", "--scheduled-pool", "local", "--prefect-file", str(prefect_file)],
        stack.env, timeout_s=600,
    )
    stack.deploy_output = done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert "work pool runlake-local: created" in done.stdout and "work pool runlake-k8s: created" in done.stdout
    assert "automation created runlake-daily-failed" in done.stdout
    assert "automation created runlake-no-new-activity" in done.stdout

    api = stack.api
    assert api.get("work_pools/runlake-local")["type"] == "process"
    k8s_pool = api.get("work_pools/runlake-k8s")
    assert k8s_pool["type"] == "kubernetes"
    assert k8s_pool["base_job_template"]["job_configuration"]["env"] == "{{ env }}"
    for flow in ("ingest-fit", "sync-strava", "build-marts", "daily", "daily-athlete", "maintain-lake"):
        local, k8s = api.deployment(f"{flow}/local"), api.deployment(f"{flow}/k8s")
        assert local["work_pool_name"] == "runlake-local" and k8s["work_pool_name"] == "runlake-k8s"
        assert k8s["job_variables"]["image"] and k8s["pull_steps"][0][
            "prefect.deployments.steps.set_working_directory"]["directory"] == "/opt/runlake"
    daily_local, daily_k8s = api.deployment("daily/local"), api.deployment("daily/k8s")
    assert [s["active"] for s in daily_local["schedules"]] == [True]
    assert [s["active"] for s in daily_k8s["schedules"]] == [False]
    assert daily_local["schedules"][0]["schedule"]["timezone"] == "Europe/Amsterdam"
    assert daily_local["global_concurrency_limit"]["limit"] == 1
    assert api.deployment("daily-athlete/local")["global_concurrency_limit"]["limit"] == 4


@pytest.fixture(scope="module")
def local_worker(stack):
    stack.local_inbox.mkdir()
    shutil.copy(stack.fits[0], stack.local_inbox)
    env = {**stack.env, "RUNLAKE_LAKE_URI": str(stack.local_lake), "RUNLAKE_INBOX_URI": str(stack.local_inbox)}
    with process_worker(env, stack.tmp, "local-lake") as worker:
        yield worker


def test_ingest_marts_daily_on_a_local_lake(stack, local_worker):
    lake = Lake.at(str(stack.local_lake))
    done, run_id = deployment_run("ingest-fit/local", stack.env)
    assert done.returncode == 0 and stack.api.flow_run(run_id)["state"]["type"] == "COMPLETED", done.stdout
    assert read(lake, activities.SPEC).height == 1
    assert read(lake, fit_files.SPEC)["status"].to_list() == ["ingested"]

    done, run_id = deployment_run("build-marts/local", stack.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert table_exists(lake, _spec(DAILY_LOAD))

    # A new watch file arrives; the daily run ingests it, rebuilds marts, maintains the lake.
    shutil.copy(stack.fits[1], stack.local_inbox)
    done, run_id = deployment_run("daily/local", stack.env)
    state = stack.api.flow_run(run_id)["state"]
    assert read(lake, activities.SPEC).height == 2
    assert done.returncode == 0 and state["type"] == "COMPLETED", done.stdout + stack.api.logs(run_id)
    assert last_operation_at(lake, activities.SPEC) is not None  # first daily on a fresh lake maintains it
    landed = stack.api.events("runlake.activities.landed")
    assert landed and landed[0]["payload"]["new_activities"] == 1


def test_bad_input_fails_visibly_and_loses_nothing(stack, local_worker):
    lake = Lake.at(str(stack.local_lake))
    before = read(lake, activities.SPEC).height
    typo = stack.api.create_run("daily/local", lake_uri="s4://runlake/lake")
    no_inbox = stack.api.create_run("ingest-fit/local", inbox_uri=str(stack.tmp / "no-such-inbox"))
    typo_run, inbox_run = stack.api.wait(typo), stack.api.wait(no_inbox)
    assert typo_run["state"]["type"] == "FAILED"
    assert "unsupported URI scheme 's4'" in typo_run["state"]["message"]
    assert inbox_run["state"]["type"] == "FAILED"
    assert "no such file or folder" in inbox_run["state"]["message"]
    assert str(stack.tmp / "no-such-inbox") in inbox_run["state"]["message"]
    assert read(lake, activities.SPEC).height == before
    # The daily-failure automation sends its notification through the named block.
    notification = stack.webhook.wait_for(typo_run["name"])
    assert "unsupported URI scheme" in str(notification)


def test_daily_fans_out_one_run_per_athlete_and_one_failure_fails_only_its_own(stack, local_worker):
    """Three athletes registered with `runlake athlete add`; one has stored privacy zones no
    parser accepts, so its public build fails: its child run fails, the others complete, the
    parent waits for all and ends Failed naming it by athlete_id."""
    from pipeline.athletes import inbox_of, resolve_athlete
    from lake.marts import DAILY_LOAD as DAILY_LOAD_SPEC
    from runlake.settings import Settings
    from tests.flows.test_daily_fanout import break_privacy_zones, write_fit

    env = {**stack.env, "RUNLAKE_LAKE_URI": str(stack.local_lake), "RUNLAKE_INBOX_URI": str(stack.local_inbox)}
    for handle in ("good", "bad"):
        added = run([str(BIN / "runlake"), "athlete", "add", handle], env, timeout_s=180)
        assert added.returncode == 0, added.stdout + added.stderr
    lake = Lake.at(str(stack.local_lake))
    settings = Settings(lake_uri=str(stack.local_lake), inbox_uri=str(stack.local_inbox))
    good, bad = (resolve_athlete(lake, settings, h) for h in ("good", "bad"))
    break_privacy_zones(lake, bad.athlete_id)
    write_fit(Path(inbox_of(settings, good.athlete_id)), 1, seed=11)
    write_fit(Path(inbox_of(settings, bad.athlete_id)), 1, seed=12)

    done, run_id = deployment_run("daily/local", stack.env, maintain="false")
    parent = stack.api.flow_run(run_id)
    assert parent["state"]["type"] == "FAILED", done.stdout + stack.api.logs(run_id)
    assert parent["state"]["message"].count("1 of 3 athletes failed: ") == 1
    assert f"{bad.athlete_id} (run daily-athlete-{bad.athlete_id}: " in parent["state"]["message"]
    everything = stack.api.post("flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}})
    checks = [c for c in everything if c["name"] == "lake-check"]  # the lake check runs once, after the athletes
    assert [c["state"]["type"] for c in checks] == ["COMPLETED"], stack.api.logs(run_id)
    children = [c for c in everything if c["name"] != "lake-check"]
    states = {c["name"]: c["state"]["type"] for c in children}
    assert states == {
        "daily-athlete-me": "COMPLETED",
        f"daily-athlete-{good.athlete_id}": "COMPLETED",
        f"daily-athlete-{bad.athlete_id}": "FAILED",
    }, stack.api.logs(run_id)
    assert all(c["deployment_id"] == stack.api.deployment("daily-athlete/local")["id"] for c in children)
    built = set(read(lake, DAILY_LOAD_SPEC)["athlete_id"].unique().to_list())
    assert {settings.athlete_id, good.athlete_id} <= built
    assert read(lake, activities.SPEC).filter(pl.col("athlete_id") == good.athlete_id).height == 1


@pytest.fixture(scope="module")
def s3_worker(stack, local_worker):
    import boto3

    # One worker at a time on the pool, so each run sees the environment meant for it.
    from tests.e2e.prefect_stack import stop_process

    stop_process(local_worker)
    s3 = boto3.client("s3", endpoint_url=stack.s3_env["AWS_ENDPOINT_URL"], region_name=stack.s3_env["AWS_REGION"],
                      aws_access_key_id=stack.s3_env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=stack.s3_env["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket="runlake-e2e")
    for path in stack.fits:
        s3.upload_file(str(path), "runlake-e2e", f"inbox/watch/{path.name}")
    env = {
        **stack.env, **stack.s3_env,
        "RUNLAKE_LAKE_URI": "s3://runlake-e2e/lake", "RUNLAKE_INBOX_URI": "s3://runlake-e2e/inbox/",
    }
    with process_worker(env, stack.tmp, "s3-lake") as worker:
        yield worker


def test_same_path_on_s3(stack, s3_worker):
    lake = Lake.at("s3://runlake-e2e/lake", env=stack.s3_env)
    done, run_id = deployment_run("ingest-fit/local", stack.env)
    assert done.returncode == 0, done.stdout + stack.api.logs(run_id)
    assert read(lake, activities.SPEC).height == 2
    assert sorted(read(lake, fit_files.SPEC)["status"].to_list()) == ["ingested", "ingested"]
    done, run_id = deployment_run("daily/local", stack.env)
    state = stack.api.flow_run(run_id)["state"]
    assert done.returncode == 0 and state["type"] == "COMPLETED", done.stdout + stack.api.logs(run_id)
    assert table_exists(lake, _spec(DAILY_LOAD))
    assert read(lake, activities.SPEC).height == 2  # a re-run adds nothing


def _spec(name: str) -> TableSpec:
    """A bare spec to probe a table's existence by path (marts own their real specs)."""
    import polars as pl

    return TableSpec(name, "probe", pl.Schema({}), key=())
