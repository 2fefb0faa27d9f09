"""The fast FIT decoder: `decode_messages(data) -> RawMessages`, or `Unsupported`.

Why: pure-Python decoders walk every field of every message (~10–20 k samples/s); a rebuild of
years of history needs hundreds of times that. Here the byte stream is walked once over the
record headers (`fast_walk`), then all data messages of each definition are decoded at once
with NumPy (`fast_columns`), so the per-sample cost is a few vector operations.

The result must equal garmin-fit-sdk's (run as `sources.fit.reference` runs it: per chained
file, `merge_heart_rates=False`, so `hr` messages are not merged into records) (and for compressed-timestamp files, which garmin-fit-sdk
cannot read, fitparse's timestamps) value for value; whenever that cannot be proven the decoder
raises `Unsupported` and `sources.fit.decode` falls back to a reference decoder. Any other
exception inside is a bug of this module: it is re-raised as `Unsupported` (chained), so bad
input never crashes an ingest. Frames: see `sources.fit.model.RawMessages`. `decode_messages`
returns exactly the ingest's columns (`sources.fit.raw.RAW_SCHEMAS`, or `schemas`; missing
columns null, values cast as `sources.fit.raw` coerces them); `decode_all_fields` every profile
field the file defines (arrays kept as null), as the agreement tests compare it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from sources.fit.fast_columns import Column, decode_definition, needed_fields, read_raw
from sources.fit.fast_profile import KIND_MESG_NUMS, MESG_NUM_KINDS, TIMESTAMP_FIELD_NUM
from sources.fit.fast_walk import Unsupported, Walk, walk
from sources.fit.model import DecodedFile, RawMessages

__all__ = ["Unsupported", "decode_all_fields", "decode_messages", "decode_normalized"]

FILE_INDEX = "_file_index"
_DTYPES = {"i": pl.Int64, "f": pl.Float64}
_NP_TYPES = {"i": np.int64, "f": np.float64}
_Part = tuple[np.ndarray, int, dict[str, Column]]  # (message indices, chained file, columns)


def decode_messages(data: bytes, schemas: Mapping[str, pl.Schema] | None = None) -> RawMessages:
    """Decode the columns the ingest keeps of a FIT byte stream's file_id/session/lap/record/activity.

    The columns are `schemas`, by default `sources.fit.raw.RAW_SCHEMAS` (every profile field
    while that module is absent); only the fields they need are decoded, which is what makes
    small files fast. Raises `Unsupported` for anything the fast path cannot prove it decodes
    exactly.
    """
    if schemas is None:
        schemas = _ingest_schemas()
    if schemas is None:
        return decode_all_fields(data)
    try:
        wanted = {kind: needed_fields(kind, tuple(schema)) for kind, schema in schemas.items()}
        return project(_decode(bytes(data), wanted), schemas)
    except Unsupported:
        raise
    except Exception as error:  # a bug here must not crash an ingest: fall back, with the cause
        raise Unsupported(f"fast decoder error: {type(error).__name__}: {error}") from error


def decode_normalized(data: bytes, default_tz: str = "UTC") -> DecodedFile | None:
    """`normalize(decode_messages(data))` without per-file polars overhead, for the usual
    single-session file; None for any other (see `sources.fit.fast_normalize`)."""
    from sources.fit.fast_normalize import decode_common  # imports this module

    return decode_common(data, default_tz)


def decode_all_fields(data: bytes) -> RawMessages:
    """Every profile field of the five kinds, typed as decoded (see the module docstring)."""
    try:
        return _decode(bytes(data), None)
    except Unsupported:
        raise
    except Exception as error:  # a bug here must not crash an ingest: fall back, with the cause
        raise Unsupported(f"fast decoder error: {type(error).__name__}: {error}") from error


def _ingest_schemas() -> Mapping[str, pl.Schema] | None:
    """The reference adapters' columns (`sources.fit.raw`), so both sides compare value for value."""
    try:
        from sources.fit.raw import RAW_SCHEMAS
    except ModuleNotFoundError as error:
        if error.name != "sources.fit.raw":
            raise
        return None
    return RAW_SCHEMAS


def _decode(data: bytes, wanted: Mapping[str, frozenset[str]] | None) -> RawMessages:
    return {kind: _assemble(kind_parts) for kind, kind_parts in _decode_parts(data, wanted).items()}


def _decode_parts(data: bytes, wanted: Mapping[str, frozenset[str]] | None) -> dict[str, list[_Part]]:
    """Per kind, the decoded columns of each definition with the message indices they cover."""
    structure = walk(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    groups = _group_by_definition(structure)
    stamps = _compressed_timestamps(structure, buf, groups) if structure.has_compressed_timestamps else None
    kinds = KIND_MESG_NUMS if wanted is None else {kind: KIND_MESG_NUMS[kind] for kind in wanted}
    parts: dict[str, list[tuple[np.ndarray, int, dict[str, Column]]]] = {kind: [] for kind in kinds}
    for definition in structure.definitions:
        kind = MESG_NUM_KINDS.get(definition.global_num)
        index = groups[definition.def_id]
        if kind not in parts or index.size == 0:
            continue
        fields = None if wanted is None else wanted[kind]
        columns = decode_definition(definition, buf, structure.positions[index], fields)
        if stamps is not None:
            _add_compressed_timestamps(columns, structure, index, stamps)
        parts[kind].append((index, definition.file_index, columns))
    return parts


def _assemble(parts: list[_Part]) -> pl.DataFrame:
    """One frame per kind: the definitions' columns interleaved back into file order."""
    if not parts:
        return pl.DataFrame(schema={FILE_INDEX: pl.Int32})
    columns, file_index = _merged_columns(parts)
    series = [_series(name, column) for name, column in columns.items()]
    series.append(pl.Series(FILE_INDEX, file_index, dtype=pl.Int32))
    return pl.DataFrame(series)


def _merged_columns(parts: list[_Part]) -> tuple[dict[str, Column], np.ndarray]:
    """The definitions' columns interleaved back into file order (one NumPy column per name)."""
    index = np.concatenate([p[0] for p in parts])
    order = np.argsort(index, kind="stable")
    total = index.size
    kinds: dict[str, set[str]] = {}
    for _, _, columns in parts:
        for name, column in columns.items():
            kinds.setdefault(name, set()).add(column.kind)
    merged: dict[str, Column] = {}
    for name, column_kinds in kinds.items():
        if "s" in column_kinds and len(column_kinds) > 1:
            raise Unsupported(f"field {name} is text in one definition and a number in another")
        kind = "s" if "s" in column_kinds else "f" if "f" in column_kinds else "i"
        values = np.empty(total, dtype=object) if kind == "s" else np.zeros(total, dtype=_NP_TYPES[kind])
        valid = np.zeros(total, dtype=bool)
        start = 0
        for rows, _, columns in parts:
            column = columns.get(name)
            if column is not None:
                if kind == "f" and column.kind == "i" and (np.abs(column.values[column.valid]) >= 2**53).any():
                    raise Unsupported(f"field {name} mixes floats and integers too large for float64")
                values[start : start + rows.size] = column.values
                valid[start : start + rows.size] = column.valid
            start += rows.size
        merged[name] = Column(values[order], valid[order], kind)
    file_index = np.concatenate([np.full(rows.size, fi, dtype=np.int32) for rows, fi, _ in parts])
    return merged, file_index[order]


def _series(name: str, column: Column) -> pl.Series:
    """A polars column with nulls where the value is invalid."""
    if column.kind == "s":
        values = column.values
        values[~column.valid] = None
        return pl.Series(name, values.tolist(), dtype=pl.String)
    series = pl.Series(name, column.values, dtype=_DTYPES[column.kind])
    if not column.valid.all():
        series = series.scatter(np.flatnonzero(~column.valid), None)
    return series


def _group_by_definition(structure: Walk) -> list[np.ndarray]:
    """For each definition, the indices (file order) of its data messages."""
    order = np.argsort(structure.def_ids, kind="stable")
    bounds = np.searchsorted(structure.def_ids[order], np.arange(len(structure.definitions) + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(len(structure.definitions))]


def _compressed_timestamps(structure: Walk, buf: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Timestamps of compressed-header messages (-1 elsewhere), as fitparse computes them.

    The 5-bit offset in the header counts from the last full timestamp: field 253 of any
    earlier message of the same chained file (when valid), or the previous compressed one.
    """
    count = len(structure.positions)
    full = np.full(count, -1, dtype=np.int64)
    for definition in structure.definitions:
        if any(number == TIMESTAMP_FIELD_NUM for number, _, _ in definition.dev_fields):
            raise Unsupported("developer field numbered 253 next to compressed timestamps")
        field = definition.field(TIMESTAMP_FIELD_NUM)
        index = groups[definition.def_id]
        if field is None or index.size == 0:
            continue
        if (structure.time_offsets[index] >= 0).any():
            raise Unsupported("compressed-timestamp message that also has a timestamp field")
        if field.base_type != 0x06 or field.size != 4:
            raise Unsupported("timestamp field that is not a uint32")
        raw = read_raw(buf, structure.positions[index], field, definition.big_endian).astype(np.int64)
        full[index] = np.where(raw != 0xFFFFFFFF, raw, -1)
    offsets = structure.time_offsets.astype(np.int64)
    file_of = np.searchsorted(structure.file_starts, np.arange(count), side="right") - 1
    stamps = np.full(count, -1, dtype=np.int64)
    events = np.flatnonzero((full >= 0) | (offsets >= 0))
    accumulated, current_file = 0, -1
    for i, offset, value, file_index in zip(
        events.tolist(), offsets[events].tolist(), full[events].tolist(), file_of[events].tolist()
    ):
        if file_index != current_file:
            accumulated, current_file = 0, file_index
        if offset < 0:
            accumulated = value
            continue
        base = offset + (accumulated & ~0x1F)
        if offset < (accumulated & 0x1F):
            base += 0x20
        accumulated = stamps[i] = base
    return stamps


def _add_compressed_timestamps(
    columns: dict[str, Column], structure: Walk, index: np.ndarray, stamps: np.ndarray
) -> None:
    compressed = structure.time_offsets[index] >= 0
    if not compressed.any():
        return
    if "timestamp" in columns:
        raise Unsupported("compressed-timestamp message that also has a timestamp field")
    columns["timestamp"] = Column(np.where(compressed, stamps[index], 0), compressed, "i")


def project(frames: RawMessages, schemas: Mapping[str, pl.Schema]) -> RawMessages:
    """Exactly the columns of `schemas` (+ `_file_index`), cast as the reference adapters coerce.

    Enum names cast to a number column become null (the reference's value is then a string),
    numbers written as strings become numbers; absent columns are null.
    """
    projected: dict[str, pl.DataFrame] = {}
    for kind, schema in schemas.items():
        frame = frames.get(kind, pl.DataFrame(schema={FILE_INDEX: pl.Int32}))
        full = {**dict(schema), FILE_INDEX: pl.Int32}
        # eager Series casts: a lazy `select` costs ~1 ms per frame, more than decoding a small file
        projected[kind] = pl.DataFrame(
            [
                frame[name].cast(dtype, strict=False)
                if name in frame.columns
                else pl.Series(name, [None] * frame.height, dtype=dtype)
                for name, dtype in full.items()
            ]
        )
    return projected
