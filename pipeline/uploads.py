"""The checks an upload passes before any byte of it is written: what the web app accepts.

An upload is a list of (name, bytes) as the browser sent them. It takes what `runlake import`
takes (docs/import.md), named the same way (`sources.archive`: `is_activity_name`, `plain_name`,
`strava_activities_csv`): `.fit`, `.gpx` and `.tcx` files, each optionally `.gz`; `.zip`
archives of them (folders inside are fine) — a Strava bulk export (its `activities.csv` is read)
or a Garmin Connect export (its originals sit in zips inside the zip: one level of nested zip is
opened, no deeper); and a loose `activities.csv`. `unpack` turns it into the activity files to
stage (gunzipped, each with a safe name) and Strava's CSV, and says why everything else was
refused. Nothing here writes anything; the format is told by content (`sources.formats`).

Two kinds of refusal (docs/product.md, "Uploading files"):

* **The whole upload** (`UploadRefused`, one message for the visitor): more than
  `RUNLAKE_UPLOAD_MAX_MB` sent, more than `RUNLAKE_UPLOAD_MAX_FILES` activity files, more than
  `RUNLAKE_UPLOAD_MAX_UNCOMPRESSED_MB` once unpacked, or an archive entry or gzip stream that
  expands more than `RUNLAKE_UPLOAD_MAX_RATIO` times its compressed size: a bomb is not partly
  accepted.
* **One entry** (a `Refusal` with its reason, the rest goes on): a path that is absolute or
  climbs out (`..`), a symbolic link, an archive nested two deep, an encrypted or corrupt entry
  or gzip stream, a name that is no activity file, a name given twice, content that is not a FIT,
  GPX or TCX file, an unreadable `activities.csv`, or the same bytes as another file of the upload.

Zip headers are not trusted: the declared sizes are checked first (cheap, refuses an honest bomb
before inflating anything); zipfile then reads no more than an entry declares and checks its CRC,
so a lying header makes a refused (corrupt) entry; and the bytes actually inflated are counted
against the same caps as they are read, so the limits hold even if a reader ever did trust more.
A container inside the upload (a nested zip, a `.gz` stream) is checked against the remaining
budget and the ratio while it is inflated; once unpacked, only what it holds counts.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from runlake.errors import RunlakeError
from runlake.settings import Settings
from sources.archive import (
    STRAVA_CSV, SUFFIXES, StravaExportRow, UnreadableStravaCsv, is_activity_name, plain_name, strava_activities_csv,
)
from sources.formats import FIT, GPX, TCX, file_format

MB = 1024 * 1024
#: FIT file header: its size (12, or 14 with a CRC), then ".FIT" at bytes 8–11 (FIT protocol 2.x).
FIT_HEADER_SIZES = (12, 14)
FIT_SIGNATURE = b".FIT"
#: Entries smaller than this once inflated are not ratio-checked (tiny files can compress well,
#: and the total cap bounds them anyway).
RATIO_FLOOR_BYTES = 1 * MB
_READ_CHUNK = 1 * MB
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 96


class UploadRefused(RunlakeError):
    """The whole upload breaks a limit; the message is for the visitor (no path, no secret)."""


@dataclass(frozen=True)
class UploadLimits:
    """RUNLAKE_UPLOAD_* (docs/settings.md): what one upload may hold."""

    max_bytes: int  # sent, all files together
    max_files: int  # activity files, after unpacking
    max_uncompressed_bytes: int  # activity file bytes, after unpacking
    max_ratio: float  # inflated / compressed size of one archive entry

    @classmethod
    def from_settings(cls, settings: Settings) -> "UploadLimits":
        return cls(
            max_bytes=settings.upload_max_mb * MB,
            max_files=settings.upload_max_files,
            max_uncompressed_bytes=settings.upload_max_uncompressed_mb * MB,
            max_ratio=settings.upload_max_ratio,
        )


@dataclass(frozen=True)
class UploadedFile:
    """One activity file (FIT, GPX or TCX) of an upload: `name` as the visitor knows it
    (`archive.zip/activities/123.gpx.gz`), `safe_name` as it may be stored, its bytes (gunzipped)
    and their sha256 (the lake's key for a file)."""

    name: str
    safe_name: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Refusal:
    name: str
    reason: str


@dataclass
class Unpacked:
    """The files to stage, the refused entries, and Strava's `activities.csv` files (their bytes,
    to stage with the files, and their rows by plain file name, as `runlake import` reads them)."""

    files: list[UploadedFile] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    strava_csv: list[bytes] = field(default_factory=list)
    strava: dict[str, StravaExportRow] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return sum(len(f.data) for f in self.files)


def is_fit_content(data: bytes) -> bool:
    """A FIT file's header: size 12 or 14, the ".FIT" signature, and at least the header itself."""
    return len(data) >= 12 and data[0] in FIT_HEADER_SIZES and len(data) >= data[0] and data[8:12] == FIT_SIGNATURE


def safe_name(name: str) -> str:
    """The file's own name (`plain_name`: no folder, no `.gz`) with anything but letters, digits,
    '.', '-', '_' replaced, at most 96 characters, ending in its format's suffix, lower case
    (`.fit`, `.gpx` or `.tcx`; `.fit` for any other name): the suffix the staged upload is
    listed by, and what the Strava CSV names the file by."""
    base = plain_name(name)
    suffix = next((s for s in SUFFIXES if base.lower().endswith(s)), None)
    stem = _UNSAFE_CHARS.sub("_", base[: -len(suffix)] if suffix else base).strip("._") or "file"
    suffix = suffix or ".fit"
    return stem[: _MAX_NAME - len(suffix)] + suffix


_NOT_THAT_FORMAT = {
    ".fit": "not a FIT file (no FIT header)",
    ".gpx": "not a GPX file (no <gpx> root element)",
    ".tcx": "not a TCX file (no <TrainingCenterDatabase> root element)",
}


def content_problem(name: str, data: bytes) -> str | None:
    """Why `data` is no activity file, or None. Decided by content like `runlake import` (a GPX
    named `.fit` is a GPX); the reason names the format the file's name promised."""
    kind = file_format(data)
    if kind in (GPX, TCX) or (kind == FIT and is_fit_content(data)):
        return None
    suffix = next((s for s in SUFFIXES if plain_name(name).lower().endswith(s)), ".fit")
    return _NOT_THAT_FORMAT[suffix]


def path_problem(name: str) -> str | None:
    """Why an archive entry's name is unsafe to unpack, or None: absolute, a drive, `..`, NUL."""
    if "\x00" in name:
        return "unsafe path (NUL character)"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return "unsafe path (absolute)"
    if ".." in PurePosixPath(posix).parts:
        return "unsafe path (..)"
    return None


NOT_AN_ACTIVITY_NAME = "not a .fit, .gpx or .tcx file (optionally .gz)"


def is_strava_csv(name: str) -> bool:
    return PurePosixPath(name.replace("\\", "/").lower()).name == STRAVA_CSV


def unpack(named_blobs: Iterable[tuple[str, bytes]], limits: UploadLimits) -> Unpacked:
    """The activity files of an upload, its Strava CSV and the refused entries; `UploadRefused`
    when the whole upload breaks a limit (see the module docstring)."""
    blobs = list(named_blobs)
    sent = sum(len(data) for _, data in blobs)
    if sent > limits.max_bytes:
        raise UploadRefused(f"The upload is {sent / MB:,.0f} MB; at most {limits.max_bytes / MB:,.0f} MB are accepted at once.")
    result = _Collector(limits)
    for name, data in blobs:
        lower = name.lower()
        if lower.endswith(".zip"):
            _unpack_zip(name, data, result, depth=0)
        elif is_strava_csv(name):
            result.spend(len(data))
            result.strava_csv(name, data)
        elif is_activity_name(name):
            result.offer_packed(name, data, spent=False)
        else:
            result.refuse(name, NOT_AN_ACTIVITY_NAME + " or a .zip archive")
    return result.done()


class _Collector:
    """Accepts files one by one, enforcing the limits over the whole upload."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.unpacked = Unpacked()
        self.names: set[str] = set()
        self.shas: dict[str, str] = {}
        self.inflated = 0

    def budget(self) -> int:
        """Activity file bytes this upload may still unpack."""
        return self.limits.max_uncompressed_bytes - self.inflated

    def too_big(self) -> UploadRefused:
        return UploadRefused(
            f"Unpacked, the upload is more than {self.limits.max_uncompressed_bytes / MB:,.0f} MB of activity files, "
            "the most accepted at once: split it."
        )

    def spend(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.limits.max_uncompressed_bytes:
            raise self.too_big()

    def refund(self, size: int) -> None:
        """A container's bytes (a nested zip, a `.gz` stream), once what it holds is counted."""
        self.inflated -= size

    def refuse(self, name: str, reason: str) -> None:
        self.unpacked.refused.append(Refusal(name, reason))

    def strava_csv(self, name: str, data: bytes) -> None:
        """Strava's `activities.csv` (already counted), read by `runlake import`'s parser."""
        try:
            rows = strava_activities_csv(data.decode("utf-8-sig", errors="replace"))
        except UnreadableStravaCsv as error:  # names the line and the reason
            self.refuse(name, str(error))
            return
        self.unpacked.strava_csv.append(data)
        self.unpacked.strava.update(rows)

    def offer_packed(self, name: str, data: bytes, *, spent: bool) -> None:
        """An activity file by name, gunzipped first when it ends in `.gz` (`spent`: `data` is
        already counted against the budget)."""
        if not name.lower().endswith(".gz"):
            self.offer(name, data, counted=spent)
            return
        if not spent:
            self.spend(len(data))
        content = _gunzip(data, self)
        self.refund(len(data))  # the stream is gone once inflated: its content counts
        if content is None:
            self.refuse(name, "corrupt gzip stream")
            return
        self.offer(name, content, counted=True)

    def offer(self, name: str, data: bytes, *, counted: bool = False) -> None:
        if not counted:
            self.spend(len(data))
        if name in self.names:
            self.refuse(name, "the same name twice in one upload")
            return
        self.names.add(name)
        problem = content_problem(name, data)
        if problem:
            self.refuse(name, problem)
            return
        sha = hashlib.sha256(data).hexdigest()
        if sha in self.shas:
            self.refuse(name, f"the same file as {self.shas[sha]}")
            return
        self.shas[sha] = name
        if len(self.unpacked.files) >= self.limits.max_files:
            raise UploadRefused(
                f"The upload holds more than {self.limits.max_files:,} activity files, the most accepted at once: split it."
            )
        self.unpacked.files.append(UploadedFile(name, safe_name(name), data, sha))

    def done(self) -> Unpacked:
        return self.unpacked


def _unpack_zip(archive_name: str, data: bytes, into: _Collector, *, depth: int) -> None:
    """The entries of a zip; at `depth` 0 a zip inside is opened too (a Garmin export's originals),
    at depth 1 it is refused."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        into.refuse(archive_name, "not a readable zip archive")
        return
    with archive:
        wanted = []
        for info in entries:
            name = f"{archive_name}/{info.filename}"
            reason = _entry_problem(info, depth)
            if reason == "":
                continue  # a folder: nothing to say
            if reason is not None:
                into.refuse(name, reason)
                continue
            wanted.append((name, info))
        declared = sum(info.file_size for _, info in wanted)
        if declared > into.budget():  # honest headers of a bomb: refused before inflating anything
            raise into.too_big()
        for _, info in wanted:
            _check_ratio(info.file_size, info.compress_size, into.limits)
        for name, info in wanted:
            content = _inflate(archive, info, into)
            if content is None:
                into.refuse(name, "corrupt archive entry (its size or checksum does not match)")
                continue
            _check_ratio(len(content), info.compress_size, into.limits)
            if info.filename.lower().endswith(".zip"):
                into.refund(len(content))  # checked while inflated; from here on its entries count
                _unpack_zip(name, content, into, depth=depth + 1)
            elif is_strava_csv(info.filename):
                into.strava_csv(name, content)
            else:
                into.offer_packed(name, content, spent=True)


def _entry_problem(info: zipfile.ZipInfo, depth: int) -> str | None:
    """Why an entry is refused, "" for a folder (skipped silently), None when it may be read: an
    activity file, a zip at `depth` 0, Strava's `activities.csv` at `depth` 0 (as `runlake import`
    reads them)."""
    if info.is_dir():
        return ""
    unsafe = path_problem(info.filename)
    if unsafe:
        return unsafe
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        return "a symbolic link"
    lower = info.filename.lower()
    if lower.startswith("__macosx/") or lower.rsplit("/", 1)[-1].startswith("._"):
        return "macOS metadata, not an activity file"
    if lower.endswith(".zip") and depth > 0:
        return "an archive inside a nested archive (unpack it first)"
    if is_strava_csv(lower) and depth > 0:
        return "activities.csv inside a nested archive (not read)"
    if not (lower.endswith(".zip") or is_strava_csv(lower) or is_activity_name(info.filename)):
        return NOT_AN_ACTIVITY_NAME
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def _check_ratio(inflated: int, compressed: int, limits: UploadLimits) -> None:
    if inflated >= RATIO_FLOOR_BYTES and inflated > limits.max_ratio * max(compressed, 1):
        raise UploadRefused(
            f"An archive entry expands {inflated / max(compressed, 1):,.0f} times (at most {limits.max_ratio:g}): "
            "this looks like a zip bomb, the upload is refused."
        )


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, into: _Collector) -> bytes | None:
    """The entry's bytes, read with a cap (the upload's remaining budget), or None when the entry is
    corrupt (zipfile checks the CRC and the declared length as it reads). Over the cap: the whole
    upload is refused (`UploadRefused` from `spend`)."""
    chunks, size = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_READ_CHUNK):
                size += len(chunk)
                into.spend(len(chunk))
                _check_ratio(size, info.compress_size, into.limits)
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, OSError):  # corrupt or unsupported
        return None
    return b"".join(chunks)


def _gunzip(data: bytes, into: _Collector) -> bytes | None:
    """A `.gz` stream's content, inflated with the same caps as a zip entry (the budget, the ratio
    over the stream's size), or None when the stream is corrupt."""
    chunks, size = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(_READ_CHUNK):
                size += len(chunk)
                into.spend(len(chunk))
                _check_ratio(size, len(data), into.limits)
                chunks.append(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError):  # corrupt or truncated
        into.refund(size)
        return None
    return b"".join(chunks)
