"""Find the FIT files to ingest: files, folders (recursively) or an S3 prefix.

A `.fit` suffix in any case counts (`.FIT` from older Garmin devices). Paths that do not exist or
that hold no FIT file at all are user errors, raised before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


def is_fit_name(name: str) -> bool:
    return name.lower().endswith(".fit")


#: Inside an inbox, the folder of the other athletes' inboxes (docs/athletes.md): never read as
#: part of the inbox that contains it.
ATHLETES_FOLDER = "athletes"


def _local_inputs(path: Path, skip_athletes: bool) -> list[FitInput]:
    if path.is_file():
        return [FitInput(str(path), path.name, path.stat().st_size)]
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        if skip_athletes and Path(dirpath) == path and ATHLETES_FOLDER in dirnames:
            dirnames.remove(ATHLETES_FOLDER)
        dirnames.sort()
        for name in sorted(filenames):
            if is_fit_name(name):
                full = Path(dirpath) / name
                if full.is_file():
                    found.append(FitInput(str(full), name, full.stat().st_size))
    return found


def _s3_inputs(location: Lake, skip_athletes: bool) -> list[FitInput]:
    fs = fsspec.filesystem("s3", **location.fsspec_options())
    root = location.root.removeprefix("s3://")
    bucket = root.split("/", 1)[0]
    try:
        if not fs.exists(bucket):  # a typo'd bucket is an error, not an empty inbox
            raise RunlakeError(f"no such S3 bucket: {bucket} (in {location.root})")
        if fs.isfile(root):
            info = fs.info(root)
            return [FitInput(location.root, root.rsplit("/", 1)[-1], int(info["size"]))]
        entries = fs.find(root, detail=True)
    except FileNotFoundError:
        return []
    except PermissionError as exc:
        raise RunlakeError(f"cannot list {location.root}: access denied") from exc
    skipped = f"{root.rstrip('/')}/{ATHLETES_FOLDER}/" if skip_athletes else None
    return [
        FitInput(f"s3://{key}", key.rsplit("/", 1)[-1], int(info["size"]))
        for key, info in sorted(entries.items())
        if info.get("type") == "file" and is_fit_name(key) and not (skipped and key.startswith(skipped))
    ]


def discover(locations: Sequence[Lake], *, inbox: bool = False) -> list[FitInput]:
    """Every FIT file under the given locations, each file once, in a stable order. With
    `inbox`, the locations are an athlete's inbox, whose `athletes/` folder (the other athletes'
    inboxes) is skipped."""
    inputs: dict[str, FitInput] = {}
    for location in locations:
        if location.is_s3:
            found = _s3_inputs(location, inbox)
        else:
            path = Path(location.root)
            if not path.exists():
                raise RunlakeError(f"no such file or folder: {location.root}")
            if not path.is_file() and not path.is_dir():
                raise RunlakeError(f"not a regular file or folder: {location.root}")
            try:
                found = _local_inputs(path, inbox)
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
