"""The `runlake` command line. Each command group lives in `flows/commands/<group>.py`.

Commands call the same plain functions the Prefect flows wrap, so no Prefect server is needed.
Errors the user can fix print one line on stderr and exit non-zero, without a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer

from flows.commands import register_all
from runlake.files import private_umask

app = typer.Typer(
    name="runlake",
    help="runlake: your training data in a Delta Lake. See README.md.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_all(app)


def main() -> None:
    private_umask()  # lake, home and token files: the athlete's alone (runlake/files.py)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except KeyboardInterrupt:
        print("runlake: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
