"""The Kubernetes side, checked offline: every k8s deployment's Job and every manifest we ship.

No cluster here: the Job each `k8s` deployment would run is rendered the way the
prefect-kubernetes worker renders it (tests/deployments/k8s_render.py, in a subprocess whose
environment holds no PREFECT_* variable, so the worker's own settings cannot leak in) and
validated against the Kubernetes OpenAPI schema with kubernetes-validate.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from runlake.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENTS = REPO / "deployments"
#: A Kubernetes version EKS supports; the schemas ship with kubernetes-validate.
K8S_VERSION = "1.33.0"
#: Planted in the rendering environment: none may reach a manifest.
SENTINELS = {
    "AWS_SECRET_ACCESS_KEY": "sentinel-aws-secret-4f1c",
    "AWS_SESSION_TOKEN": "sentinel-aws-token-9e2b",
    "RUNLAKE_STRAVA_CLIENT_SECRET": "sentinel-strava-secret-77aa",
    "RUNLAKE_STRAVA_REFRESH_TOKEN": "sentinel-strava-refresh-31d0",
}
SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|API_KEY|SALT|CREDENTIAL|PRIVATE)", re.I)


def prefect_yaml() -> dict:
    return yaml.safe_load((DEPLOYMENTS / "prefect.yaml").read_text())


def dockerfile_instruction(name: str) -> list[str]:
    lines = (DEPLOYMENTS / "Dockerfile").read_text().splitlines()
    return [line.split(None, 1)[1].strip() for line in lines if line.upper().startswith(name.upper() + " ")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["HOME"] = str(tmp_path_factory.mktemp("render-home"))  # no ~/.prefect profile either
    env.update(SENTINELS)
    done = subprocess.run(
        [sys.executable, "-m", "tests.deployments.k8s_render"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def containers(manifest: dict) -> list[dict]:
    return manifest["spec"]["template"]["spec"]["containers"]


def validate(manifest: dict, *, strict: bool) -> None:
    try:
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=strict)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{manifest.get('kind')} {manifest['metadata'].get('name')}: {exc.message} at {list(exc.path)}")


def test_every_k8s_deployment_is_rendered(rendered):
    k8s = [d for d in prefect_yaml()["deployments"] if d["work_pool"]["name"] == "runlake-k8s"]
    assert len(k8s) == len(rendered) == 9
    assert {name.split("/")[1] for name in rendered} == {"k8s"}
    assert {"ingest-fit/k8s", "daily/k8s", "daily-athlete/k8s", "maintain-lake/k8s", "ingest-upload/k8s", "strava-events/k8s",
            "import-archive/k8s"} <= set(rendered)


def test_jobs_validate_against_the_kubernetes_schema(rendered):
    for manifest in rendered.values():
        validate(manifest, strict=False)
        # Strict mode rejects unknown fields. prefect-kubernetes requires `parallelism` and
        # `completions` in the pod spec (a quirk of its base manifest check; the API server
        # drops them); everything else must be a known field.
        strict = json.loads(json.dumps(manifest))
        pod = strict["spec"]["template"]["spec"]
        assert pod.pop("parallelism") == 1 and pod.pop("completions") == 1
        validate(strict, strict=True)


def test_jobs_run_the_project_image_with_resources_and_the_s3_lake(rendered):
    image = prefect_yaml()["definitions"]["images"]["runlake"]
    template = json.loads((DEPLOYMENTS / "k8s-base-job-template.json").read_text())
    defaults = {k: v.get("default") for k, v in template["variables"]["properties"].items()}
    for name, manifest in rendered.items():
        (container,) = containers(manifest)
        assert container["image"] == image, name
        resources = container["resources"]
        assert resources["requests"] == {"cpu": defaults["cpu_request"], "memory": defaults["memory_request"]}
        assert resources["limits"] == {"cpu": defaults["cpu_limit"], "memory": defaults["memory_limit"]}
        assert all(resources["requests"].values()) and all(resources["limits"].values())
        env = {e["name"]: e for e in container["env"]}
        assert env["RUNLAKE_LAKE_URI"]["value"].startswith("s3://"), name
        assert env["RUNLAKE_INBOX_URI"]["value"].startswith("s3://"), name
        # prefect-kubernetes' own entries sit beside the template's: {{ env }} was kept.
        assert env["PREFECT__FLOW_RUN_ID"]["value"]
        assert container["args"][:3] == ["prefect", "flow-run", "execute"]
        assert manifest["metadata"]["namespace"] == defaults["namespace"]
        assert manifest["spec"]["template"]["spec"]["serviceAccountName"] == "runlake-pipeline"


def test_no_secret_value_is_literal(rendered):
    for name, manifest in rendered.items():
        text = json.dumps(manifest)
        for var, sentinel in SENTINELS.items():
            assert sentinel not in text, f"{var} of the rendering environment leaked into {name}"
        for entry in containers(manifest)[0]["env"]:
            # Settings ending in _BLOCK only name a Prefect block; the secret stays in the block.
            if SECRET_NAME.search(entry["name"]) and not entry["name"].endswith("_BLOCK"):
                assert "value" not in entry, f"{name}: {entry['name']} is a literal value"
                assert set(entry["valueFrom"]) == {"secretKeyRef"}, f"{name}: {entry['name']}"
        assert "PREFECT_API_KEY" not in text


def test_template_keeps_prefect_env_and_runs_non_root():
    template = json.loads((DEPLOYMENTS / "k8s-base-job-template.json").read_text())
    config = template["job_configuration"]
    assert config["env"] == "{{ env }}"
    pod = config["job_manifest"]["spec"]["template"]["spec"]
    (user,) = dockerfile_instruction("USER")
    uid = int(user.split(":")[0])
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == uid != 0
    container = pod["containers"][0]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # Every variable a manifest placeholder uses for resources has a default.
    props = template["variables"]["properties"]
    for var in ("cpu_request", "cpu_limit", "memory_request", "memory_limit", "image", "namespace"):
        assert props[var].get("default"), var
    # A deployment that sets no image still runs the project's.
    assert props["image"]["default"] == prefect_yaml()["definitions"]["images"]["runlake"]


def test_k8s_pull_step_matches_the_dockerfile_workdir():
    (workdir,) = set(dockerfile_instruction("WORKDIR"))
    data = prefect_yaml()
    assert "pull" not in data, "a top-level pull would apply to the local deployments too"
    for d in data["deployments"]:
        if d["work_pool"]["name"] == "runlake-k8s":
            (step,) = d["pull"]
            assert step["prefect.deployments.steps.set_working_directory"]["directory"] == workdir
        else:
            assert "pull" not in d and d["work_pool"]["name"] == "runlake-local"


def test_prefect_yaml_has_no_build_push_or_templating():
    text = (DEPLOYMENTS / "prefect.yaml").read_text()
    data = yaml.safe_load(text)
    assert not data.get("build") and not data.get("push")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "{{" not in body and "$ENV" not in body
    names = {(d["entrypoint"], d["name"]) for d in data["deployments"]}
    assert len(names) == 18
    daily = [d for d in data["deployments"] if d["entrypoint"].endswith(":daily")]
    assert all(d["concurrency_limit"] == 1 and d["schedules"][0]["cron"] for d in daily)
    assert [d["schedules"][0]["active"] for d in daily].count(True) == 1
    # daily/<pool> fans out to daily-athlete/<pool>: same names, bounded, never scheduled alone.
    children = [d for d in data["deployments"] if d["entrypoint"].endswith(":daily_athlete")]
    assert sorted(d["name"] for d in children) == sorted(d["name"] for d in daily) == ["k8s", "local"]
    assert all(d["concurrency_limit"] == 4 and not d.get("schedules") for d in children)


def test_makefile_builds_the_image_the_deployments_run():
    image = prefect_yaml()["definitions"]["images"]["runlake"]
    done = subprocess.run(
        ["make", "-s", "-n", "-f", "deployments/Makefile.include", "image"],
        cwd=REPO, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["docker", "build", "-f", "deployments/Dockerfile", "-t", image, "."]


def shipped_manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted((DEPLOYMENTS / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return docs


@pytest.mark.parametrize("name,doc", shipped_manifests(), ids=lambda v: v if isinstance(v, str) else "")
def test_shipped_manifest_validates(name, doc):
    validate(doc, strict=True)


def test_dashboard_runs_the_image_non_root_with_probes():
    docs = {doc["kind"]: doc for _, doc in shipped_manifests() if doc["metadata"]["name"] == "runlake-dashboard"}
    assert {"Deployment", "Service", "Ingress", "ServiceAccount"} <= set(docs)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == prefect_yaml()["definitions"]["images"]["runlake"]
    assert container["command"] == ["runlake", "dashboard", "--host", "0.0.0.0", "--port", "8501"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health"
    assert all(container["resources"][k] for k in ("requests", "limits"))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["serviceAccountName"] == "runlake-dashboard"
    role = docs["ServiceAccount"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    pipeline = next(d for n, d in shipped_manifests() if d["metadata"]["name"] == "runlake-pipeline")
    assert role != pipeline["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert docs["Ingress"]["spec"]["ingressClassName"] == "alb"
    assert not any(SECRET_NAME.search(e["name"]) for e in container.get("env", []))


def test_api_is_its_own_deployment_and_service_beside_the_dashboard():
    docs = {doc["kind"]: doc for name, doc in shipped_manifests()
            if name.startswith("api.yaml:") and doc["metadata"]["name"] == "runlake-api"}
    assert {"Deployment", "Service", "ServiceAccount", "Ingress"} <= set(docs)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == prefect_yaml()["definitions"]["images"]["runlake"]
    assert container["command"] == ["runlake", "api", "--host", "0.0.0.0", "--port", "8000"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["livenessProbe"]["tcpSocket"] == {"port": "http"}
    assert docs["Service"]["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"] == "http"
    assert all(container["resources"][k] for k in ("requests", "limits"))
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["serviceAccountName"] == "runlake-api"
    env = {e["name"]: e for e in container["env"]}
    assert env["RUNLAKE_LAKE_URI"]["value"].startswith("s3://")
    assert all("value" in e for e in env.values()), "the API needs no secret"
    # A name that looks secret is a setting about tokens, not a token.
    assert {n for n in env if SECRET_NAME.search(n)} == {"RUNLAKE_API_TOKEN_RATE_LIMIT"}
    roles = {d["metadata"]["name"]: d["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
             for _, d in shipped_manifests() if d["kind"] == "ServiceAccount"}
    assert len(set(roles.values())) == len(roles) >= 3  # api, dashboard and pipeline: a role each
    assert "prefect" not in " ".join(container["command"]) and not any(n.startswith("PREFECT_") for n in env)
    # Strava's push callback, the one path that writes, goes to the webhook's own pods; the rest here.
    (rule,) = docs["Ingress"]["spec"]["rules"]
    routes = {(p["path"], p["pathType"]): p["backend"]["service"] for p in rule["http"]["paths"]}
    assert routes == {("/v1/webhooks/strava", "Exact"): {"name": "runlake-webhook", "port": {"name": "http"}},
                      ("/", "Prefix"): {"name": "runlake-api", "port": {"name": "http"}}}


def test_strava_push_has_its_own_writing_pods_with_only_the_verify_token_secret():
    docs = {doc["kind"]: doc for name, doc in shipped_manifests()
            if name.startswith("webhook.yaml:") and doc["metadata"]["name"] == "runlake-webhook"}
    assert {"Deployment", "Service", "ServiceAccount"} <= set(docs)
    api = next(d for n, d in shipped_manifests() if n == "api.yaml:Deployment/runlake-api")
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    # The same `runlake api`, image and hardening as the read-only API pods.
    (api_container,) = api["spec"]["template"]["spec"]["containers"]
    for field in ("image", "command", "securityContext", "readinessProbe", "livenessProbe"):
        assert container[field] == api_container[field], field
    assert pod["securityContext"] == api["spec"]["template"]["spec"]["securityContext"]
    assert pod["serviceAccountName"] == "runlake-webhook" and pod["automountServiceAccountToken"] is False
    assert docs["Service"]["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
    assert docs["Service"]["spec"]["ports"][0]["name"] == "http" == container["ports"][0]["name"]
    env = {e["name"]: e for e in container["env"]}
    # One secret, by reference: the verify token. Nothing that decrypts or refreshes credentials.
    assert {n for n in env if SECRET_NAME.search(n)} == {"RUNLAKE_STRAVA_VERIFY_TOKEN"}
    assert env["RUNLAKE_STRAVA_VERIFY_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "runlake-webhook", "key": "strava-verify-token"}}
    assert all("value" in e for n, e in env.items() if n != "RUNLAKE_STRAVA_VERIFY_TOKEN")
    # The events are worked by strava-events/k8s Jobs (runlake-pipeline), started through Prefect.
    assert env["RUNLAKE_STRAVA_PUSH_DEPLOYMENT"]["value"] == "k8s"
    k8s_entrypoints = {d["entrypoint"] for d in prefect_yaml()["deployments"]
                       if d["work_pool"]["name"] == "runlake-k8s" and d["name"] == "k8s"}
    assert "flows/strava_events.py:strava_events_flow" in k8s_entrypoints
    assert re.fullmatch(r"https?://[^/]+/api", env["PREFECT_API_URL"]["value"])
    # Every RUNLAKE_ value is a setting, and together they are valid settings.
    values = {n.removeprefix("RUNLAKE_").lower(): e["value"] for n, e in env.items() if "value" in e and n.startswith("RUNLAKE_")}
    assert set(values) <= set(Settings.model_fields), set(values) - set(Settings.model_fields)
    settings = Settings(**values, strava_verify_token="from-the-secret")
    assert settings.strava_push_rate_limit >= 1 and settings.strava_push_max_bytes <= 4096
    roles = {d["metadata"]["name"]: d["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
             for _, d in shipped_manifests() if d["kind"] == "ServiceAccount"}
    assert roles["runlake-webhook"] not in {r for n, r in roles.items() if n != "runlake-webhook"}


def iam_policies() -> dict[str, dict]:
    """The IAM policy documents of docs/operations.md, by their first statement's Sid."""
    text = (REPO / "docs" / "operations.md").read_text()
    policies = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]
    return {p["Statement"][0]["Sid"]: p for p in policies if "Statement" in p}


def test_the_webhooks_policy_writes_only_the_event_queue_and_the_apis_writes_nothing():
    policies = iam_policies()
    writes = {"s3:PutObject", "s3:DeleteObject", "s3:*", "*"}

    def granted(policy: dict) -> list[tuple[set[str], list[str]]]:
        out = []
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            out.append((set(actions), resources))
        return out

    webhook = granted(policies["ListEventQueueAndLakeVersion"])
    written = [r for actions, resources in webhook if actions & writes for r in resources]
    assert written == ["arn:aws:s3:::runlake-lake/lake/private/strava_events/*"]
    assert not any("s3:DeleteObject" in actions for actions, _ in webhook)
    for actions, _ in granted(policies["ListServedTables"]):  # runlake-api-read
        assert not actions & writes


def test_the_signed_in_web_app_is_its_own_deployment_with_secrets_only_by_reference():
    docs = {doc["kind"]: doc for name, doc in shipped_manifests()
            if name.startswith("web.yaml:") and doc["metadata"]["name"] == "runlake-web"}
    assert {"Deployment", "Service", "ServiceAccount", "Ingress"} <= set(docs)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == prefect_yaml()["definitions"]["images"]["runlake"]
    assert container["command"] == ["runlake", "dashboard", "--host", "0.0.0.0", "--port", "8501"]
    env = {e["name"]: e for e in container["env"]}
    for name in ("RUNLAKE_OIDC_ISSUER", "RUNLAKE_OIDC_CLIENT_ID", "RUNLAKE_WEB_URL"):
        assert env[name]["value"]
    for name in ("RUNLAKE_OIDC_CLIENT_SECRET", "RUNLAKE_COOKIE_SECRET", "RUNLAKE_SECRET_KEY", "RUNLAKE_STRAVA_CLIENT_SECRET"):
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["name"] == "runlake-web", name
    assert env["RUNLAKE_WEB_URL"]["value"].startswith("https://")
    roles = {d["metadata"]["name"]: d["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
             for _, d in shipped_manifests() if d["kind"] == "ServiceAccount"}
    assert roles["runlake-web"] != roles["runlake-dashboard"], "the public dashboard keeps its public-read role"
