"""The activity files of an export archive, a folder or single files, and Strava's `activities.csv`.

`open_archive(path)` lists, without reading any content, every activity file under `path`:

* a **Strava bulk export** (zip or unzipped folder): `activities.csv` plus
  `activities/*.fit.gz|*.gpx.gz|*.tcx.gz|*.fit|*.gpx|*.tcx`;
* a **Garmin Connect data export** (zip or folder): the original files are inside nested zips,
  `DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip` (and `_Part2`…); every
  nested zip is opened, one level deep, and its `.fit`/`.gpx`/`.tcx` members taken;
* a **folder** (walked recursively, zips inside it opened the same way) or **one file**
  (`.fit`, `.gpx`, `.tcx`, each optionally `.gz`, or a `.zip`).

Anything else (JSON, images, `__MACOSX/`) is ignored. `ArchiveReader.read(item)` returns one
file's bytes, gunzipped; a member that cannot be read (corrupt zip entry or gzip stream) raises
`UnreadableMember` (an `OSError`: the ingest reports it as unreadable — a damaged download the
user must fetch again). Only the current nested zip is held in memory.

`strava_activities_csv(text)` reads the CSV into `StravaExportRow`s keyed by file name.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from runlake.errors import RunlakeError
from sources.fit.inbox import FitInput

SUFFIXES = (".fit", ".gpx", ".tcx")
ARCHIVE_SEPARATOR = "!/"
STRAVA_CSV = "activities.csv"


class NoActivityFiles(RunlakeError):
    """A path that exists but holds no activity file."""


class UnreadableStravaCsv(RunlakeError, csv.Error):
    """Strava's activities.csv cannot be read (a field over the csv module's limit, a broken quote)."""


class UnreadableMember(OSError):
    """An archive member whose bytes cannot be read (corrupt zip entry or gzip stream)."""


def is_activity_name(name: str) -> bool:
    lower = name.lower().removesuffix(".gz")
    base = lower.rsplit("/", 1)[-1]
    return lower.endswith(SUFFIXES) and not lower.startswith("__macosx/") and "/__macosx/" not in lower and not base.startswith("._")


def plain_name(name: str) -> str:
    """"activities/123.fit.gz" → "123.fit": the file's own name, without `.gz`."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base[:-3] if base.lower().endswith(".gz") else base


@dataclass(frozen=True)
class StravaExportRow:
    """One line of Strava's `activities.csv` that names a file."""

    strava_id: int
    name: str | None
    sport: str | None  # Strava's "Activity Type" (Run, Ride…)
    description: str | None
    gear: str | None  # the gear's name: the CSV has no gear id
    is_private: bool | None  # None: the CSV says nothing about visibility


@dataclass
class Located:
    """Where one listed file is: a path on disk, then member names of zips nested in it."""

    path: str
    members: tuple[str, ...] = ()


@dataclass
class Archive:
    """The activity files found (in a stable order) and Strava's CSV rows by plain file name."""

    items: list[FitInput] = field(default_factory=list)
    strava: dict[str, StravaExportRow] = field(default_factory=dict)
    csv_files: int = 0
    where: dict[str, Located] = field(default_factory=dict)

    def add(self, located: Located, size: int) -> None:
        uri = located.path + "".join(ARCHIVE_SEPARATOR + m for m in located.members)
        if uri in self.where:
            return
        self.where[uri] = located
        name = located.members[-1] if located.members else located.path
        self.items.append(FitInput(uri=uri, name=plain_name(name), size_bytes=size))


def _none_if_blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _private_flag(row: dict[str, str]) -> bool | None:
    for column in ("Activity Private", "Private"):
        if _none_if_blank(row.get(column)) is not None:
            return row[column].strip().lower() in ("true", "1", "yes")
    visibility = _none_if_blank(row.get("Activity Visibility"))
    if visibility is not None:
        return visibility.lower() in ("only_me", "private", "only me")
    return None


def strava_activities_csv(text: str) -> dict[str, StravaExportRow]:
    """Plain file name ("123.fit") → the CSV row naming it. Rows without a file (manual entries)
    or without a numeric Activity ID are left out. Repeated column names (Strava writes
    "Elapsed Time" and "Distance" twice): the first one counts."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _rows_by_file(reader)
    except csv.Error as error:
        raise UnreadableStravaCsv(f"{STRAVA_CSV}: unreadable at line {reader.line_num} ({error})") from None


def _rows_by_file(reader) -> dict[str, StravaExportRow]:
    header = next(reader, None)
    if not header:
        return {}
    index: dict[str, int] = {}
    for i, column in enumerate(header):
        index.setdefault(column.strip(), i)
    out: dict[str, StravaExportRow] = {}
    for values in reader:
        row = {column: values[i] for column, i in index.items() if i < len(values)}
        file_name = _none_if_blank(row.get("Filename"))
        strava_id = (row.get("Activity ID") or "").strip()
        if file_name is None or not strava_id.isdigit():
            continue
        out[plain_name(file_name).lower()] = StravaExportRow(
            strava_id=int(strava_id),
            name=_none_if_blank(row.get("Activity Name")),
            sport=_none_if_blank(row.get("Activity Type")),
            description=_none_if_blank(row.get("Activity Description")),
            gear=_none_if_blank(row.get("Activity Gear")),
            is_private=_private_flag(row),
        )
    return out


def _zip_members(archive: zipfile.ZipFile, outer: Located, into: Archive, *, depth: int) -> None:
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if info.is_dir() or info.flag_bits & 0x1:  # folders; encrypted entries cannot be read
            continue
        name = info.filename
        lower = name.lower()
        if PurePosixPath(lower).name == STRAVA_CSV and depth == 0:
            text = archive.read(info).decode("utf-8-sig", errors="replace")
            into.strava.update(strava_activities_csv(text))
            into.csv_files += 1
        elif lower.endswith(".zip") and depth == 0:
            with zipfile.ZipFile(io.BytesIO(archive.read(info))) as inner:
                _zip_members(inner, Located(outer.path, outer.members + (name,)), into, depth=depth + 1)
        elif is_activity_name(name):
            into.add(Located(outer.path, outer.members + (name,)), info.file_size)


def _open_zip(path: str, into: Archive) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            _zip_members(archive, Located(path), into, depth=0)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as error:
        raise RunlakeError(f"{path}: not a readable zip archive ({error})") from error


def open_archive(path: str | os.PathLike) -> Archive:
    """List the activity files under `path` (see the module docstring)."""
    root = Path(path)
    if not root.exists():
        raise RunlakeError(f"no such file or folder: {root}")
    found = Archive()
    if root.is_file():
        if root.name.lower().endswith(".zip"):
            _open_zip(str(root), found)
        elif is_activity_name(root.name):
            found.add(Located(str(root)), root.stat().st_size)
        else:
            raise RunlakeError(f"{root}: not a .zip, .fit, .gpx or .tcx file (optionally .gz)")
    else:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath) / name
                if name.lower() == STRAVA_CSV and Path(dirpath) == root:
                    found.strava.update(strava_activities_csv(full.read_text(encoding="utf-8-sig", errors="replace")))
                    found.csv_files += 1
                elif name.lower().endswith(".zip"):
                    _open_zip(str(full), found)
                elif is_activity_name(name) and full.is_file():
                    found.add(Located(str(full)), full.stat().st_size)
    if not found.items:
        raise NoActivityFiles(f"no .fit, .gpx or .tcx files (optionally .gz) in {root}")
    return found


class ArchiveReader:
    """Reads listed files; keeps the current outer zip open and the current nested zip in memory."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._outer: tuple[str, zipfile.ZipFile] | None = None
        self._inner: tuple[tuple[str, str], zipfile.ZipFile] | None = None

    def close(self) -> None:
        if self._inner is not None:
            self._inner[1].close()
        if self._outer is not None:
            self._outer[1].close()
        self._outer = self._inner = None

    def __enter__(self) -> "ArchiveReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _outer_zip(self, path: str) -> zipfile.ZipFile:
        if self._outer is None or self._outer[0] != path:
            self.close()
            self._outer = (path, zipfile.ZipFile(path))
        return self._outer[1]

    def _container(self, located: Located) -> zipfile.ZipFile:
        outer = self._outer_zip(located.path)
        if len(located.members) == 1:
            return outer
        key = (located.path, located.members[0])
        if self._inner is None or self._inner[0] != key:
            if self._inner is not None:
                self._inner[1].close()
            self._inner = (key, zipfile.ZipFile(io.BytesIO(outer.read(located.members[0]))))
        return self._inner[1]

    def read(self, item: FitInput) -> bytes:
        """The file's bytes, gunzipped when its name ends in `.gz`."""
        located = self.archive.where[item.uri]
        name = located.members[-1] if located.members else located.path
        try:
            if located.members:
                data = self._container(located).read(located.members[-1])
            else:
                data = Path(located.path).read_bytes()
            return gzip.decompress(data) if name.lower().endswith(".gz") else data
        except (zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile, KeyError) as error:
            raise UnreadableMember(f"corrupt archive member ({type(error).__name__}: {error})") from error
