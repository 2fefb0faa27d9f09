"""Local files runlake creates are the athlete's alone: folders 0700, files 0600.

The lake holds GPS tracks, heart rates and the public-id key; the home holds the key encrypting
the Strava credentials in the lake (`secret.key`).
With the common umask 022 every library (delta-rs, polars, pyarrow) would create them readable
by every local user, so each process edge (the CLI's main, each flow, hence the dashboard the
CLI starts) calls `private_umask()` first, and the folders runlake creates itself are made 0700
explicitly (`make_private_dir`), whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700


def private_umask() -> None:
    """New files 0600 and folders 0700 in this process and the processes it starts."""
    os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> None:
    """Create `path` and its missing parents, each 0700 (an existing folder keeps its mode)."""
    path = Path(path)
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # created meanwhile by a concurrent run: it is there, as wanted
            continue
        folder.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask; chmod is not
