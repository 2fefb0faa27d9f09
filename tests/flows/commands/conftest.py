"""Shared fixtures of the command tests."""

from __future__ import annotations

import pytest

from lake.storage import Lake


@pytest.fixture
def lake(tmp_path, monkeypatch) -> Lake:
    """An empty lake, configured as RUNLAKE_LAKE_URI (a test module may define its own `lake`)."""
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path / "lake"))
    return Lake.at(str(tmp_path / "lake"))
