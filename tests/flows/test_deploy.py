"""`runlake deploy`'s pieces that need no server: the files in deployments/ and their checks.

Deploying against a real server runs in tests/e2e/test_prefect_local.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prefect.events.schemas.automations import AutomationCore, Posture

from flows.deploy import deploy
from flows.deployment_files import (
    DeployError,
    flow_name_of,
    load_prefect_yaml,
    missing_entrypoints,
    render_automations,
)
from runlake.settings import Settings

REPO = Path(__file__).resolve().parents[2]
BLOCK_ID = "6f1c4a8e-2b7d-4a51-9a0e-2f3c5d6e7f80"


def automations(days: int = 4) -> dict[str, AutomationCore]:
    text = (REPO / "deployments" / "automations.yaml").read_text()
    specs = render_automations(text, notify_block_id=BLOCK_ID, no_activity_alert_days=days)
    return {a.name: a for a in (AutomationCore.model_validate(s) for s in specs)}


def test_daily_failure_automation_notifies_the_named_block():
    failed = automations()["runlake-daily-failed"]
    assert failed.trigger.posture == Posture.Reactive
    assert {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"} <= failed.trigger.expect
    related = failed.trigger.match_related
    assert dict(related.items()) == {"prefect.resource.role": ["flow"], "prefect.resource.name": ["daily"]}
    (action,) = failed.actions
    assert str(action.block_document_id) == BLOCK_ID and "{{ flow_run.state.message }}" in action.body


def test_no_activity_automation_is_proactive_over_the_configured_days():
    quiet = automations(days=4)["runlake-no-new-activity"]
    assert quiet.trigger.posture == Posture.Proactive
    assert quiet.trigger.expect == {"runlake.activities.landed"}
    assert quiet.trigger.within == timedelta(days=4)
    assert "4 days" in quiet.actions[0].subject


def test_entrypoints_and_flow_names_resolve_from_the_repo_root():
    data = load_prefect_yaml(REPO / "deployments" / "prefect.yaml")
    missing = missing_entrypoints(data, REPO)
    present = {d["entrypoint"] for d in data["deployments"] if d["entrypoint"].split(":")[0] not in missing}
    assert "flows/daily.py:daily" in present and "flows/ingest_fit.py:ingest_fit" in present
    assert flow_name_of(REPO, "flows/daily.py:daily") == "daily"
    assert flow_name_of(REPO, "flows/ingest_fit.py:ingest_fit") == "ingest-fit"
    with pytest.raises(DeployError, match="defines no function"):
        flow_name_of(REPO, "flows/daily.py:nightly")


def test_scheduled_pool_must_be_known():
    with pytest.raises(DeployError, match="one of k8s, local, none"):
        deploy(Settings(), scheduled_pool="cloud")
