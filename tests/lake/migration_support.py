"""Shared by the migration tests: the version-1 fixture lake, copied, and byte snapshots of a lake."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LAKE_V1 = FIXTURES / "lake_v1"
LAKE_V1_INPUTS = FIXTURES / "lake_v1_inputs"
#: The `--today` the fixture's marts were built with (tests/fixtures/make_v1_lake.py).
FIXTURE_TODAY = "2025-03-20"


def copy_v1_lake(dest: Path) -> Path:
    """A private copy of the version-1 lake at `dest` (the fixture itself is never written)."""
    assert (LAKE_V1 / "activities" / "_delta_log").is_dir(), "tests/fixtures/lake_v1 is missing: run tests/fixtures/make_v1_lake.py"
    shutil.copytree(LAKE_V1, dest)
    return dest


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes: equal snapshots mean nothing was written."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
