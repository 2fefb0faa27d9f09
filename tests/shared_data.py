"""Where the shared real-data corpus is: `<repo>/../shared/data` (beside the clone).

`RUNLAKE_TEST_SHARED_DATA` may point elsewhere (e.g. when running from a git worktree whose
parent folder has no `shared/`). Read when called, never at import.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    override = os.environ.get("RUNLAKE_TEST_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def shared_fit_dir_or_none() -> Path | None:
    """The FIT corpus folder, or None when it is absent."""
    path = shared_data_dir() / "fit"
    return path if path.is_dir() else None
