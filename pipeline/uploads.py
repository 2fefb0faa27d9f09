"""The checks an upload passes before any byte of it is written: what the web app accepts.

An upload is a list of (name, bytes) as the browser sent them: `.fit` files and `.zip` archives of
them (folders inside an archive are fine). `unpack` turns it into the FIT files to stage, each
with a safe name, and says why everything else was refused. Nothing here writes anything.

Two kinds of refusal (docs/product.md, "Uploading files"):

* **The whole upload** (`UploadRefused`, one message for the visitor): more than
  `RUNLAKE_UPLOAD_MAX_MB` sent, more than `RUNLAKE_UPLOAD_MAX_FILES` FIT files, more than
  `RUNLAKE_UPLOAD_MAX_UNCOMPRESSED_MB` once unpacked, or an archive entry that expands more than
  `RUNLAKE_UPLOAD_MAX_RATIO` times its compressed size: a zip bomb is not partly accepted.
* **One entry** (a `Refusal` with its reason, the rest goes on): a path that is absolute or
  climbs out (`..`), a symbolic link, a nested archive, an encrypted or corrupt entry, a name
  that is not `.fit`, a name given twice, content that is not a FIT file, or the same bytes as
  another file of the upload.

Zip headers are not trusted: the declared sizes are checked first (cheap, refuses an honest bomb
before inflating anything); zipfile then reads no more than an entry declares and checks its CRC,
so a lying header makes a refused (corrupt) entry; and the bytes actually inflated are counted
against the same caps as they are read, so the limits hold even if a reader ever did trust more.
"""

from __future__ import annotations

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
    max_files: int  # FIT files, after unpacking
    max_uncompressed_bytes: int  # FIT bytes, after unpacking
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
class UploadedFit:
    """One FIT file of an upload: `name` as the visitor knows it (`archive.zip/2024/run.fit`),
    `safe_name` as it may be stored, its bytes and their sha256 (the lake's key for a file)."""

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
    files: list[UploadedFit] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def size_bytes(self) -> int:
        return sum(len(f.data) for f in self.files)


def is_fit_content(data: bytes) -> bool:
    """A FIT file's header: size 12 or 14, the ".FIT" signature, and at least the header itself."""
    return len(data) >= 12 and data[0] in FIT_HEADER_SIZES and len(data) >= data[0] and data[8:12] == FIT_SIGNATURE


def safe_name(name: str) -> str:
    """The last part of `name` with anything but letters, digits, '.', '-', '_' replaced, at most
    96 characters, ending in `.fit` (the inbox finds files by that suffix)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = _UNSAFE_CHARS.sub("_", base[: -len(".fit")] if base.lower().endswith(".fit") else base).strip("._") or "file"
    return stem[: _MAX_NAME - len(".fit")] + ".fit"


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


def unpack(named_blobs: Iterable[tuple[str, bytes]], limits: UploadLimits) -> Unpacked:
    """The FIT files of an upload and the refused entries; `UploadRefused` when the whole upload
    breaks a limit (see the module docstring)."""
    blobs = list(named_blobs)
    sent = sum(len(data) for _, data in blobs)
    if sent > limits.max_bytes:
        raise UploadRefused(f"The upload is {sent / MB:,.0f} MB; at most {limits.max_bytes / MB:,.0f} MB are accepted at once.")
    result = _Collector(limits)
    for name, data in blobs:
        lower = name.lower()
        if lower.endswith(".zip"):
            _unpack_zip(name, data, result)
        elif lower.endswith(".fit"):
            result.offer(name, data)
        else:
            result.refuse(name, "not a .fit file or a .zip archive")
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
        """FIT bytes this upload may still unpack."""
        return self.limits.max_uncompressed_bytes - self.inflated

    def too_big(self) -> UploadRefused:
        return UploadRefused(
            f"Unpacked, the upload is more than {self.limits.max_uncompressed_bytes / MB:,.0f} MB of FIT files, "
            "the most accepted at once: split it."
        )

    def spend(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.limits.max_uncompressed_bytes:
            raise self.too_big()

    def refuse(self, name: str, reason: str) -> None:
        self.unpacked.refused.append(Refusal(name, reason))

    def offer(self, name: str, data: bytes, *, counted: bool = False) -> None:
        if not counted:
            self.spend(len(data))
        if name in self.names:
            self.refuse(name, "the same name twice in one upload")
            return
        self.names.add(name)
        if not is_fit_content(data):
            self.refuse(name, "not a FIT file (no FIT header)")
            return
        sha = hashlib.sha256(data).hexdigest()
        if sha in self.shas:
            self.refuse(name, f"the same file as {self.shas[sha]}")
            return
        self.shas[sha] = name
        if len(self.unpacked.files) >= self.limits.max_files:
            raise UploadRefused(f"The upload holds more than {self.limits.max_files:,} FIT files, the most accepted at once: split it.")
        self.unpacked.files.append(UploadedFit(name, safe_name(name), data, sha))

    def done(self) -> Unpacked:
        return self.unpacked


def _unpack_zip(archive_name: str, data: bytes, into: _Collector) -> None:
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
            reason = _entry_problem(info)
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
            into.offer(name, content, counted=True)


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry is refused, "" for a folder (skipped silently), None when it may be read."""
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
        return "macOS metadata, not a FIT file"
    if lower.endswith(".zip"):
        return "an archive inside the archive (unpack it first)"
    if not lower.endswith(".fit"):
        return "not a .fit file"
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
