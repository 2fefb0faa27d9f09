"""Flow runs and the athlete's lease: they wait RUNLAKE_LEASE_WAIT_S for another writer, say so
in the run's log, and past it fail with one line naming the holder (flows.athlete_runs)."""

from __future__ import annotations

import logging
import threading

import pytest

import flows.build_marts as build_marts_module
from flows.athlete_runs import athlete_lease
from lake import lease
from lake.storage import Lake
from runlake.settings import Settings

pytestmark = pytest.mark.timeout(120)


def test_a_flow_waits_for_the_holder_then_takes_the_lease(tmp_path, caplog):
    lake = Lake.at(str(tmp_path / "lake"))
    settings = Settings(lake_uri=lake.root, lease_wait_s=60)
    held = lease.acquire(lake, "me", "daily (another run)")
    threading.Timer(1.0, held.release).start()
    with caplog.at_level(logging.INFO, logger="test-flow"):
        with athlete_lease(lake, settings, "me", "build-marts", logging.getLogger("test-flow")) as mine:
            assert mine.record.command == "build-marts"
    assert "waiting for the lease of athlete me (up to 60 s): held by `daily (another run)`" in caplog.text
    assert lease.read_holder(lake, "me").released_at is not None


def test_build_marts_flow_honours_the_lease_wait_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(build_marts_module, "get_run_logger", lambda: logging.getLogger("test-flow"))
    monkeypatch.setenv("RUNLAKE_LEASE_WAIT_S", "0.5")
    lake = Lake.at(str(tmp_path / "lake"))
    with lease.acquire(lake, "me", "ingest-fit (another run)"):
        with pytest.raises(lease.LeaseBusyError, match=r"athlete me is busy: `ingest-fit \(another run\)`.*gave up after 0.5 s"):
            build_marts_module.build_marts_flow.fn(lake_uri=lake.root, today="2025-01-09")
