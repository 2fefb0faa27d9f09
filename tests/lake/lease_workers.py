"""Child-process bodies for tests/lake/test_lease.py (spawned: importable, picklable arguments)."""

from __future__ import annotations

import random
import time

from lake import lease
from lake.lease_store import LeaseObjects
from lake.storage import Lake


def hold_until_killed(lake: Lake, athlete_id: str, ready) -> None:
    """Take the lease, say so, and sleep until the test kills this process."""
    with lease.acquire(lake, athlete_id, "held until killed", heartbeat_s=0.2, ttl_s=60):
        ready.set()
        time.sleep(600)


def wait_for_lease(lake: Lake, athlete_id: str, results) -> None:
    """Wait for the lease; report (whether on_wait ran, when it was taken)."""
    waited: list[str] = []
    with lease.acquire(lake, athlete_id, "waiter", wait_s=30, on_wait=lambda holder: waited.append(holder.command)):
        results.put((waited, time.time()))


def take_turns(lake: Lake, athlete_id: str, turns: int, log_path: str, name: str, start) -> None:
    """Take the lease `turns` times; append each holding interval to `log_path`."""
    start.wait(60)  # both racers begin together
    for _ in range(turns):
        time.sleep(random.random() * 0.01)  # let the other one in now and then
        with lease.acquire(lake, athlete_id, f"racer {name}", wait_s=30):
            start = time.time()
            time.sleep(0.002)
            end = time.time()
            with open(log_path, "a") as fh:
                fh.write(f"{name} {start!r} {end!r}\n")


def create_generations(lake: Lake, athlete_id: str, count: int, name: str, start, results) -> None:
    """Try to create generations 1..count; report the ones this process won."""
    objects = LeaseObjects(lake, athlete_id)
    start.wait(60)
    results.put((name, [g for g in range(1, count + 1) if objects.create(g, name.encode())]))
