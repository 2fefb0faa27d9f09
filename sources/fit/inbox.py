"""Find the FIT files to ingest: files, folders (recursively) or an S3 prefix.

A `.fit` suffix in any case counts (`.FIT` from older Garmin devices). Paths that do not exist or
that hold no FIT file at all are user errors, raised before anything is written. Listing reads
no file content: each file's size, modification time (and ETag on S3) come from the listing
itself (one `stat` per local file, the object listing on S3), which is what lets an unchanged
inbox be ingested without opening a file (`pipeline.inbox_seen`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec

from lake.storage import Lake
from runlake.errors import RunlakeError


class NoFitFiles(RunlakeError):
    """A location that exists but holds no FIT file."""


@dataclass(frozen=True)
class FitInput:
    """One file offered for ingestion."""

    uri: str  # absolute local path or s3:// URI
    name: str  # the original file name
    size_bytes: int
    #: Relative to the inbox root ('/'-separated) when discovered as an athlete's inbox, else None.
    rel_path: str | None = None
    modified_ns: int | None = None  # local st_mtime_ns; S3 LastModified in ns since the epoch
    etag: str | None = None  # S3 only, as listed


def is_fit_name(name: str) -> bool:
    return name.lower().endswith(".fit")


#: Inside an inbox, the folder of the other athletes' inboxes (docs/athletes.md): never read as
#: part of the inbox that contains it.
ATHLETES_FOLDER = "athletes"


def _local_inputs(path: Path, inbox: bool, names: Callable[[str], bool]) -> list[FitInput]:
    if path.is_file():
        st = path.stat()
        return [FitInput(str(path), path.name, st.st_size, path.name if inbox else None, st.st_mtime_ns)]
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        if inbox and Path(dirpath) == path and ATHLETES_FOLDER in dirnames:
            dirnames.remove(ATHLETES_FOLDER)
        dirnames.sort()
        for name in sorted(filenames):
            if not names(name):
                continue
            full = Path(dirpath) / name
            try:
                st = full.stat()
            except FileNotFoundError:  # a dangling symlink, or gone since the walk: not a file to ingest
                continue
            if stat.S_ISREG(st.st_mode):
                rel = full.relative_to(path).as_posix() if inbox else None
                found.append(FitInput(str(full), name, st.st_size, rel, st.st_mtime_ns))
    return found


def _s3_inputs(location: Lake, inbox: bool, names: Callable[[str], bool]) -> list[FitInput]:
    # A fresh listing every time: fsspec's shared instance caches listings, so a long-lived process
    # (a flow worker, the web app) would see an earlier run's sizes and ETags.
    fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False, **location.fsspec_options())
    root = location.root.removeprefix("s3://")
    bucket = root.split("/", 1)[0]
    try:
        if not fs.exists(bucket):  # a typo'd bucket is an error, not an empty inbox
            raise RunlakeError(f"no such S3 bucket: {bucket} (in {location.root})")
        if fs.isfile(root):
            name = root.rsplit("/", 1)[-1]
            return [_s3_input(root, fs.info(root), name if inbox else None)]
        entries = fs.find(root, detail=True)
    except FileNotFoundError:
        return []
    except PermissionError as exc:
        raise RunlakeError(f"cannot list {location.root}: access denied") from exc
    prefix = f"{root.rstrip('/')}/"
    skipped = f"{prefix}{ATHLETES_FOLDER}/" if inbox else None
    return [
        _s3_input(key, info, key.removeprefix(prefix) if inbox else None)
        for key, info in sorted(entries.items())
        if info.get("type") == "file" and names(key) and not (skipped and key.startswith(skipped))
    ]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _s3_input(key: str, info: dict, rel_path: str | None) -> FitInput:
    """A listed object (s3fs listing details: size, ETag, LastModified; no HEAD request)."""
    modified = info.get("LastModified")
    return FitInput(
        f"s3://{key}",
        key.rsplit("/", 1)[-1],
        int(info["size"]),
        rel_path,
        None if modified is None else (modified - _EPOCH) // timedelta(microseconds=1) * 1_000,
        info.get("ETag"),
    )


def discover(
    locations: Sequence[Lake], *, inbox: bool = False, names: Callable[[str], bool] = is_fit_name,
) -> list[FitInput]:
    """Every FIT file (every file whose name `names` accepts) under the given locations, each
    file once, in a stable order. With `inbox`, the locations are an athlete's inbox, whose
    `athletes/` folder (the other athletes' inboxes) is skipped, and each file carries its
    `rel_path` under the inbox root."""
    inputs: dict[str, FitInput] = {}
    for location in locations:
        if location.is_s3:
            found = _s3_inputs(location, inbox, names)
        else:
            path = Path(location.root)
            if not path.exists():
                raise RunlakeError(f"no such file or folder: {location.root}")
            if not path.is_file() and not path.is_dir():
                raise RunlakeError(f"not a regular file or folder: {location.root}")
            try:
                found = _local_inputs(path, inbox, names)
            except PermissionError as exc:
                raise RunlakeError(f"cannot read {location.root}: permission denied") from exc
        if not found:
            raise NoFitFiles(f"no .fit files in {location.root}")
        for item in found:
            inputs.setdefault(item.uri, item)
    return list(inputs.values())


def read_bytes(item: FitInput, location_options: dict | None = None) -> bytes:
    """The file's bytes (local path or S3 object)."""
    if item.uri.startswith("s3://"):
        with fsspec.open(item.uri, "rb", **(location_options or {})) as fh:
            return fh.read()
    return Path(item.uri).read_bytes()


def iter_batches(items: Sequence[FitInput], size: int) -> Iterable[Sequence[FitInput]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
