"""One writer per athlete at a time: a lease kept in the lake, with a time-to-live.

Every process that writes an athlete's data — the CLI (which runs without a Prefect server),
the flows, the API/web replicas, Kubernetes pods on other hosts — shares only the lake, so the
lease lives there:

    with lease.acquire(lake, athlete_id, "ingest fit"):
        ...  # write

Take it late: only once the command knows it will write (a refused input or a migration with
nothing to do writes nothing, the lease included).

**Where.** `<lake>/private/leases/<athlete_id>/<generation>.json`, one small JSON object per
acquisition, `generation` a 20-digit counter. The highest generation is the lease's current
state; lower ones are history that the next acquirer deletes. A record holds no secret:
athlete_id, generation, command, host, pid, process start time, boot id, pid namespace,
acquired_at, heartbeat_at, released_at, ttl_s and a random token. Erasing an athlete deletes the
folder (`delete_leases`).

**How it is atomic.** The one atomic primitive is *create-if-absent* of a whole object
(`lake/lease_store.py`: `os.link` of a complete temporary file locally, a PUT with
`If-None-Match: *` on S3). To acquire, a process lists the folder, reads the highest generation
N, and when that lease is free (released, its holder's process gone, or its heartbeat older than
its TTL) creates N+1. Of two racers only one creates N+1; the other reads it and waits. A file is
only deleted by the creator of a higher one, so the highest generation never goes away; a
creator lists again after its create and backs out if a higher generation exists (its N+1 may
have been re-created after a cleanup), which closes the last gap. Only the holder rewrites its
own generation (heartbeat, release), after checking its token: it never touches another's lease.

**Measured, not assumed** (deltalake 1.6.6, moto 5.2.5, /tmp scripts, not kept). A Delta table
`private/leases` would also be safe: two merges from the same snapshot raise `CommitFailedError`
for the second — insert of the same key, insert of *different* keys, a compare-and-set update of
the same row — and so does a predicate overwrite; only two blind appends both succeed. It was
not chosen: every heartbeat would be a commit (8,640 a day per busy athlete, needing checkpoints
and vacuum), every athlete's lease commit would conflict with every other's, and a local merge
takes ~14 ms against ~1 ms for a whole acquire + release here. moto answers 412 to
`If-None-Match: *` on an existing key, but checks and then writes without a lock, so its
conditional put is not guaranteed atomic (8 threads racing for 30 keys found no double winner,
which proves nothing): the local-file-system race test is the authoritative one. Real S3 makes
the conditional PUT atomic (and may answer 409 ConditionalRequestConflict: a lost race).

**Failure modes.** (1) A TTL lease is not a fence: a holder paused for longer than the TTL (a
suspended laptop, a stopped container) loses the lease to the next process while it still
believes it holds it; its heartbeat notices (`Lease.lost`, logged as an error) but cannot stop
work already in flight. `Lease.ensure_held()` before a commit narrows that window. (2) Staleness
compares this machine's clock with the holder's: hosts need synchronised clocks (NTP), the TTL
(60 s) absorbs tens of seconds of skew. (3) "Same machine" means same hostname, boot id and pid
namespace; only then is a dead pid (or a pid reused by a process with another start time, or a
zombie) trusted to mean "holder died" at once. Elsewhere only the TTL frees a lease.
(4) A lake folder on a file system without hard links (some FUSE/SMB mounts) cannot hold leases.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from lake.lease_store import LeaseObjects
from lake.storage import Lake

log = logging.getLogger(__name__)

TTL_S = 60.0
HEARTBEAT_S = 10.0
WAIT_S = 600.0  # flows and CLI alike: ten minutes, then LeaseBusyError
MAX_POLL_S = 5.0

_ATHLETE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class LeaseBusyError(RuntimeError):
    """Another live process holds the athlete's lease and did not let go within `wait_s`."""


class LeaseLostError(RuntimeError):
    """This process's lease was taken over (its heartbeat lapsed) or deleted."""


@dataclass(frozen=True)
class LeaseRecord:
    """The content of one lease object (no secret: the token only identifies the holder)."""

    athlete_id: str
    generation: int
    command: str
    host: str
    pid: int
    pid_started: int | None  # clock ticks after boot (/proc/<pid>/stat), against pid reuse
    boot_id: str | None
    pid_ns: str | None
    acquired_at: str
    heartbeat_at: str
    released_at: str | None
    ttl_s: float
    token: str

    def describe(self) -> str:
        return f"`{self.command}` (pid {self.pid} on {self.host}) since {self.acquired_at}"

    def heartbeat_age_s(self, now: datetime | None = None) -> float:
        return ((now or _now()) - datetime.fromisoformat(self.heartbeat_at)).total_seconds()

    def free_reason(self) -> str | None:
        """Why this lease no longer binds anyone, or None while its holder is alive."""
        if self.released_at:
            return "released"
        if (self.host, self.boot_id, self.pid_ns) == _machine():
            if not _process_alive(self.pid, self.pid_started):
                return f"process {self.pid} on {self.host} is gone"
        if self.heartbeat_age_s() > self.ttl_s:
            return f"heartbeat {self.heartbeat_age_s():.0f} s old (ttl {self.ttl_s:.0f} s)"
        return None


def acquire(
    lake: Lake,
    athlete_id: str,
    holder_command: str,
    *,
    ttl_s: float = TTL_S,
    wait_s: float = WAIT_S,
    heartbeat_s: float = HEARTBEAT_S,
    on_wait: Callable[[LeaseRecord], None] | None = None,
) -> "Lease":
    """Take the athlete's lease, waiting up to `wait_s` for a live holder; a held `Lease`.

    Use it as a context manager: the lease is renewed every `heartbeat_s` by a background thread
    and released on exit, exceptions included. `on_wait` is called once, with the holder's record,
    when this call starts waiting (the CLI prints "waiting for <command> started at <time> on
    <host>"); by default that is logged. Raises `LeaseBusyError` when the wait runs out.
    """
    if not _ATHLETE_ID.match(athlete_id):
        raise ValueError(f"athlete id {athlete_id!r} cannot name a lease")
    if not 0 < heartbeat_s < ttl_s:
        raise ValueError(f"heartbeat ({heartbeat_s} s) must be shorter than the ttl ({ttl_s} s)")
    store = _Store(lake, athlete_id)
    token = secrets.token_hex(16)
    deadline = time.monotonic() + wait_s
    delay, waiting = 0.05, False
    while True:
        generations = store.generations()
        top = generations[-1] if generations else 0
        current = store.read(top) if top else None
        if top and current is None:  # deleted between list and read: look again
            continue
        if current is not None and current.token == token:  # our PUT succeeded, its retry got 412
            held = _confirm(store, current, heartbeat_s)
            if held is not None:
                return held
            continue
        reason = "no lease yet" if current is None else current.free_reason()
        if reason is not None:
            if current is not None:
                log.info("lease of %s: taking over from %s (%s)", athlete_id, current.describe(), reason)
            mine = _new_record(athlete_id, top + 1, holder_command, ttl_s, token)
            if store.create(mine):
                held = _confirm(store, mine, heartbeat_s)
                if held is not None:
                    return held
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LeaseBusyError(
                f"athlete {athlete_id} is busy: {current.describe()} holds its lease "
                f"(heartbeat {current.heartbeat_age_s():.0f} s ago); gave up after {wait_s:g} s"
            )
        if not waiting:
            waiting = True
            (on_wait or _log_wait)(current)
        time.sleep(min(remaining, delay * (0.5 + random.random())))
        delay = min(MAX_POLL_S, delay * 2)


def read_holder(lake: Lake, athlete_id: str) -> LeaseRecord | None:
    """The athlete's current lease record (released or not), None when it never had one."""
    store = _Store(lake, athlete_id)
    generations = store.generations()
    return store.read(generations[-1]) if generations else None


def delete_leases(lake: Lake, athlete_id: str) -> None:
    """Erasure: remove every lease object of the athlete (the caller's own lease included)."""
    store = _Store(lake, athlete_id)
    for generation in store.generations():
        store.delete(generation)
    store.remove_folder()


class Lease:
    """A held lease: renewed in the background until `release()` (or the end of a `with`)."""

    def __init__(self, store: "_Store", record: LeaseRecord, heartbeat_s: float) -> None:
        self.record = record
        self._store = store
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(
            target=self._heartbeat, args=(heartbeat_s,), name=f"lease-{record.athlete_id}", daemon=True
        )
        self._thread.start()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def ensure_held(self) -> None:
        """Raise `LeaseLostError` when the lease has been taken over (call before a commit)."""
        if self._lost.is_set() or not self._still_mine():
            self._lost.set()
            raise LeaseLostError(f"lease of {self.record.athlete_id} (generation {self.record.generation}) was taken over")

    def release(self) -> None:
        """Stop the heartbeat and mark the lease released — only if it is still this holder's."""
        self._stop.set()
        self._thread.join()
        current = self._store.read(self.record.generation)
        if current is None or current.token != self.record.token:
            log.warning("lease of %s: not ours any more at release; left as it is", self.record.athlete_id)
            return
        self._store.put(replace(current, released_at=_iso(_now())))

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def _still_mine(self) -> bool:
        current = self._store.read(self.record.generation)
        generations = self._store.generations()
        return current is not None and current.token == self.record.token and generations[-1:] == [self.record.generation]

    def _heartbeat(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                if not self._still_mine():
                    self._lost.set()
                    log.error("lease of %s was taken over while %s ran", self.record.athlete_id, self.record.command)
                    return
                self.record = replace(self.record, heartbeat_at=_iso(_now()))
                self._store.put(self.record)
            except Exception as exc:  # a network blip: try again at the next beat, the TTL allows five
                log.warning("lease of %s: heartbeat failed (%r)", self.record.athlete_id, exc)


def _confirm(store: "_Store", mine: LeaseRecord, heartbeat_s: float) -> Lease | None:
    """After creating `mine`: the lease when no higher generation appeared, else back out."""
    generations = store.generations()
    if generations and generations[-1] == mine.generation:
        for older in generations[:-1]:
            store.delete(older)
        return Lease(store, mine, heartbeat_s)
    store.delete(mine.generation)  # superseded (our name was re-created after a cleanup)
    return None


def _log_wait(holder: LeaseRecord) -> None:
    log.info("lease of %s: waiting for %s", holder.athlete_id, holder.describe())


class _Store:
    """The athlete's lease objects (lake/lease_store.py), as `LeaseRecord`s."""

    def __init__(self, lake: Lake, athlete_id: str) -> None:
        self._objects = LeaseObjects(lake, athlete_id)

    def generations(self) -> list[int]:
        return self._objects.generations()

    def read(self, generation: int) -> LeaseRecord | None:
        data = self._objects.read(generation)
        return None if data is None else LeaseRecord(**json.loads(data))

    def create(self, record: LeaseRecord) -> bool:
        return self._objects.create(record.generation, _encode(record))

    def put(self, record: LeaseRecord) -> None:
        self._objects.put(record.generation, _encode(record))

    def delete(self, generation: int) -> None:
        self._objects.delete(generation)

    def remove_folder(self) -> None:
        self._objects.remove_folder()


def _encode(record: LeaseRecord) -> bytes:
    return json.dumps(asdict(record), sort_keys=True).encode()


# --- who am I, and is that process still alive ------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks after boot) of a process, from /proc (Linux only)."""
    stat = _read_text(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)", which may hold spaces
    return fields[0], int(fields[19])


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _process_alive(pid: int, started: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc: the pid exists, trust it
    state, start = stat
    return state not in ("Z", "X") and (started is None or start == started)


@functools.cache
def _machine() -> tuple[str, str | None, str | None]:
    """(hostname, boot id, pid namespace): where a pid means the same process as here."""
    return socket.gethostname(), _read_text("/proc/sys/kernel/random/boot_id"), _pid_namespace()


def _new_record(athlete_id: str, generation: int, command: str, ttl_s: float, token: str) -> LeaseRecord:
    stamp = _iso(_now())
    stat = _proc_stat(os.getpid())
    host, boot_id, pid_ns = _machine()
    return LeaseRecord(
        athlete_id=athlete_id,
        generation=generation,
        command=command,
        host=host,
        pid=os.getpid(),
        pid_started=stat[1] if stat else None,
        boot_id=boot_id,
        pid_ns=pid_ns,
        acquired_at=stamp,
        heartbeat_at=stamp,
        released_at=None,
        ttl_s=ttl_s,
        token=token,
    )
