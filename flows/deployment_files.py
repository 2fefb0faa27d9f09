"""The files in `deployments/` as `runlake deploy` reads them: prefect.yaml, the k8s template,
the automations. Reading only: no Prefect API, no imports of the flows themselves.
"""

from __future__ import annotations

import ast
import json
import string
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from runlake.errors import RunlakeError


class DeployError(RunlakeError):
    """Deploying cannot proceed; the message says what to fix."""


def repo_root() -> Path:
    """The checkout holding `flows/` and `deployments/` (entrypoints resolve from here)."""
    return Path(__file__).resolve().parent.parent


def deployments_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "deployments"


def load_prefect_yaml(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        return yaml.safe_load(fh)


def deployment_entries(prefect_yaml: dict[str, Any]) -> list[dict[str, Any]]:
    """The deployments of prefect.yaml (YAML anchors and merge keys already resolved by the loader)."""
    return list(prefect_yaml.get("deployments") or [])


def missing_entrypoints(prefect_yaml: dict[str, Any], root: Path) -> list[str]:
    """Entrypoint files named in prefect.yaml that do not exist under `root`."""
    files = {d["entrypoint"].split(":", 1)[0] for d in deployment_entries(prefect_yaml)}
    return sorted(f for f in files if not (root / f).is_file())


def flow_name_of(root: Path, entrypoint: str) -> str:
    """The Prefect flow name behind `path.py:function`: its `@flow(name=...)`, read without importing.

    Prefect's own default is the function name with dashes for underscores.
    """
    path, _, func = entrypoint.partition(":")
    tree = ast.parse((root / path).read_text(), filename=path)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func:
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call):
                    for kw in deco.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                            return str(kw.value.value)
            return func.replace("_", "-")
    raise DeployError(f"{path} defines no function {func!r} (entrypoint {entrypoint})")


def k8s_base_job_template(root: Path | None = None) -> dict[str, Any]:
    return json.loads((deployments_dir(root) / "k8s-base-job-template.json").read_text())


def render_automations(text: str, *, notify_block_id: str, no_activity_alert_days: int) -> list[dict[str, Any]]:
    """The automations of automations.yaml with runlake's ${...} placeholders filled in."""
    filled = string.Template(text).substitute(
        notify_block_id=notify_block_id,
        no_activity_alert_days=no_activity_alert_days,
        no_activity_alert_seconds=int(timedelta(days=no_activity_alert_days).total_seconds()),
    )
    return list(yaml.safe_load(filled)["automations"])
