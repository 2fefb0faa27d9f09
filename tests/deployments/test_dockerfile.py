"""The Docker build context holds what the flows, the dashboard and the API import (no Docker engine here).

The Dockerfile copies named packages only. These tests read its COPY lines and compare them with
pyproject's wheel packages (`uv sync` installs the project, so each must be there) and with the
first-party import graph of `flows/`, `streamlit_app/` and `api/` (lazy imports inside functions count).
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deployments" / "Dockerfile"
#: Where the image starts: the flow entrypoints and the dashboard.
ROOTS = ("flows", "streamlit_app", "api")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    out, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}".strip()
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        word, _, rest = pending.partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def copied_from_context() -> list[str]:
    """Source paths of the COPY lines that read the build context (not another stage)."""
    sources = []
    for word, rest in instructions():
        if word != "COPY":
            continue
        parts = [p for p in rest.split() if not p.startswith("--chown") and not p.startswith("--chmod")]
        if any(p.startswith("--from") for p in parts):
            continue
        sources += [p.rstrip("/") for p in parts[:-1]]
    return sources


def first_party() -> set[str]:
    return {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()}


def imported_first_party(package: str, known: set[str]) -> set[str]:
    found = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found |= {n.split(".")[0] for n in names} & known
    return found


def import_closure(roots: tuple[str, ...]) -> set[str]:
    known = first_party()
    todo, seen = [r for r in roots if r in known], set()
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        todo += sorted(imported_first_party(package, known) - seen)
    return seen


def test_copy_covers_the_wheel_packages():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    missing = set(packages) - set(copied_from_context())
    assert not missing, f"pyproject wheel packages not copied into the image: {sorted(missing)}"


def test_copy_covers_what_the_flows_dashboard_and_api_import():
    needed = import_closure(ROOTS)
    assert {"flows", "runlake", "lake"} <= needed  # the graph walk itself works
    missing = needed - set(copied_from_context())
    assert not missing, f"imported by the flows, dashboard or API but not copied: {sorted(missing)}"


def test_image_leaves_out_tests_bench_and_docs():
    copied = set(copied_from_context())
    assert not copied & {"tests", "bench", "docs", ".", ".venv"}


def test_dependencies_install_from_the_lock_before_the_code():
    steps = instructions()
    copies = [rest for word, rest in steps if word == "COPY"]
    runs = [rest for word, rest in steps if word == "RUN"]
    manifest_copy = next(c for c in copies if "uv.lock" in c)
    assert "pyproject.toml" in manifest_copy and "README.md" in manifest_copy  # hatch needs the readme
    assert all("--frozen" in r and "--no-dev" in r for r in runs if "uv sync" in r)
    order = [f"{w} {r}" for w, r in steps]
    first_sync = next(i for i, s in enumerate(order) if "uv sync" in s)
    first_code = next(i for i, s in enumerate(order) if s.startswith("COPY flows"))
    assert first_sync < first_code, "dependencies should be a layer of their own"


def test_runs_as_a_numeric_non_root_user_on_python_311_slim():
    steps = dict(instructions())
    user = [rest for word, rest in instructions() if word == "USER"][-1]
    assert user.split(":")[0].isdigit() and int(user.split(":")[0]) != 0
    assert "python:3.11-slim" in DOCKERFILE.read_text()
    assert steps["WORKDIR"] == "/opt/runlake"


def test_dockerignore_does_not_hide_copied_sources():
    ignore = REPO / "deployments" / "Dockerfile.dockerignore"
    patterns = [p.strip() for p in ignore.read_text().splitlines() if p.strip() and not p.startswith("#")]
    for source in copied_from_context():
        hidden = [p for p in patterns if not p.startswith("!") and fnmatch.fnmatch(source, p)]
        assert not hidden, f"{source} is excluded from the build context by {hidden}"
