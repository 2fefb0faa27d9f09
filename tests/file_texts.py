"""What a file of the lake holds, as text a test can search for a value it must (not) contain.

A Parquet page is compressed: snappy may encode part of a random hex id as a copy of earlier
bytes, so most public ids of a real table are not in the file's raw bytes (5,348 of 5,578 on
the 10-year demo). Searching raw bytes alone would make a "published before" check flaky and an
"erased after" check blind; every value of the file is searched too.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.parquet as pq


def file_texts(path: Path) -> list[str]:
    """The file's bytes as text, a gzip's content, and every value of a Parquet file (nested
    ones, such as a checkpoint's stats, included)."""
    data = path.read_bytes()
    texts = [data.decode("utf-8", "replace")]
    if path.suffix == ".gz":
        texts.append(gzip.decompress(data).decode("utf-8", "replace"))
    if path.suffix == ".parquet":
        texts.append(repr(pq.read_table(path).to_pylist()))
    return texts


def holds(path: Path, value: str) -> bool:
    return any(value in text for text in file_texts(path))
