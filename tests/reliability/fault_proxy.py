"""A fault-injecting HTTP proxy on loopback, put in front of the moto S3 server with
`AWS_ENDPOINT_URL` (issue 17 item 2).

Each request is read whole from the client, then, by a seeded schedule, either forwarded to the
upstream server unchanged or hit by one fault:

- `error`: answered 503 SlowDown (or 500 InternalError) without reaching S3;
- `slow`: forwarded after a pause shorter than the client timeout;
- `drop`: the connection closed before the request reaches S3 (nothing written);
- `lost`: forwarded, S3 answers, and the connection is closed instead of passing the answer on
  (a PUT *was* written: the client must not write it twice);
- `stall`: no answer for `stall_s`, longer than the client timeout, then the connection closed.

`first_commits` forces faults on the first commits (PUTs under `_delta_log/`), so a lost or
dropped commit happens whatever the dice say. PUTs under `_delta_log/` are forwarded one at a time: moto's
conditional put is not atomic, and this proxy serialises them so a commit race behaves as on real
S3 (one writer wins, the other gets 412).

One connection carries one request (the answer says `Connection: close`), which keeps the proxy
simple; clients open a new connection per request.
"""

from __future__ import annotations

import collections
import json
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass, field, fields

FAULTS = ("error", "slow", "drop", "lost", "stall")


@dataclass
class Schedule:
    """Which fault hits which request: each request independently, with these shares, from `seed`."""

    seed: int = 0
    shares: dict[str, float] = field(default_factory=dict)  # fault -> probability per request
    first_commits: tuple[str, ...] = ()  # faults for the first commit PUTs, in order, whatever the shares
    start_after: int = 0  # the first N requests pass untouched (an outage that starts mid-command)
    slow_s: float = 0.4
    stall_s: float = 6.0

    def __post_init__(self) -> None:
        self.first_commits = tuple(self.first_commits)
        unknown = (set(self.shares) | set(self.first_commits)) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        if sum(self.shares.values()) > 1:
            raise ValueError("fault shares add up to more than 1")
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._commits_seen = 0
        self._seen = 0

    def pick(self, method: str, path: str) -> str | None:
        with self._lock:
            self._seen += 1
            if self._seen <= self.start_after:
                return None
            if is_commit(method, path):
                self._commits_seen += 1
                if self._commits_seen <= len(self.first_commits):
                    return self.first_commits[self._commits_seen - 1]
            roll = self._random.random()
        for fault, share in self.shares.items():
            if roll < share:
                return fault
            roll -= share
        return None


def is_commit(method: str, path: str) -> bool:
    """A PUT of a Delta log entry (a commit, or a checkpoint)."""
    return method == "PUT" and "/_delta_log/" in path


class FaultProxy:
    """The proxy; `with FaultProxy(upstream_url, schedule) as proxy:` serves on `proxy.url`."""

    def __init__(self, upstream_url: str, schedule: Schedule | None = None) -> None:
        host, port = upstream_url.removeprefix("http://").rstrip("/").split(":")
        self.upstream = (host, int(port))
        self.schedule = schedule or Schedule()
        self.injected: collections.Counter[str] = collections.Counter()
        self.requests = 0
        self._count_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(128)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closed.set()
        self._server.close()
        self._thread.join(5)

    def use(self, schedule: Schedule) -> None:
        """Switch to another fault schedule (and start counting afresh)."""
        with self._count_lock:
            self.schedule = schedule
            self.injected.clear()
            self.requests = 0

    # --- serving ----------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(60)
            try:
                head, body = _read_request(client)
            except (OSError, ValueError):
                return
            method, path = head.split(b" ", 2)[:2]
            method_s, path_s = method.decode(), path.decode()
            fault = self.schedule.pick(method_s, path_s)
            with self._count_lock:
                self.requests += 1
                if fault:
                    self.injected[fault] += 1
            schedule = self.schedule
            if fault == "error":
                _send_error(client, random.Random(len(body)).choice((503, 500)), head_only=method == b"HEAD")
                return
            if fault == "drop":
                return
            if fault == "stall":
                time.sleep(schedule.stall_s)
                return
            if fault == "slow":
                time.sleep(schedule.slow_s)
            try:
                if is_commit(method_s, path_s):
                    with self._commit_lock:
                        answer = self._forward(head, body)
                else:
                    answer = self._forward(head, body)
            except OSError:
                return
            if fault == "lost":
                return
            try:
                client.sendall(answer)
            except OSError:
                return

    def _forward(self, head: bytes, body: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as up:
            up.sendall(_with_connection_close(head) + body)
            chunks = []
            while True:
                data = up.recv(65536)
                if not data:
                    break
                chunks.append(data)
        raw = b"".join(chunks)
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            raise OSError("upstream answer without a header")
        return _with_connection_close(raw[: end + 4]) + raw[end + 4:]


def _read_request(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request head (through the blank line) and its body (Content-Length or chunked, raw)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ValueError("connection closed before a request")
        buf += data
    end = buf.index(b"\r\n\r\n") + 4
    head, rest = buf[:end], buf[end:]
    headers = _headers(head)
    if headers.get(b"expect", b"").lower() == b"100-continue":  # botocore's PUTs wait for it
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"expect:"))
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            data = sock.recv(65536)
            if not data:
                raise ValueError("connection closed inside a chunked body")
            rest += data
        return head, rest
    length = int(headers.get(b"content-length", b"0"))
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            raise ValueError("connection closed inside a body")
        rest += data
    return head, rest


def _headers(head: bytes) -> dict[bytes, bytes]:
    out = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            out[name.strip().lower()] = value.strip()
    return out


def _with_connection_close(head: bytes) -> bytes:
    lines = [line for line in head[:-4].split(b"\r\n") if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


def _send_error(sock: socket.socket, status: int, *, head_only: bool) -> None:
    code, reason = {503: (b"SlowDown", b"Service Unavailable"), 500: (b"InternalError", b"Internal Server Error")}[status]
    body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>' + code + b"</Code><Message>injected by the fault "
            b"proxy</Message></Error>")
    head = (b"HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (status, reason, len(body)))
    try:
        sock.sendall(head if head_only else head + body)  # an answer to HEAD has no body
    except OSError:  # the client already gave up on this connection: nothing to tell it
        return


class ProxyProcess:
    """A `FaultProxy` in its own process, driven over its stdin: the test process runs deltalake
    calls that can hold the GIL while they wait on the network, which would starve a proxy thread
    beside them. The same `url`, `use`, `injected` and `requests` as `FaultProxy`."""

    def __init__(self, upstream_url: str) -> None:
        import subprocess

        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.fault_proxy", upstream_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=_REPO,
        )
        self.url = self._proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError(f"the fault proxy did not start: {self.url!r}")

    def __enter__(self) -> "ProxyProcess":
        return self

    def __exit__(self, *exc) -> None:
        self._proc.stdin.close()
        self._proc.wait(10)

    def _ask(self, message: dict) -> dict:
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def use(self, schedule: Schedule) -> None:
        self._ask({"use": {f.name: getattr(schedule, f.name) for f in fields(Schedule)}})

    @property
    def injected(self) -> dict[str, int]:
        return self._ask({"counts": True})["injected"]

    @property
    def requests(self) -> int:
        return self._ask({"counts": True})["requests"]


_REPO = __file__.rsplit("/tests/", 1)[0]


def _serve_forever(upstream_url: str) -> None:
    """The child of `ProxyProcess`: print the URL, then answer one JSON line per command line."""
    with FaultProxy(upstream_url) as proxy:
        print(proxy.url, flush=True)
        for line in sys.stdin:
            message = json.loads(line)
            if "use" in message:
                proxy.use(Schedule(**message["use"]))
            print(json.dumps({"injected": dict(proxy.injected), "requests": proxy.requests}), flush=True)


if __name__ == "__main__":
    _serve_forever(sys.argv[1])
