"""`runlake deploy`: work pools, deployments and automations on the Prefect API in force.

Against the `PREFECT_API_URL` of the environment (a self-hosted `prefect server` or Prefect
Cloud): check the API answers, create the work pools `runlake-local` (process) and `runlake-k8s`
(kubernetes, base job template from `deployments/k8s-base-job-template.json`) when missing, run
`prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml` from the repo root
(where the entrypoints resolve), choose which environment's `daily` schedule is active, and create
or update the automations of `deployments/automations.yaml`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.deployment_files import (
    DeployError,
    deployments_dir,
    k8s_base_job_template,
    load_prefect_yaml,
    missing_entrypoints,
    render_automations,
    repo_root,
)
from runlake.settings import Settings

LOCAL_POOL = "runlake-local"
K8S_POOL = "runlake-k8s"
POOL_TYPES = {LOCAL_POOL: "process", K8S_POOL: "kubernetes"}
SCHEDULED_POOL_CHOICES = ("k8s", "local", "none")
DAILY_FLOW = "daily"
DEPLOY_TIMEOUT_S = 600


@dataclass
class DeployReport:
    api_url: str
    pools_created: list[str] = field(default_factory=list)
    pools_updated: list[str] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)
    active_schedules: list[str] = field(default_factory=list)
    automations: list[str] = field(default_factory=list)  # "created <name>" / "updated <name>"
    notes: list[str] = field(default_factory=list)


# --- the Prefect API --------------------------------------------------------------------------------


def configured_api_url() -> str:
    """PREFECT_API_URL from the environment or the active Prefect profile."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise DeployError(
            "PREFECT_API_URL is not set: start a server (`prefect server start`) and "
            "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`, or `prefect cloud login`"
        )
    return str(url)


def _probe(url: str, timeout_s: float = 5.0) -> None:
    """Fail fast when nothing answers at `url` (the Prefect client would retry for seconds)."""
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/health", timeout=timeout_s)
    except httpx.HTTPError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DeployError(f"cannot reach the Prefect API at {url}: {reason}") from None


async def _check_api(client, url: str) -> None:
    await asyncio.to_thread(_probe, url)
    error = await client.api_healthcheck()
    if error is not None:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DeployError(f"cannot reach the Prefect API at {url}: {reason}")


async def _ensure_pools(client, report: DeployReport, k8s_template: dict[str, Any]) -> None:
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    templates = {LOCAL_POOL: ProcessWorker.get_default_base_job_template(), K8S_POOL: k8s_template}
    for name, pool_type in POOL_TYPES.items():
        try:
            pool = await client.read_work_pool(name)
        except ObjectNotFound:
            await client.create_work_pool(
                WorkPoolCreate(name=name, type=pool_type, base_job_template=templates[name])
            )
            report.pools_created.append(name)
            continue
        if pool.type != pool_type:
            raise DeployError(f"work pool {name} exists with type {pool.type!r}, runlake needs {pool_type!r}")
        # The k8s template is the project's: keep the pool in step with the file.
        if name == K8S_POOL and pool.base_job_template != k8s_template:
            await client.update_work_pool(name, WorkPoolUpdate(base_job_template=k8s_template))
            report.pools_updated.append(name)


async def _set_daily_schedules(client, scheduled_pool: str, report: DeployReport) -> None:
    for deployment_name in ("k8s", "local"):
        deployment = await client.read_deployment_by_name(f"{DAILY_FLOW}/{deployment_name}")
        active = deployment_name == scheduled_pool
        for schedule in await client.read_deployment_schedules(deployment.id):
            if schedule.active != active:
                await client.update_deployment_schedule(deployment.id, schedule.id, active=active)
            if active:
                report.active_schedules.append(f"{DAILY_FLOW}/{deployment_name}")


async def _notify_block_id(client, block: str) -> str:
    from prefect.exceptions import ObjectNotFound

    slug, sep, name = block.partition("/")
    if not sep or not slug or not name:
        raise DeployError(
            f"RUNLAKE_NOTIFY_BLOCK={block!r} must be '<block-type-slug>/<name>', e.g. slack-webhook/runlake-alerts"
        )
    try:
        document = await client.read_block_document_by_name(name, block_type_slug=slug, include_secrets=False)
    except ObjectNotFound:
        raise DeployError(f"notification block {block!r} (RUNLAKE_NOTIFY_BLOCK) does not exist on the Prefect API") from None
    return str(document.id)


async def _apply_automations(client, specs: list[dict[str, Any]], report: DeployReport) -> None:
    from prefect.events.schemas.automations import AutomationCore

    for spec in specs:
        automation = AutomationCore.model_validate(spec)
        existing = await client.read_automations_by_name(automation.name)
        if existing:
            await client.update_automation(existing[0].id, automation)
            report.automations.append(f"updated {automation.name}")
            if len(existing) > 1:
                report.notes.append(f"{len(existing)} automations are named {automation.name}; updated the first")
        else:
            await client.create_automation(automation)
            report.automations.append(f"created {automation.name}")


def run_prefect_deploy(root: Path, prefect_file: Path) -> str:
    """`prefect --no-prompt deploy --all --prefect-file …` from `root`; its output."""
    beside_python = Path(sys.executable).with_name("prefect")
    prefect_cli = str(beside_python) if beside_python.exists() else shutil.which("prefect")
    if not prefect_cli:
        raise DeployError("the `prefect` command is not installed in this environment")
    shown = prefect_file.relative_to(root) if prefect_file.is_relative_to(root) else prefect_file
    command = [prefect_cli, "--no-prompt", "deploy", "--all", "--prefect-file", str(shown)]
    try:
        done = subprocess.run(
            command, cwd=root, env=os.environ.copy(), capture_output=True, text=True, timeout=DEPLOY_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise DeployError(f"`prefect deploy` did not finish within {DEPLOY_TIMEOUT_S} s") from exc
    output = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        raise DeployError(f"`prefect deploy` failed (exit {done.returncode}): {' | '.join(lines[-4:])}")
    return output


async def _deploy(
    settings: Settings, root: Path, scheduled_pool: str, with_automations: bool, prefect_file: Path
) -> DeployReport:
    from prefect.client.orchestration import get_client

    url = configured_api_url()
    report = DeployReport(api_url=url)
    prefect_yaml = load_prefect_yaml(prefect_file)
    automation_specs: list[dict[str, Any]] = []
    async with get_client() as client:
        await _check_api(client, url)
        missing = missing_entrypoints(prefect_yaml, root)
        if missing:
            raise DeployError(f"{prefect_file.name} names flow files missing from {root}: {', '.join(missing)}")
        await _ensure_pools(client, report, k8s_base_job_template(root))
        if with_automations and settings.notify_block:
            # Resolve the block before deploying, so a bad name fails before anything changes.
            block_id = await _notify_block_id(client, settings.notify_block)
            automation_specs = render_automations(
                (deployments_dir(root) / "automations.yaml").read_text(),
                notify_block_id=block_id,
                no_activity_alert_days=settings.no_activity_alert_days,
            )
        output = await asyncio.to_thread(run_prefect_deploy, root, prefect_file)
        report.deployments = await _deployed_names(client)
        await _set_daily_schedules(client, scheduled_pool, report)
        if automation_specs:
            await _apply_automations(client, automation_specs, report)
        elif with_automations:
            report.notes.append(
                "automations not created: set RUNLAKE_NOTIFY_BLOCK to a Prefect notification block "
                "('<block-type-slug>/<name>', e.g. slack-webhook/runlake-alerts)"
            )
    if "Traceback" in output:
        report.notes.append("prefect deploy printed a traceback; check its output")
    return report


async def _deployed_names(client) -> list[str]:
    """'<flow>/<deployment>' of every deployment on runlake's pools, as the API now has them."""
    from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName

    deployments = await client.read_deployments(
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=list(POOL_TYPES)))
    )
    flow_names: dict[Any, str] = {}
    for d in deployments:
        if d.flow_id not in flow_names:
            flow_names[d.flow_id] = (await client.read_flow(d.flow_id)).name
    return sorted(f"{flow_names[d.flow_id]}/{d.name}" for d in deployments)


def deploy(
    settings: Settings,
    *,
    scheduled_pool: str = "k8s",
    with_automations: bool = True,
    root: Path | None = None,
    prefect_file: Path | None = None,
) -> DeployReport:
    """Create the pools, deploy every flow and apply the automations; see the module docstring.

    `scheduled_pool`: whose `daily` schedule is active ("k8s", "local" or "none"); the other's
    is paused, so only one environment runs the pipeline by itself. `prefect_file`: another
    prefect.yaml (default deployments/prefect.yaml); its entrypoints still resolve from the repo
    root.
    """
    if scheduled_pool not in SCHEDULED_POOL_CHOICES:
        raise DeployError(f"scheduled pool must be one of {', '.join(SCHEDULED_POOL_CHOICES)}, not {scheduled_pool!r}")
    root = (root or repo_root()).resolve()
    prefect_file = (prefect_file or deployments_dir(root) / "prefect.yaml").resolve()
    if not prefect_file.is_file():
        raise DeployError(f"no such prefect file: {prefect_file}")
    return asyncio.run(_deploy(settings, root, scheduled_pool, with_automations, prefect_file))
