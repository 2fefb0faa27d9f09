"""A minimal FIT encoder: definition messages once per layout, data messages as NumPy rows.

Why not fit-tool alone: it builds one Python object per field per record and writes ~1,000
records/s here, so a 10-year history (~20 M records) would take hours. This encoder packs a
message layout into a NumPy structured dtype once and writes all rows of that layout with one
`tobytes()`. It only knows the message fields in `PROFILE` (checked against garmin-fit-sdk's
profile in the tests) and always writes little-endian, normal-header messages, FIT protocol 2.0.

Values are given in physical units (m, s, m/s, bpm, ...): raw = round((value + offset) * scale).
NaN (or None) becomes the base type's invalid value, which decoders report as missing.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from sources.fit.validate import fit_crc as crc16

FIT_EPOCH_UNIX_S = 631065600  # 1989-12-31T00:00:00Z
PROFILE_VERSION = 21218  # the FIT profile these field numbers come from (garmin-fit-sdk 21.218)

#: base type name -> (base type byte, numpy dtype, invalid value)
BASE_TYPES: dict[str, tuple[int, str, int]] = {
    "enum": (0x00, "u1", 0xFF),
    "sint8": (0x01, "i1", 0x7F),
    "uint8": (0x02, "u1", 0xFF),
    "sint16": (0x83, "<i2", 0x7FFF),
    "uint16": (0x84, "<u2", 0xFFFF),
    "sint32": (0x85, "<i4", 0x7FFFFFFF),
    "uint32": (0x86, "<u4", 0xFFFFFFFF),
    "uint32z": (0x8C, "<u4", 0),
}


@dataclass(frozen=True)
class FieldDef:
    name: str
    number: int
    base: str
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class MessageDef:
    name: str
    number: int
    fields: tuple[FieldDef, ...]

    def field(self, name: str) -> FieldDef:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(f"{self.name}.{name} is not in the encoder's profile")


def _m(name: str, number: int, *fields: tuple) -> MessageDef:
    return MessageDef(name, number, tuple(FieldDef(*f) for f in fields))


_TS = ("timestamp", 253, "uint32")
_MI = ("message_index", 254, "uint16")

#: The message fields this encoder writes (numbers, types, scale and offset from the FIT profile).
PROFILE: dict[str, MessageDef] = {
    m.name: m
    for m in (
        _m("file_id", 0, ("type", 0, "enum"), ("manufacturer", 1, "uint16"), ("product", 2, "uint16"),
           ("serial_number", 3, "uint32z"), ("time_created", 4, "uint32")),
        _m("file_creator", 49, ("software_version", 0, "uint16")),
        _m("device_info", 23, _TS, ("device_index", 0, "uint8"), ("manufacturer", 2, "uint16"),
           ("serial_number", 3, "uint32z"), ("product", 4, "uint16"), ("software_version", 5, "uint16", 100),
           ("source_type", 25, "enum")),
        _m("event", 21, _TS, ("event", 0, "enum"), ("event_type", 1, "enum"), ("data", 3, "uint32"),
           ("event_group", 4, "uint8")),
        _m("record", 20, _TS, ("position_lat", 0, "sint32"), ("position_long", 1, "sint32"),
           ("heart_rate", 3, "uint8"), ("cadence", 4, "uint8"), ("distance", 5, "uint32", 100),
           ("power", 7, "uint16"), ("temperature", 13, "sint8"), ("fractional_cadence", 53, "uint8", 128),
           ("enhanced_speed", 73, "uint32", 1000), ("enhanced_altitude", 78, "uint32", 5, 500)),
        _m("lap", 19, _MI, _TS, ("event", 0, "enum"), ("event_type", 1, "enum"), ("start_time", 2, "uint32"),
           ("start_position_lat", 3, "sint32"), ("start_position_long", 4, "sint32"),
           ("end_position_lat", 5, "sint32"), ("end_position_long", 6, "sint32"),
           ("total_elapsed_time", 7, "uint32", 1000), ("total_timer_time", 8, "uint32", 1000),
           ("total_distance", 9, "uint32", 100), ("total_cycles", 10, "uint32"), ("total_calories", 11, "uint16"),
           ("avg_heart_rate", 15, "uint8"), ("max_heart_rate", 16, "uint8"), ("avg_cadence", 17, "uint8"),
           ("max_cadence", 18, "uint8"), ("avg_power", 19, "uint16"), ("max_power", 20, "uint16"),
           ("total_ascent", 21, "uint16"), ("total_descent", 22, "uint16"), ("intensity", 23, "enum"),
           ("lap_trigger", 24, "enum"), ("sport", 25, "enum"), ("sub_sport", 39, "enum"),
           ("avg_fractional_cadence", 80, "uint8", 128), ("enhanced_avg_speed", 110, "uint32", 1000),
           ("enhanced_max_speed", 111, "uint32", 1000)),
        _m("session", 18, _MI, _TS, ("event", 0, "enum"), ("event_type", 1, "enum"), ("start_time", 2, "uint32"),
           ("start_position_lat", 3, "sint32"), ("start_position_long", 4, "sint32"), ("sport", 5, "enum"),
           ("sub_sport", 6, "enum"), ("total_elapsed_time", 7, "uint32", 1000),
           ("total_timer_time", 8, "uint32", 1000), ("total_distance", 9, "uint32", 100),
           ("total_cycles", 10, "uint32"), ("total_calories", 11, "uint16"), ("avg_heart_rate", 16, "uint8"),
           ("max_heart_rate", 17, "uint8"), ("avg_cadence", 18, "uint8"), ("max_cadence", 19, "uint8"),
           ("avg_power", 20, "uint16"), ("max_power", 21, "uint16"), ("total_ascent", 22, "uint16"),
           ("total_descent", 23, "uint16"), ("first_lap_index", 25, "uint16"), ("num_laps", 26, "uint16"),
           ("trigger", 28, "enum"), ("avg_fractional_cadence", 92, "uint8", 128),
           ("enhanced_avg_speed", 124, "uint32", 1000), ("enhanced_max_speed", 125, "uint32", 1000)),
        _m("activity", 34, _TS, ("total_timer_time", 0, "uint32", 1000), ("num_sessions", 1, "uint16"),
           ("type", 2, "enum"), ("event", 3, "enum"), ("event_type", 4, "enum"), ("local_timestamp", 5, "uint32")),
    )
}


_LIMITS = {name: (int(np.iinfo(np.dtype(dtype)).min), int(np.iinfo(np.dtype(dtype)).max))
           for name, (_, dtype, _) in BASE_TYPES.items()}
_STRUCT = {"u1": "B", "i1": "b", "<u2": "H", "<i2": "h", "<u4": "I", "<i4": "i"}
_FIELDS = {m.name: {f.name: f for f in m.fields} for m in PROFILE.values()}


def _raw_scalar(field: FieldDef, value: Any) -> int:
    """One physical value -> its raw integer (the invalid value for None/NaN)."""
    invalid = BASE_TYPES[field.base][2]
    value = float(value) if value is not None else math.nan
    if not math.isfinite(value):
        return invalid
    raw = round((value + field.offset) * field.scale)
    lo, hi = _LIMITS[field.base]
    if raw < lo or raw > hi or (raw == 0 and field.base == "uint32z"):
        raise ValueError(f"{field.name}: value {value} out of range for {field.base}")
    return raw


def _raw(field: FieldDef, values: Any, rows: int) -> np.ndarray:
    """Physical values -> raw integers of the field's base type (invalid where NaN/None)."""
    _, dtype, invalid = BASE_TYPES[field.base]
    lo, hi = _LIMITS[field.base]
    arr = np.asarray(values, dtype=np.float64) if values is not None else np.array(np.nan)
    arr = np.broadcast_to(arr, (rows,))
    scaled = np.round((arr + field.offset) * field.scale)
    bad = ~np.isfinite(scaled) | (scaled < lo) | (scaled > hi)
    if field.base == "uint32z":
        bad |= scaled == 0
    if np.any(bad & np.isfinite(arr)):
        raise ValueError(f"{field.name}: value out of range for {field.base}")
    return np.where(bad, invalid, scaled).astype(dtype)


@dataclass
class Packed:
    """Many messages of one layout, already converted to raw values (a structured array)."""

    message: MessageDef
    fields: list[FieldDef]
    table: np.ndarray


def pack(message_name: str, columns: Mapping[str, Any], rows: int) -> Packed:
    """Convert columns (physical units; None = field absent) to a structured array of raw rows."""
    fields = _FIELDS[message_name]
    present = [(fields[name], value) for name, value in columns.items() if value is not None]
    present.sort(key=lambda fv: fv[0].number == 253, reverse=True)  # timestamp first, as devices do
    dtype = np.dtype([("_header", "u1")] + [(f.name, BASE_TYPES[f.base][1]) for f, _ in present])
    table = np.empty(rows, dtype=dtype)
    for field, value in present:
        table[field.name] = _raw(field, value, rows)
    return Packed(PROFILE[message_name], [f for f, _ in present], table)


class FitWriter:
    """Collects messages of one FIT file; `to_bytes()` adds the header and both CRCs."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._layouts: dict[tuple[str, tuple[str, ...]], int] = {}

    def _local_type(self, message: MessageDef, names: tuple[str, ...]) -> tuple[int, bool]:
        key = (message.name, names)
        if key in self._layouts:
            return self._layouts[key], False
        local = len(self._layouts) % 16  # reuse slots round-robin: a redefinition replaces the layout
        for old_key, old_local in list(self._layouts.items()):
            if old_local == local:
                del self._layouts[old_key]
        self._layouts[key] = local
        return local, True

    def _define(self, message: MessageDef, fields: list[FieldDef]) -> int:
        local, new = self._local_type(message, tuple(f.name for f in fields))
        if new:
            head = struct.pack("<BBBHB", 0x40 | local, 0, 0, message.number, len(fields))
            defs = b"".join(struct.pack("<BBB", f.number, np.dtype(BASE_TYPES[f.base][1]).itemsize,
                                        BASE_TYPES[f.base][0]) for f in fields)
            self._parts.append(head + defs)
        return local

    def add(self, message_name: str, columns: Mapping[str, Any], rows: int = 1) -> None:
        """Write `rows` messages; `columns` maps field name -> scalar or array (physical units).

        A column whose value is None is left out of the layout (the field is absent, not invalid).
        """
        if rows == 1 and all(np.ndim(v) == 0 for v in columns.values()):  # many one-row summaries
            fields = _FIELDS[message_name]
            present = [(fields[name], value) for name, value in columns.items() if value is not None]
            present.sort(key=lambda fv: fv[0].number == 253, reverse=True)  # timestamp first
            local = self._define(PROFILE[message_name], [f for f, _ in present])
            fmt = "<B" + "".join(_STRUCT[BASE_TYPES[f.base][1]] for f, _ in present)
            self._parts.append(struct.pack(fmt, local, *(_raw_scalar(f, v) for f, v in present)))
            return
        self.add_packed(pack(message_name, columns, rows))

    def add_packed(self, packed: Packed, start: int = 0, stop: int | None = None) -> None:
        """Write rows `start:stop` of a packed table (its definition is written once)."""
        local = self._define(packed.message, packed.fields)
        rows = packed.table[start:stop]
        rows["_header"] = local
        self._parts.append(rows.tobytes())

    def to_bytes(self) -> bytes:
        body = b"".join(self._parts)
        header = struct.pack("<BBHI4s", 14, 0x20, PROFILE_VERSION, len(body), b".FIT")
        header += struct.pack("<H", crc16(header))
        data = header + body
        return data + struct.pack("<H", crc16(data))


def fit_time(unix_s: Any) -> Any:
    """Unix seconds -> FIT date_time seconds."""
    return np.asarray(unix_s) - FIT_EPOCH_UNIX_S


def semicircles(degrees: Any) -> Any:
    return np.round(np.asarray(degrees, dtype=np.float64) * (2**31 / 180.0))
