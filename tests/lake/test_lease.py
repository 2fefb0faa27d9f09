"""The athlete lease: one holder at a time, waits, takeovers of dead or silent holders — on a
local lake (the authoritative race test: moto's conditional put is not atomic) and on S3 (moto)."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import asdict, replace
from datetime import timedelta

import fsspec
import pytest

from lake import lease
from lake.lease import LeaseBusyError, LeaseLostError, LeaseRecord
from lake.lease_store import LeaseObjects
from lake.storage import Lake
from tests.lake import lease_workers

ATHLETE = "a-0123456789abcdef0123"
SPAWN = multiprocessing.get_context("spawn")  # deltalake panics in forked children


@pytest.fixture(params=["local", "s3"])
def lake(request) -> Lake:
    if request.param == "local":
        return request.getfixturevalue("local_lake")
    return Lake.at(request.getfixturevalue("s3_bucket") + "/lake")


def _record(**changes) -> LeaseRecord:
    """A lease record of a process on another host, fresh unless `changes` say otherwise."""
    stamp = lease._iso(lease._now())
    base = LeaseRecord(
        athlete_id=ATHLETE, generation=1, command="sync strava", host="pod-on-another-node", pid=4242,
        pid_started=123, boot_id="another-boot", pid_ns="pid:[1]", acquired_at=stamp, heartbeat_at=stamp,
        released_at=None, ttl_s=60.0, token="f" * 32,
    )
    return replace(base, **changes)


def _plant(lake: Lake, record: LeaseRecord) -> None:
    """Write a lease object at its documented path, as another process would."""
    uri = lake.uri("private/leases", record.athlete_id, f"{record.generation:020d}.json")
    fs, path = fsspec.core.url_to_fs(uri, **lake.fsspec_options())
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    fs.pipe_file(path, json.dumps(asdict(record)).encode())


def _generations(lake: Lake) -> list[str]:
    fs, path = fsspec.core.url_to_fs(lake.uri("private/leases", ATHLETE), **lake.fsspec_options())
    return sorted(p.rsplit("/", 1)[-1] for p in fs.ls(path, detail=False, refresh=True))


def test_acquire_holds_then_release_marks_released(lake):
    with lease.acquire(lake, ATHLETE, "ingest fit") as held:
        holder = lease.read_holder(lake, ATHLETE)
        assert holder == held.record
        assert (holder.command, holder.pid, holder.released_at) == ("ingest fit", os.getpid(), None)
        assert holder.free_reason() is None
    after = lease.read_holder(lake, ATHLETE)
    assert after.token == held.record.token and after.released_at is not None
    with lease.acquire(lake, ATHLETE, "ingest fit", wait_s=0) as again:  # a released lease is free at once
        assert again.record.generation == held.record.generation + 1
    assert _generations(lake) == [f"{again.record.generation:020d}.json"]  # history cleaned up


def test_an_exception_releases_the_lease(local_lake):
    with pytest.raises(ZeroDivisionError):
        with lease.acquire(local_lake, ATHLETE, "build marts"):
            1 / 0
    assert lease.read_holder(local_lake, ATHLETE).released_at is not None


def test_heartbeat_renews_the_lease(local_lake):
    with lease.acquire(local_lake, ATHLETE, "rebuild", ttl_s=1.0, heartbeat_s=0.1) as held:
        time.sleep(1.5)  # longer than the ttl: only the heartbeat keeps it
        holder = lease.read_holder(local_lake, ATHLETE)
        assert holder.heartbeat_at > holder.acquired_at
        assert holder.heartbeat_age_s() < 1.0 and holder.free_reason() is None
        assert not held.lost


def test_a_second_process_waits_and_gets_the_lease_after_release(local_lake):
    results = SPAWN.Queue()
    with lease.acquire(local_lake, ATHLETE, "ingest fit"):
        child = SPAWN.Process(target=lease_workers.wait_for_lease, args=(local_lake, ATHLETE, results))
        child.start()
        time.sleep(2.0)  # long enough for the child to start and find the lease taken
        released_at = time.time()
    waited, taken_at = results.get(timeout=30)
    child.join(10)
    assert child.exitcode == 0
    assert waited == ["ingest fit"]
    assert taken_at >= released_at


def test_two_racing_processes_never_hold_at_once(local_lake, tmp_path):
    log_path = tmp_path / "intervals.txt"
    start = SPAWN.Barrier(2)
    racers = [
        SPAWN.Process(target=lease_workers.take_turns, args=(local_lake, ATHLETE, 50, str(log_path), name, start))
        for name in ("A", "B")
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(50)
    assert [r.exitcode for r in racers] == [0, 0]
    intervals = sorted((float(s), float(e), name) for name, s, e in (line.split() for line in log_path.read_text().splitlines()))
    assert len(intervals) == 100 and {n for _, _, n in intervals} == {"A", "B"}
    overlaps = [(a, b) for a, b in zip(intervals, intervals[1:]) if b[0] < a[1]]
    assert overlaps == []
    assert any(a[2] != b[2] for a, b in zip(intervals, intervals[1:]))  # they did take turns


def test_racing_creates_of_a_generation_have_exactly_one_winner(local_lake):
    """The primitive under the lease, at full contention (local: moto's conditional put is not atomic)."""
    start, results = SPAWN.Barrier(3), SPAWN.Queue()
    racers = [
        SPAWN.Process(target=lease_workers.create_generations, args=(local_lake, ATHLETE, 300, name, start, results))
        for name in ("A", "B", "C")
    ]
    for racer in racers:
        racer.start()
    wins = dict(results.get(timeout=60) for _ in racers)
    for racer in racers:
        racer.join(10)
    assert sorted(g for won in wins.values() for g in won) == list(range(1, 301))  # each once, none lost
    objects = LeaseObjects(local_lake, ATHLETE)
    assert all(objects.read(g) == name.encode() for name, won in wins.items() for g in won)


def test_a_killed_holder_is_taken_over_at_once(lake):
    ready = SPAWN.Event()
    child = SPAWN.Process(target=lease_workers.hold_until_killed, args=(lake, ATHLETE, ready))
    child.start()
    assert ready.wait(30)
    killed = lease.read_holder(lake, ATHLETE)
    assert killed.pid == child.pid and killed.free_reason() is None
    child.kill()  # SIGKILL: no release, and a zombie until joined below
    waits = []
    started = time.monotonic()
    with lease.acquire(lake, ATHLETE, "ingest fit", on_wait=waits.append) as held:
        elapsed = time.monotonic() - started
    child.join(10)
    assert elapsed < 2.0
    assert held.record.generation == killed.generation + 1
    assert len(waits) <= 1  # at most one poll while the kill lands


def test_a_silent_holder_on_another_host_is_taken_over(lake):
    old = lease._iso(lease._now() - timedelta(minutes=5))
    _plant(lake, _record(acquired_at=old, heartbeat_at=old))
    started = time.monotonic()
    with lease.acquire(lake, ATHLETE, "ingest fit", wait_s=0) as held:
        assert held.record.generation == 2
    assert time.monotonic() - started < 2.0


def test_a_live_holder_on_another_host_makes_us_wait_then_fail(lake):
    _plant(lake, _record())
    waits = []
    started = time.monotonic()
    with pytest.raises(LeaseBusyError, match=r"athlete a-0123456789abcdef0123 is busy: `sync strava` \(pid 4242 on pod-on-another-node\) since"):
        lease.acquire(lake, ATHLETE, "ingest fit", wait_s=1.0, on_wait=waits.append)
    assert time.monotonic() - started >= 1.0
    assert [w.command for w in waits] == ["sync strava"]
    assert lease.read_holder(lake, ATHLETE).token == "f" * 32  # untouched


def test_same_machine_pid_reused_by_another_process_is_free(local_lake):
    host, boot_id, pid_ns = lease._machine()
    alive_but_reused = _record(host=host, boot_id=boot_id, pid_ns=pid_ns, pid=os.getpid(), pid_started=1)
    assert alive_but_reused.free_reason() == f"process {os.getpid()} on {host} is gone"
    mine = lease._new_record(ATHLETE, 1, "ingest fit", 60.0, "0" * 32)
    assert mine.free_reason() is None  # this very process, same start time: alive
    _plant(local_lake, mine)
    with pytest.raises(LeaseBusyError):
        lease.acquire(local_lake, ATHLETE, "ingest fit", wait_s=0.2)


def test_release_leaves_another_holders_lease_alone(lake):
    held = lease.acquire(lake, ATHLETE, "ingest fit", ttl_s=2.0, heartbeat_s=0.2)
    other = _record(generation=held.record.generation, token="e" * 32)
    _plant(lake, other)  # as if our lease had been taken over under our feet
    deadline = time.monotonic() + 10
    while not held.lost and time.monotonic() < deadline:
        time.sleep(0.05)
    assert held.lost  # the heartbeat noticed, and stopped writing
    with pytest.raises(LeaseLostError):
        held.ensure_held()
    held.release()
    assert lease.read_holder(lake, ATHLETE) == other  # neither renewed nor released by us


def test_a_takeover_by_a_higher_generation_is_noticed(local_lake):
    with lease.acquire(local_lake, ATHLETE, "ingest fit") as held:
        held.ensure_held()
        _plant(local_lake, _record(generation=held.record.generation + 1))
        with pytest.raises(LeaseLostError):
            held.ensure_held()
    assert lease.read_holder(local_lake, ATHLETE).token == "f" * 32


def test_erasure_deletes_every_lease_object(lake):
    with lease.acquire(lake, ATHLETE, "erase athlete"):
        lease.delete_leases(lake, ATHLETE)
    assert lease.read_holder(lake, ATHLETE) is None


@pytest.mark.parametrize("bad", ["", "../me", "a/b", ".hidden"])
def test_an_athlete_id_that_cannot_name_a_folder_is_refused(local_lake, bad):
    with pytest.raises(ValueError, match="cannot name a lease"):
        lease.acquire(local_lake, bad, "ingest fit")
