"""Strava push in deployment mode, as in Kubernetes (deployments/k8s/webhook.yaml): `runlake api`
with RUNLAKE_STRAVA_PUSH_DEPLOYMENT and PREFECT_API_URL only queues an event and asks a real
`prefect server start` for a run of `strava-events/<name>` (pipeline/strava_push.py,
`start_deployment_run`); it does not work the queue itself, and a second event while that run
has not started makes no second run.

The deployment is registered through the REST API with the flow name, entrypoint and pool that
deployments/prefect.yaml gives it (a full `runlake deploy` is tests/e2e/test_prefect_local.py's
job and takes minutes); no worker runs it, so the run stays scheduled and the event queued.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from flows.deployment_files import flow_name_of
from lake import strava_events
from lake.storage import Lake
from lake.table import read
from tests.e2e.prefect_stack import REPO, Api, clean_env, prefect_server
from tests.e2e.serving import free_port, serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # server processes: run alone, after the parallel suite
RUNLAKE = Path(sys.executable).parent / "runlake"
VERIFY = "vt-" + "0b7e4d19c2a85f36"


def strava_events_deployment(name: str) -> dict:
    (entry,) = [d for d in yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text())["deployments"]
                if d["entrypoint"].endswith(":strava_events_flow") and d["name"] == name]
    return entry


def register(api: Api, entry: dict) -> str:
    """The deployment `<flow>/<name>` of a prefect.yaml entry, on its pool; returns its id."""
    pool = entry["work_pool"]["name"]
    api.post("work_pools/", {"name": pool, "type": "process"})
    flow = api.post("flows/", {"name": flow_name_of(REPO, entry["entrypoint"])})
    return api.post("deployments/", {"name": entry["name"], "flow_id": flow["id"], "work_pool_name": pool,
                                     "entrypoint": entry["entrypoint"]})["id"]


def runs_of(api: Api, deployment_id: str) -> list[dict]:
    return api.post("flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}})


def test_an_event_starts_a_run_of_the_strava_events_deployment(tmp_path):
    entry = strava_events_deployment("local")
    with prefect_server(tmp_path) as prefect_env:
        api = Api(prefect_env["PREFECT_API_URL"])
        deployment_id = register(api, entry)
        assert api.deployment("strava-events/local")["id"] == deployment_id
        env = clean_env(PREFECT_HOME=prefect_env["PREFECT_HOME"], PREFECT_API_URL=prefect_env["PREFECT_API_URL"],
                        RUNLAKE_HOME=str(tmp_path / "home"), RUNLAKE_LAKE_URI=str(tmp_path / "lake"),
                        RUNLAKE_STRAVA_VERIFY_TOKEN=VERIFY, RUNLAKE_STRAVA_PUSH_DEPLOYMENT="local")
        port = free_port()
        hook = f"http://127.0.0.1:{port}/v1/webhooks/strava"
        ready = f"{hook}?hub.mode=subscribe&hub.challenge=up&hub.verify_token={VERIFY}"
        with serving([str(RUNLAKE), "api", "--port", str(port)], env, ready, tmp_path / "api.log", what="runlake api"):
            assert runs_of(api, deployment_id) == []
            event = {"object_type": "activity", "object_id": 5001, "aspect_type": "create", "owner_id": 77,
                     "subscription_id": 1, "event_time": int(time.time()), "updates": {}}
            started = time.monotonic()
            answer = httpx.post(hook, content=json.dumps(event), headers={"content-type": "application/json"}, timeout=10)
            answered_s = time.monotonic() - started
            assert answer.status_code == 200 and answer.json() == {"queued": True}
            assert answered_s < 2.0
            deadline = time.monotonic() + 30
            while not (runs := runs_of(api, deployment_id)) and time.monotonic() < deadline:
                time.sleep(0.5)
            run_after_s = time.monotonic() - started
            assert len(runs) == 1, (tmp_path / "api.log").read_text()[-3000:]
            assert runs[0]["state"]["type"] == "SCHEDULED" and runs[0]["work_pool_name"] == entry["work_pool"]["name"]
            # The API only asked for the run: the event waits in the queue for it.
            rows = read(Lake.at(str(tmp_path / "lake")), strava_events.SPEC)
            assert rows["status"].to_list() == [strava_events.QUEUED] and rows["object_id"].to_list() == [5001]
            # Another event while that run has not started: it will take both, so no second run.
            later = {**event, "object_id": 5002}
            again = httpx.post(hook, content=json.dumps(later), headers={"content-type": "application/json"}, timeout=10)
            assert again.json() == {"queued": True}
            # The first run was there within seconds of its event; a second would be too.
            deadline = time.monotonic() + max(8.0, 2 * run_after_s)
            while time.monotonic() < deadline:
                assert [r["id"] for r in runs_of(api, deployment_id)] == [runs[0]["id"]]
                time.sleep(1)
            assert read(Lake.at(str(tmp_path / "lake")), strava_events.SPEC).height == 2
    print(f"POST answered in {answered_s:.2f} s; the strava-events run existed {run_after_s:.2f} s after the POST")
