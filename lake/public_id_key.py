"""The random key behind public activity ids when `RUNLAKE_PUBLIC_ID_SALT` is unset.

It is generated once and kept in the private part of the lake (`<lake>/private/public_id_key`),
never under `public/`: whoever reads the public tables must not be able to recompute the ids
from private activity ids. Losing the file changes every public id on the next build (the
dashboard's links change, nothing else breaks).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import fsspec

from lake.storage import Lake
from runlake.files import create_private_once

KEY_PATH = "private/public_id_key"
_KEY_BYTES = 32


def read_or_create_public_id_key(lake: Lake) -> bytes:
    """The lake's public-id key, created (32 random bytes, hex) on first use."""
    uri = lake.uri(KEY_PATH)
    if not lake.is_s3:
        return _local_key(Path(uri))
    fs = fsspec.filesystem("s3", **lake.fsspec_options())
    if not fs.exists(uri):
        with fs.open(uri, "wb") as out:
            out.write(secrets.token_hex(_KEY_BYTES).encode())
    with fs.open(uri, "rb") as src:  # re-read: a concurrent creator's key wins consistently
        return _parse(src.read(), uri)


def read_public_id_key(lake: Lake) -> bytes | None:
    """The lake's public-id key, or None when no build has created it yet (creates nothing:
    `runlake lake check` only reads)."""
    uri = lake.uri(KEY_PATH)
    if lake.is_s3:
        fs = fsspec.filesystem("s3", **lake.fsspec_options())
        if not fs.exists(uri):
            return None
        with fs.open(uri, "rb") as src:
            return _parse(src.read(), uri)
    path = Path(uri)
    return _parse(path.read_bytes(), uri) if path.is_file() else None


def _local_key(path: Path) -> bytes:
    create_private_once(path, lambda: secrets.token_hex(_KEY_BYTES).encode())  # racing builds agree on the first
    return _parse(path.read_bytes(), str(path))


def _parse(raw: bytes, where: str) -> bytes:
    text = raw.decode("ascii", errors="strict").strip()
    if len(text) < 32:
        raise ValueError(f"the public-id key at {where} is damaged (too short); restore it or set RUNLAKE_PUBLIC_ID_SALT")
    return text.encode()
