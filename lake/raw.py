"""The raw archive: unchanged original bytes, content-addressed under `<lake>/raw/`.

FIT files live at `raw/fit/<sha256[:2]>/<sha256>.fit`; the tables store that path relative to the
lake root, so a copied or moved lake still finds its originals. Writing is idempotent: a file
already archived is not written again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import fsspec

from lake.storage import Lake

FIT_PREFIX = "raw/fit"


def fit_relative_path(sha256: str) -> str:
    return f"{FIT_PREFIX}/{sha256[:2]}/{sha256}.fit"


def _fs(lake: Lake):
    return fsspec.filesystem("s3", **lake.fsspec_options()) if lake.is_s3 else None


def write_bytes(lake: Lake, relative_path: str, data: bytes) -> None:
    """Write `data` at `relative_path` unless an object of the same size is already there."""
    uri = lake.uri(relative_path)
    fs = _fs(lake)
    if fs is not None:
        key = uri.removeprefix("s3://")
        if fs.exists(key) and fs.info(key)["size"] == len(data):
            return
        fs.pipe_file(key, data)
        return
    path = Path(uri)
    if path.is_file() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_bytes(lake: Lake, relative_path: str) -> bytes:
    uri = lake.uri(relative_path)
    fs = _fs(lake)
    if fs is not None:
        return fs.cat_file(uri.removeprefix("s3://"))
    return Path(uri).read_bytes()


def archive_fit(lake: Lake, sha256: str, data: bytes) -> str:
    """Archive a FIT file's bytes; returns the path relative to the lake root."""
    rel = fit_relative_path(sha256)
    write_bytes(lake, rel, data)
    return rel


def list_relative(lake: Lake, prefix: str) -> list[str]:
    """Every file under `prefix` (relative paths), sorted."""
    fs = _fs(lake)
    if fs is not None:
        base = lake.uri(prefix).removeprefix("s3://")
        root = lake.root.removeprefix("s3://") + "/"
        try:
            return sorted(k.removeprefix(root) for k in fs.find(base))
        except FileNotFoundError:
            return []
    base = Path(lake.uri(prefix))
    if not base.is_dir():
        return []
    return sorted(str(p.relative_to(lake.root)) for p in base.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))


def remove_files(lake: Lake, relative_paths: list[str]) -> None:
    """Delete files under the lake root; local folders they leave empty go too (their names,
    like `raw/strava/<strava_id>/`, are data)."""
    if not relative_paths:
        return
    fs = _fs(lake)
    if fs is not None:
        fs.rm([lake.uri(p).removeprefix("s3://") for p in relative_paths])
        return
    root = Path(lake.root)
    for rel in relative_paths:
        path = Path(lake.uri(rel))
        path.unlink()
        folder = path.parent
        while folder != root and root in folder.parents and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def remove_tree(lake: Lake, relative: str) -> int:
    """Delete the folder `relative` under the lake root with everything in it; returns the files removed."""
    files = list_relative(lake, relative)
    fs = _fs(lake)
    if fs is not None:
        if files:
            fs.rm([lake.uri(p).removeprefix("s3://") for p in files])
        return len(files)
    folder = Path(lake.uri(relative))
    if folder.is_dir():
        shutil.rmtree(folder)
    return len(files)
