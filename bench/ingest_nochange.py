"""No-change ingest benchmark (issue 16, item 3): `runlake ingest fit` over an inbox where nothing
changed, against the CLI's own start-up.

On the synthetic history of BENCH_NOCHANGE_YEARS years (default 10; cached, bench/synthetic_cache.py)
placed in an athlete's inbox and ingested once (timed, for information), it measures, in the same run:
  * reference: `runlake ingest fit <one already-known file of the inbox>` (CLI start, imports, lease,
    one read and the sha256 look-up: the CLI's own start-up);
  * no change: `runlake ingest fit` (the whole inbox, nothing changed: listed, nothing read);
BENCH_REPEAT times each (default 3, alternating, medians used), and prints both absolute times
and the ratio no change / reference (goal ≤ 1.5). The no-change run must report every file
unchanged (not read), else the benchmark fails. Done with a local inbox and lake, then (unless
BENCH_NOCHANGE_S3=0) with both on S3 (a moto server in its own process on loopback).

    python -m bench bench.ingest_nochange
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import linked_home

REPO = Path(__file__).resolve().parents[1]
GOAL = 1.5

_MOTO = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()
server.stop()
"""


def runlake(args: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "runlake"), *args], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, proc.stdout


def unchanged_in(stdout: str) -> int:
    found = re.search(r"(\d+) unchanged \(not read\)", stdout)
    if found is None:
        raise RuntimeError(f"no 'unchanged' count in the ingest summary: {stdout!r}")
    return int(found.group(1))


def measure(name: str, env: dict, one_known: str, files: int, repeat: int) -> None:
    first_s, first_out = runlake(["ingest", "fit"], env)
    print(f"[nochange] {name}: {files} files; first ingest of the inbox {first_s:.1f} s: {first_out.strip().splitlines()[-1]}")
    references, nochanges = [], []
    for _ in range(repeat):
        seconds, _out = runlake(["ingest", "fit", one_known], env)
        references.append(seconds)
        seconds, out = runlake(["ingest", "fit"], env)
        if unchanged_in(out) != files:
            raise RuntimeError(f"the no-change ingest read files: {out.strip()}")
        nochanges.append(seconds)
    reference, nochange = statistics.median(references), statistics.median(nochanges)
    runs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    ratio = nochange / reference
    print(f"  no-change ingest (whole inbox)  {nochange:6.2f} s  median of {runs(nochanges)}")
    print(f"  reference: one known file        {reference:6.2f} s  median of {runs(references)}")
    print(f"  ratio no change / reference = {ratio:.2f}  (goal ≤ {GOAL}: {'met' if ratio <= GOAL else 'NOT met'})")


def local(history: list[Path], work: Path, repeat: int) -> None:
    inbox, env = linked_home(history, work / "home")
    measure("local inbox and lake", env, str(inbox / history[0].name), len(history), repeat)


def s3(history: list[Path], work: Path, repeat: int) -> None:
    import boto3

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", _MOTO, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("moto server did not start")
        aws = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
        client = boto3.client("s3", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1",
                              aws_access_key_id=aws["AWS_ACCESS_KEY_ID"], aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"])
        client.create_bucket(Bucket="bench")
        started = time.perf_counter()
        for path in history:
            client.upload_file(str(path), "bench", f"inbox/{path.name}")
        print(f"[nochange] uploaded {len(history)} files to moto in {time.perf_counter() - started:.1f} s (not timed below)")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
        env.update(aws, RUNLAKE_HOME=str(work / "home"), RUNLAKE_LAKE_URI="s3://bench/lake", RUNLAKE_INBOX_URI="s3://bench/inbox/")
        measure("S3 (moto) inbox and lake", env, f"s3://bench/inbox/{history[0].name}", len(history), repeat)
    finally:
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    from bench.synthetic_cache import cached_history

    years = float(os.environ.get("BENCH_NOCHANGE_YEARS", "10"))
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    history = sorted(cached_history(years).glob("*.fit"))
    print(f"[nochange] synthetic history, {years:g} years; `uptime`: {os.getloadavg()[0]:.2f} load (1 min) at the start")
    with tempfile.TemporaryDirectory(prefix="runlake-bench-nochange-") as tmp:
        (Path(tmp) / "local").mkdir()
        local(history, Path(tmp) / "local", repeat)
        if os.environ.get("BENCH_NOCHANGE_S3", "1") != "0":
            (Path(tmp) / "s3").mkdir()
            s3(history, Path(tmp) / "s3", repeat)
    print(f"[nochange] load (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
