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
from collections.abc import Callable
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


def create_private_once(path: Path, content: Callable[[], bytes]) -> bool:
    """Create `path` (0600, its folders 0700) holding `content()`, unless it exists: O_EXCL, so
    processes racing to create it all end up with the first one written. True when this call
    created it. For a generated key or secret that must stay the same once made."""
    path = Path(path)
    make_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(content())
        out.flush()
        os.fsync(out.fileno())
    return True
