"""Render the Kubernetes Job of every `k8s` deployment in deployments/prefect.yaml, offline.

Does what the prefect-kubernetes worker does before it creates a Job, without a cluster or a
Prefect server: `KubernetesWorkerJobConfiguration.from_template_and_values` on the pool's base
job template (deployments/k8s-base-job-template.json) and the deployment's job variables, then
`prepare_for_flow_run`. Run it as a script (`python -m tests.deployments.k8s_render`) in a
clean environment: the worker copies every PREFECT_* setting of its own environment into the Job,
so the caller decides what that environment holds. Prints {"<flow>/<deployment>": manifest}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S_POOL = "runlake-k8s"


def k8s_deployments(prefect_yaml: dict) -> list[dict]:
    return [d for d in prefect_yaml["deployments"] if d["work_pool"]["name"] == K8S_POOL]


def flow_name(entrypoint: str) -> str:
    """The flow name behind an entrypoint (`…/build_marts.py:build_marts_flow` → `build-marts`).

    Rendering needs no flow code, so a flow file not written yet gets Prefect's default name.
    """
    from flows.deployment_files import flow_name_of

    path, _, func = entrypoint.partition(":")
    if not (REPO / path).is_file():
        return func.replace("_", "-")
    return flow_name_of(REPO, entrypoint)


class NoPrefectAPI:
    """Stands in for the client: rendering must not need the API (no block or variable refs)."""

    def __getattr__(self, name: str):
        raise AssertionError(f"rendering the job template called the Prefect API ({name})")


async def render_all() -> dict[str, dict]:
    from prefect.client.schemas.objects import Flow, FlowRun
    from prefect.client.schemas.responses import DeploymentResponse
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    prefect_yaml = yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text())
    template = json.loads((REPO / "deployments" / "k8s-base-job-template.json").read_text())
    out = {}
    for entry in k8s_deployments(prefect_yaml):
        name = flow_name(entry["entrypoint"])
        flow = Flow(id=uuid.uuid4(), name=name)
        deployment = DeploymentResponse(
            id=uuid.uuid4(), name=entry["name"], flow_id=flow.id, work_pool_name=K8S_POOL,
            entrypoint=entry["entrypoint"], job_variables=entry["work_pool"].get("job_variables", {}),
        )
        flow_run = FlowRun(id=uuid.uuid4(), name="rendering-check", flow_id=flow.id, deployment_id=deployment.id)
        config = await KubernetesWorkerJobConfiguration.from_template_and_values(
            template, dict(deployment.job_variables or {}), client=NoPrefectAPI()
        )
        config.prepare_for_flow_run(flow_run=flow_run, deployment=deployment, flow=flow, worker_name="render-check")
        manifest = config.job_manifest
        # The API server would name the Job from generateName; the schema wants a name.
        manifest["metadata"]["name"] = manifest["metadata"]["generateName"] + "x7k2p"
        out[f"{name}/{entry['name']}"] = manifest
    return out


if __name__ == "__main__":
    json.dump(asyncio.run(render_all()), sys.stdout)
