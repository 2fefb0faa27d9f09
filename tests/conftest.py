"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_data import shared_data_dir, shared_fit_dir_or_none


@pytest.fixture(scope="session")
def shared_fit_dir() -> Path:
    """`<repo>/../shared/data/fit`; skips the test cleanly when the corpus is absent."""
    path = shared_fit_dir_or_none()
    if path is None:
        pytest.skip(f"shared FIT corpus not found at {shared_data_dir() / 'fit'}")
    return path
