"""`runlake`, SIGKILLed right after its N-th Delta commit: the launcher of the kill tests.

    python -m tests.reliability.killing_cli --after N --log FILE -- <runlake arguments>
    python -m tests.reliability.killing_cli --serve      # a fork server, see `serve`

Wraps every deltalake call that commits to a table's log — `write_deltalake`, `TableMerger.execute`,
`DeltaTable.delete|update|restore|vacuum|repair`, `TableAlterer.*`, `TableOptimizer.compact|z_order`
— before any runlake module is imported (`lake/table.py` imports `write_deltalake` by name). Each
commit that returns appends one line (`<n> <operation> <table uri> <seconds since the start>`) to
the log, flushed and fsynced, so the test knows how many commits an uninterrupted run makes and
what a killed run had done. Right after the N-th commit the process SIGKILLs itself: no `finally`,
no lease release, no exit handler runs, as when a pod is OOM-killed. `--after 0` never kills.

Then the real entry point runs (`flows.cli:main`, the `runlake` script of pyproject.toml): no
test-only code path is added to the production modules.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import time

#: Set in the process that runs the command (after a fork in the server).
_after = 0
_log: str | None = None
_count = 0
_started = time.monotonic()


def _committed(operation: str, uri: str) -> None:
    global _count
    if _log is None:  # the fork server itself never commits; a stray call is not counted
        return
    _count += 1
    with open(_log, "a", encoding="utf-8") as log:
        log.write(f"{_count} {operation} {uri} {time.monotonic() - _started:.3f}\n")
        log.flush()
        os.fsync(log.fileno())
    if _count == _after:
        os.kill(os.getpid(), signal.SIGKILL)


def _install() -> None:
    import deltalake
    import deltalake.writer
    import deltalake.writer.writer as writer_module
    from deltalake import DeltaTable
    from deltalake._internal import RawDeltaTable
    from deltalake.table import TableAlterer, TableMerger, TableOptimizer

    def uri_of(obj) -> str:
        """The table a DeltaTable, TableMerger, TableAlterer or TableOptimizer commits to."""
        for name in ("table", "_table"):
            value = getattr(obj, name, None)
            if isinstance(value, DeltaTable):
                return value.table_uri
            if isinstance(value, RawDeltaTable):
                return value.table_uri()
        return obj.table_uri if isinstance(obj, DeltaTable) else type(obj).__name__

    def wrap_method(cls, name: str, label: str) -> None:
        original = getattr(cls, name)

        @functools.wraps(original)
        def wrapper(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            _committed(label, uri_of(self))
            return result

        setattr(cls, name, wrapper)

    original_write = writer_module.write_deltalake

    @functools.wraps(original_write)
    def write(table_or_uri, *args, **kwargs):
        result = original_write(table_or_uri, *args, **kwargs)
        uri = table_or_uri if isinstance(table_or_uri, str) else getattr(table_or_uri, "table_uri", str(table_or_uri))
        _committed(f"write:{kwargs.get('mode', 'error')}" + (":where" if kwargs.get("predicate") else ""), str(uri))
        return result

    for module in (deltalake, deltalake.writer, writer_module):
        module.write_deltalake = write
    for name in ("delete", "update", "restore", "vacuum", "repair"):
        wrap_method(DeltaTable, name, name)
    wrap_method(TableMerger, "execute", "merge")
    for name in ("compact", "z_order"):
        wrap_method(TableOptimizer, name, f"optimize:{name}")
    for name in [n for n in vars(TableAlterer) if not n.startswith("_") and callable(getattr(TableAlterer, n))]:
        wrap_method(TableAlterer, name, f"alter:{name}")


def _run_cli(args: list[str]) -> None:
    from flows.cli import main as runlake_main

    sys.argv = ["runlake", *args]
    runlake_main()


def serve() -> None:
    """A fork server: import runlake once, then one forked process per job.

    Reads one JSON job a line on stdin — {"args", "env", "cwd", "after", "log", "stdout",
    "stderr", "kill_at_s"} — and answers one JSON line {"returncode", "seconds"} when that process
    ended (returncode -9 when killed). The process is a new session; `kill_at_s` SIGKILLs its whole
    group that many seconds after the fork unless it ended before. Python's start-up and imports
    (seconds each on a loaded machine) are paid once, not once per run; each run is still its own
    process, with fresh module state (the server never runs a command), killed for real.
    """
    _install()
    import flows.cli  # noqa: F401  every command module, imported once here

    for line in sys.stdin:
        job = json.loads(line)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(job)
        status = _wait(pid, job.get("kill_at_s"), started)
        try:  # what is left of its group: decoding workers of a killed rebuild
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"returncode": returncode, "seconds": time.monotonic() - started}), flush=True)


def _wait(pid: int, kill_at_s: float | None, started: float) -> int:
    if kill_at_s is None:
        return os.waitpid(pid, 0)[1]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() - started >= kill_at_s:
            os.killpg(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        time.sleep(0.01)


def _child(job: dict) -> None:
    global _after, _log, _started, _count
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # not the server's job pipe
        os.close(devnull)
        for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115  the child's own streams
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        _after, _log, _count, _started = job["after"], job["log"], 0, time.monotonic()
        _run_cli(job["args"])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # an uncaught error: a traceback and exit 1, like the real script
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(argv: list[str] | None = None) -> None:
    global _after, _log
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--serve"]:
        serve()
        return
    if "--" not in argv:
        raise SystemExit("usage: python -m tests.reliability.killing_cli (--serve | --after N --log FILE -- <runlake arguments>)")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="killing_cli")
    parser.add_argument("--after", type=int, required=True, help="SIGKILL right after this commit (0: never)")
    parser.add_argument("--log", required=True, help="append one line per commit here")
    options = parser.parse_args(argv[:split])
    _install()
    _after, _log = options.after, options.log
    _run_cli(argv[split + 1:])


if __name__ == "__main__":
    main()
