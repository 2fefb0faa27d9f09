"""The common case of `decode_fit` without per-file polars: fast decode + normalise in NumPy.

Why: decoding a typical 1 Hz run with NumPy takes ~2–3 ms, but turning its five message kinds
into polars frames and normalising them with polars expressions (`sources.fit.normalize`) costs
~10 ms of fixed per-frame and per-expression overhead — which dominated the ingest of many
small files (issue 9: ingest ≥ 20× a plain fitparse decode). This module applies the very same
rules as `sources.fit.normalize` to the fast decoder's NumPy columns and builds just two polars
frames per file (records, laps), from Arrow.

It covers the usual files — every column it reads in the type `sources.fit.raw` declares
without a string/number cast, integral heart rate and power, at least one session with a
start (multisport files included) — and returns None for anything else, so `decode_fit` takes the general path (fast decoder +
`normalize`, or the reference decoders). `tests/sources/fit/test_fast_normalize.py` checks that
it equals `normalize(decode_messages(data))` (frames, summary, identity, warnings) on the shared
corpus and the synthetic generator's files.
"""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pyarrow as pa

from sources.fit.fast import _decode_parts, _merged_columns, _Part
from sources.fit.fast_columns import needed_fields
from sources.fit.model import DecodedFile, DecodedSession, FileIdentity
from sources.fit.normalize import (
    identity_from_row,
    session_summary,
    _LAP_TOLERANCE_S,
    _MAX_OFFSET_S,
    _SEMICIRCLE_DEG,
    FIT_EPOCH,
    LAP_COLUMNS,
    RECORD_COLUMNS,
    STEP_SPORTS,
    STEP_SUB_SPORTS,
    _assign,
    cadence_spm_factor,
    fit_time,
)
from sources.fit.raw import RAW_SCHEMAS

_EPOCH_S = int(FIT_EPOCH.timestamp())
_WANTED = {kind: needed_fields(kind, tuple(schema)) for kind, schema in RAW_SCHEMAS.items()}
_NUMPY = {pl.Int64: np.int64, pl.Float64: np.float64}
_UTC_US = pa.timestamp("us", tz="UTC")


class _Decline(Exception):
    """Not the common case: let the general path decode the file."""


class _Kind:
    """One message kind's columns, typed as `RAW_SCHEMAS` says: (values, valid) per column.

    Columns are converted when first asked for, so a column normalisation never reads (e.g.
    `message_index`, text where the schema says Int64) cannot send a file down the slow path.
    """

    def __init__(self, parts: list[_Part], schema: pl.Schema) -> None:
        if parts:
            self._merged, self.file_index = _merged_columns(parts)
        else:
            self._merged, self.file_index = {}, np.zeros(0, dtype=np.int32)
        self.n = int(self.file_index.size)
        self._schema = schema
        self._columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def col(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._columns:
            self._columns[name] = self._convert(name, self._schema[name])
        return self._columns[name]

    def _convert(self, name: str, dtype: pl.DataType) -> tuple[np.ndarray, np.ndarray]:
        column = self._merged.get(name)
        if column is None:
            empty = np.empty(self.n, dtype=object) if dtype == pl.String else np.zeros(self.n, dtype=_NUMPY[dtype])
            return empty, np.zeros(self.n, dtype=bool)
        if (column.kind, dtype) in (("i", pl.Int64), ("f", pl.Float64), ("s", pl.String)):
            return column.values, column.valid
        if (column.kind, dtype) == ("i", pl.Float64):
            return column.values.astype(np.float64), column.valid
        raise _Decline(f"{name}: {column.kind} → {dtype}")  # a text ↔ number cast: the general path does it

    def value(self, name: str, row: int):
        """A Python value (int, float, str) or None, as polars' `iter_rows` gives it."""
        values, valid = self.col(name)
        if not valid[row]:
            return None
        value = values[row]
        return value if isinstance(value, str) else value.item()

    def row(self, names: tuple[str, ...], row: int = 0) -> dict:
        return {name: self.value(name, row) for name in names}


_IDENTITY = ("garmin_product", "favero_product", "product_name", "product", "manufacturer", "serial_number", "time_created", "type")
_SESSION = (
    "timestamp", "start_time", "total_elapsed_time", "total_timer_time", "total_distance", "sport", "sub_sport",
    "avg_heart_rate", "max_heart_rate", "total_ascent", "total_descent", "total_calories", "avg_cadence",
    "avg_fractional_cadence",
)  # fmt: skip


def decode_common(data: bytes, default_tz: str) -> DecodedFile | None:
    """`normalize(decode_messages(data))` for the common single-session file; None otherwise.

    `data` must already have passed `validate_fit`. Raises `sources.fit.fast.Unsupported` when
    the fast decoder declines (the caller falls back as it would anyway).
    """
    parts = _decode_parts(bytes(data), _WANTED)
    try:
        kinds = {kind: _Kind(parts[kind], schema) for kind, schema in RAW_SCHEMAS.items()}
        return _normalize(kinds, ZoneInfo(default_tz))
    except _Decline:
        return None


def _identity(file_id: _Kind) -> FileIdentity:
    if file_id.n == 0:
        return FileIdentity()
    return identity_from_row(file_id.row(_IDENTITY))


def _bounds(timestamp: int | None, start_time: int | None, elapsed: float | None) -> tuple[int | None, int | None]:
    """`normalize._session_bounds` for one row (float arithmetic as polars does it)."""
    if elapsed is not None and not math.isfinite(elapsed):
        raise _Decline("non-finite elapsed time")
    start = start_time
    if start is None and timestamp is not None and elapsed is not None:
        start = int(float(timestamp) - float(math.ceil(elapsed)))
    if start is None:
        return None, None
    candidates = [start, timestamp]
    if elapsed is not None:
        candidates.append(start + int(math.ceil(elapsed)))
    return start, max(c for c in candidates if c is not None)


def _utc_offset(activity: _Kind, file_index: int, start, zone: ZoneInfo) -> tuple[int, str | None]:
    local, local_ok = activity.col("local_timestamp")
    utc, utc_ok = activity.col("timestamp")
    rows = np.flatnonzero(local_ok & utc_ok)
    same = rows[activity.file_index[rows] == file_index]
    candidates = same if same.size else rows
    warning = None
    for i in candidates.tolist():
        offset = int(local[i]) - int(utc[i])
        if abs(offset) <= _MAX_OFFSET_S:
            return offset, None
        warning = f"implausible activity local time offset {offset} s ignored; used {zone.key}"
    delta = start.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0, warning


class _Rows:
    """The rows `index` of a `_Kind` (one session's records or laps), with the same accessors."""

    def __init__(self, kind: _Kind, index: np.ndarray) -> None:
        self._kind, self._index = kind, index
        self.n = int(index.size)
        self.file_index = kind.file_index[index]

    def col(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        values, valid = self._kind.col(name)
        return values[self._index], valid[self._index]

    value = _Kind.value


def _record_session_ids(times: np.ndarray, timed: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """`normalize._record_session_ids`: untimed records follow the previous (else next) timed one."""
    if not timed.any():
        return np.zeros(times.size, dtype=np.int64)
    ids = np.full(times.size, -1, dtype=np.int64)
    ids[timed] = _assign(times[timed], starts)
    if timed.all():
        return ids
    last_timed = np.maximum.accumulate(np.where(timed, np.arange(times.size), -1))
    first_timed = int(np.flatnonzero(timed)[0])
    return ids[np.where(last_timed >= 0, last_timed, first_timed)]


def _normalize(kinds: dict[str, _Kind], zone: ZoneInfo) -> DecodedFile | None:
    sessions = kinds["session"]
    rows = [sessions.row(_SESSION, i) for i in range(sessions.n)]
    bounds = [_bounds(r["timestamp"], r["start_time"], r["total_elapsed_time"]) for r in rows]
    kept = [i for i, (start, _) in enumerate(bounds) if start is not None]
    if not kept:
        return None  # no session placeable in time: the general path says why (NotAnActivity)
    warnings = []
    if len(kept) < sessions.n:
        warnings.append(f"{sessions.n - len(kept)} session(s) without a start time left out")
    starts = np.array([bounds[i][0] for i in kept], dtype=np.int64)
    ends = np.array([bounds[i][1] for i in kept], dtype=np.int64)
    records, laps = kinds["record"], kinds["lap"]
    times, timed = records.col("timestamp")
    record_ids = _record_session_ids(times, timed, starts)
    safe = np.where(timed, times, 0)
    outside = int((timed & ((safe < starts[record_ids]) | (safe > ends[record_ids]))).sum())
    if outside:
        warnings.append(f"{outside} record(s) outside their session's [start, start + elapsed] kept")
    lap_starts, lap_has_start = _starts(laps)
    lap_ids = _assign(np.where(lap_has_start, lap_starts, -(2**62)), starts, before=_LAP_TOLERANCE_S)
    decoded = []
    for index, i in enumerate(kept):
        row = rows[i]
        start_s = int(starts[index])
        start = fit_time(start_s)
        offset, warning = _utc_offset(kinds["activity"], int(sessions.file_index[i]), start, zone)
        if warning:
            warnings.append(f"session {index}: {warning}")
        summary = session_summary(index, row, start, offset)
        sport, sub_sport = summary["sport"], summary["sub_sport"]
        factor = cadence_spm_factor(sport, sub_sport)
        own_records = records if len(kept) == 1 else _Rows(records, np.flatnonzero(record_ids == index))
        own_laps = laps if len(kept) == 1 else _Rows(laps, np.flatnonzero(lap_ids == index))
        decoded.append(
            DecodedSession(summary=summary, laps=_laps(own_laps, start_s, sport, sub_sport), records=_records(own_records, factor))
        )
    return DecodedFile(identity=_identity(kinds["file_id"]), sessions=decoded, decoder="fast", warnings=warnings)


def _arrow(values: np.ndarray, valid: np.ndarray, dtype: pa.DataType) -> pa.Array:
    """An Arrow array of `values` with nulls where not `valid`, built from its buffers.

    Why not `pa.array`: its first call imports pandas (~1.5 s in every process) to check the
    input type; buffers avoid that and any copy beyond the validity bitmap.
    """
    if dtype == pa.large_string():
        texts = [v if ok else None for v, ok in zip(values.tolist(), valid.tolist(), strict=True)]
        return pl.Series(texts, dtype=pl.String).to_arrow()
    if not valid.all() and not valid.any():
        return pa.nulls(len(values), type=dtype)
    numpy_type = {pa.int32(): np.int32}.get(dtype, np.float64 if dtype == pa.float64() else np.int64)
    data = np.ascontiguousarray(values, dtype=numpy_type)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(dtype, len(data), [bitmap, pa.py_buffer(data)])


def _coalesce(kind: _Kind, first: str, second: str) -> tuple[np.ndarray, np.ndarray]:
    a, a_ok = kind.col(first)
    b, b_ok = kind.col(second)
    return np.where(a_ok, a, b), a_ok | b_ok


def _cadence(kind: _Kind, cadence: str, fraction: str, factor) -> tuple[np.ndarray, np.ndarray]:
    c, c_ok = kind.col(cadence)
    f, f_ok = kind.col(fraction)
    return (c + np.where(f_ok, f, 0.0)) * factor, c_ok


def _int32(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Float64 → Int32 as polars' strict cast, for integral in-range values only."""
    v = values[valid]
    if v.size and (not np.all(np.isfinite(v)) or (v != np.trunc(v)).any() or (np.abs(v) > 2**31 - 1).any()):
        raise _Decline("non-integral or out-of-range Int32 value")
    return np.where(valid, values, 0).astype(np.int32)


def _utc_us(seconds: np.ndarray, valid: np.ndarray) -> pa.Array:
    return _arrow(np.where(valid, seconds + _EPOCH_S, 0) * 1_000_000, valid, _UTC_US)


def _frame(columns: dict[str, pa.Array], schema: pl.Schema) -> pl.DataFrame:
    frame = pl.from_arrow(pa.Table.from_arrays(list(columns.values()), names=list(columns)))
    if frame.schema != schema:
        raise _Decline(f"frame schema {frame.schema} is not {schema}")
    return frame


def _records(records: _Kind, factor: float) -> pl.DataFrame:
    f64 = pa.float64()
    lat, lat_ok = records.col("position_lat")
    lon, lon_ok = records.col("position_long")
    hr, hr_ok = records.col("heart_rate")
    power, power_ok = records.col("power")
    return _frame(
        {
            "seq": _arrow(np.arange(records.n, dtype=np.int32), np.ones(records.n, dtype=bool), pa.int32()),
            "timestamp": _utc_us(*records.col("timestamp")),
            "lat_deg": _arrow(lat.astype(np.float64) * _SEMICIRCLE_DEG, lat_ok, f64),
            "lon_deg": _arrow(lon.astype(np.float64) * _SEMICIRCLE_DEG, lon_ok, f64),
            "distance_m": _arrow(*records.col("distance"), f64),
            "speed_mps": _arrow(*_coalesce(records, "enhanced_speed", "speed"), f64),
            "altitude_m": _arrow(*_coalesce(records, "enhanced_altitude", "altitude"), f64),
            "hr_bpm": _arrow(_int32(hr, hr_ok), hr_ok, pa.int32()),
            "cadence_spm": _arrow(*_cadence(records, "cadence", "fractional_cadence", factor), f64),
            "power_w": _arrow(_int32(power, power_ok), power_ok, pa.int32()),
            "temperature_c": _arrow(*records.col("temperature"), f64),
        },
        RECORD_COLUMNS,
    )


def _starts(laps: _Kind) -> tuple[np.ndarray, np.ndarray]:
    """`_bounds`' start for every lap at once: `start_time`, else `timestamp` − ⌈elapsed⌉."""
    start_time, start_ok = laps.col("start_time")
    timestamp, timestamp_ok = laps.col("timestamp")
    elapsed, elapsed_ok = laps.col("total_elapsed_time")
    if not np.isfinite(elapsed[elapsed_ok]).all():
        raise _Decline("non-finite lap elapsed time")
    derivable = timestamp_ok & elapsed_ok
    derived = (timestamp.astype(np.float64) - np.ceil(np.where(derivable, elapsed, 0.0))).astype(np.int64)
    return np.where(start_ok, start_time, np.where(derivable, derived, 0)), start_ok | derivable


def _laps(laps: _Kind, session_start: int, sport: str | None, sub_sport: str | None) -> pl.DataFrame:
    f64 = pa.float64()
    starts, has_start = _starts(laps)
    sports, sports_ok = laps.col("sport")
    subs, subs_ok = laps.col("sub_sport")
    factors = np.array(
        [
            2.0 if (a if a_ok else sport) in STEP_SPORTS or (b if b_ok else sub_sport) in STEP_SUB_SPORTS else 1.0
            for a, a_ok, b, b_ok in zip(sports.tolist(), sports_ok.tolist(), subs.tolist(), subs_ok.tolist(), strict=True)
        ],
        dtype=np.float64,
    )
    s = pa.large_string()
    return _frame(
        {
            "lap_index": _arrow(np.arange(laps.n, dtype=np.int32), np.ones(laps.n, dtype=bool), pa.int32()),
            "start_time": _utc_us(starts, has_start),
            "start_offset_s": _arrow((starts - session_start).astype(np.float64), has_start, f64),
            "elapsed_s": _arrow(*laps.col("total_elapsed_time"), f64),
            "moving_s": _arrow(*laps.col("total_timer_time"), f64),
            "distance_m": _arrow(*laps.col("total_distance"), f64),
            "avg_speed_mps": _arrow(*_coalesce(laps, "enhanced_avg_speed", "avg_speed"), f64),
            "avg_hr_bpm": _arrow(*laps.col("avg_heart_rate"), f64),
            "max_hr_bpm": _arrow(*laps.col("max_heart_rate"), f64),
            "avg_cadence_spm": _arrow(*_cadence(laps, "avg_cadence", "avg_fractional_cadence", factors), f64),
            "ascent_m": _arrow(*laps.col("total_ascent"), f64),
            "descent_m": _arrow(*laps.col("total_descent"), f64),
            "intensity": _arrow(*laps.col("intensity"), s),
            "lap_trigger": _arrow(*laps.col("lap_trigger"), s),
        },
        LAP_COLUMNS,
    )
