"""Bulk decoding of the data messages of one definition into columns, as garmin-fit-sdk would.

Why each rule is here: the fast path must equal garmin-fit-sdk 21.x (`Decoder.read` with scale
and offset applied, types converted to strings, timestamps left as FIT seconds, subfields and
components expanded) value for value. Each step mirrors one step of its decoder:

* `raw != invalid` per the *definition's* base type (floats and strings have no invalid value
  there) — absent fields are null;
* numbers: `raw / scale - offset` in float64 when the scale is not 1 (what Python's `/` gives),
  `raw - offset` otherwise;
* enum-typed fields: the profile name, else the number as a string; dates: Int64 FIT seconds;
* subfields (`garmin_product`, `avg_running_cadence`, …): a copy of the raw number typed as the
  subfield, where a reference field's raw value matches;
* components that are not accumulated (`speed` → `enhanced_speed`, `altitude` →
  `enhanced_altitude`, …): where the source is valid the target is the source's value (it
  replaces a target read from the file, as in the reference).

Everything else that would change a value (accumulated components with data, arrays feeding
components or subfields, strings holding several values, the date value named "min") raises
`Unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sources.fit.fast_profile import (
    BASE_TYPE_BY_NAME,
    BASE_TYPES,
    DATE_TIME_MIN,
    DATE_TYPES,
    KIND_MESG_NUMS,
    NUMERIC_TYPES,
    FieldProfile,
    field_by_name,
    message_fields,
)
from sources.fit.fast_walk import Definition, FieldDef, Unsupported

_EXACT_INT = 2**53


@dataclass
class Column:
    """Values of one output column for the rows of one definition; `valid` False means null."""

    values: np.ndarray  # int64, float64 or object (str)
    valid: np.ndarray  # bool
    kind: str  # "i", "f" or "s"


def read_raw(buf: np.ndarray, starts: np.ndarray, field: FieldDef, big_endian: bool) -> np.ndarray:
    """The raw numbers of a single-element field, gathered from every message start."""
    base = BASE_TYPES[field.base_type]
    if base.size == 1:
        raw = buf[starts + field.offset]
        return raw.view(np.int8) if base.np_char == "i1" else raw
    index = (starts + field.offset)[:, None] + np.arange(base.size)
    dtype = np.dtype(("<", ">")[big_endian] + base.np_char)
    return buf[index].view(dtype).ravel()


def read_strings(buf: np.ndarray, starts: np.ndarray, field: FieldDef) -> Column:
    """Strings as garmin-fit-sdk's `_convert_string`: UTF-8 (errors ignored), NULs stripped."""
    index = (starts + field.offset)[:, None] + np.arange(field.size)
    rows = buf[index]
    values = np.empty(len(starts), dtype=object)
    valid = np.zeros(len(starts), dtype=bool)
    for i, row in enumerate(rows.tobytes()[k : k + field.size] for k in range(0, rows.size, field.size)):
        text = row.decode("utf-8", errors="ignore").rstrip("\0")
        if "\0" in text:
            raise Unsupported(f"string field {field.num} holds several strings")
        if text:
            values[i], valid[i] = text, True
    return Column(values, valid, "s")


def convert(profile: FieldProfile, raw: np.ndarray, valid: np.ndarray) -> Column:
    """A field's raw numbers as the reference's values (see the module docstring)."""
    is_float = raw.dtype.kind == "f"
    if profile.type in DATE_TYPES:
        if is_float:
            raise Unsupported(f"date field {profile.name} stored as a float")
        if (raw[valid] == DATE_TIME_MIN).any():
            raise Unsupported(f"date field {profile.name} holds the named value 'min'")
        return Column(_to_int64(raw, profile.name), valid, "i")
    if profile.is_enum:
        if is_float:
            raise Unsupported(f"enum field {profile.name} stored as a float")
        return Column(_enum_names(profile, raw, valid), valid, "s")
    if profile.type not in NUMERIC_TYPES:
        if valid.any():
            raise Unsupported(f"field {profile.name} of type {profile.type} is not decoded by the fast path")
        return Column(np.zeros(len(raw), dtype=np.int64), valid, "i")
    if len(profile.scale) > 1:  # the reference leaves such values unscaled
        return Column(raw.astype(np.float64) if is_float else _to_int64(raw, profile.name), valid, "f" if is_float else "i")
    scale, offset = profile.scale[0], profile.offset[0]
    if is_float:
        values = raw.astype(np.float64)
        if scale != 1:
            values = values / scale
        return Column(values - offset, valid, "f")
    if scale != 1:
        if raw.dtype.itemsize == 8 and (np.abs(raw[valid].astype(np.float64)) >= _EXACT_INT).any():
            raise Unsupported(f"64-bit field {profile.name} too large to scale exactly")
        return Column(raw.astype(np.float64) / scale - offset, valid, "f")
    values = _to_int64(raw, profile.name)
    if offset != 0:
        if isinstance(offset, float):
            return Column(values.astype(np.float64) - offset, valid, "f")
        values = values - offset
    return Column(values, valid, "i")


def _to_int64(raw: np.ndarray, name: str) -> np.ndarray:
    if raw.dtype == np.uint64 and (raw > np.iinfo(np.int64).max).any():
        raise Unsupported(f"field {name} exceeds Int64")
    return raw.astype(np.int64)


def _enum_names(profile: FieldProfile, raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    names = profile.names()
    values = np.empty(len(raw), dtype=object)
    if not valid.any():
        return values
    uniques, inverse = np.unique(raw[valid], return_inverse=True)
    labels = np.array([names.get(int(u), str(int(u))) for u in uniques.tolist()], dtype=object)
    values[valid] = labels[inverse]
    return values


@lru_cache(maxsize=64)
def needed_fields(kind: str, columns: tuple[str, ...]) -> frozenset[str]:
    """The profile fields to decode so that `columns` come out exactly as the reference's.

    A column needs its own field, the main field when it is a subfield, the sources that expand
    into it (components), and for every needed field with subfields the fields they refer to.
    """
    fields = message_fields(KIND_MESG_NUMS[kind])
    wanted = set(columns)
    needed = {f.name for f in fields.values() if f.name in wanted}
    for f in fields.values():
        if any(sub.profile.name in wanted for sub in f.subfields):
            needed.add(f.name)
        if any(fields[c].name in wanted for c in f.components if c in fields):
            needed.add(f.name)
    for f in fields.values():
        if f.name in needed:
            needed.update(ref for sub in f.subfields for ref, _ in sub.map)
    return frozenset(needed)


def decode_definition(
    definition: Definition, buf: np.ndarray, starts: np.ndarray, only: frozenset[str] | None = None
) -> dict[str, Column]:
    """Every profile field (and expanded subfield/component) of one definition's messages.

    `only`: decode just these profile fields (see `needed_fields`).
    """
    profiles = message_fields(definition.global_num)
    n = len(starts)
    raws: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (raw, valid) of scalar fields
    columns: dict[str, Column] = {}
    expanded: dict[str, Column] = {}
    for field in definition.fields:
        profile = profiles.get(field.num)
        if profile is None or (only is not None and profile.name not in only):
            continue  # unknown to the profile (the reference keys it by number), or not asked for
        base = BASE_TYPES[field.base_type]
        if base.is_string or profile.type == "string":
            if not (base.is_string and profile.type == "string"):
                raise Unsupported(f"field {profile.name}: string/number mismatch")
            columns[profile.name] = read_strings(buf, starts, field)
            continue
        if field.size != base.size:  # an array: kept as null (not a scalar value)
            _check_array_harmless(profile, definition, buf, starts, field)
            columns[profile.name] = Column(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), "i")
            continue
        if profile.is_accumulated and base.is_float:
            raise Unsupported(f"accumulated field {profile.name} stored as a float")
        raw = read_raw(buf, starts, field, definition.big_endian)
        valid = np.ones(n, dtype=bool) if base.invalid is None else raw != _typed(raw, base.invalid)
        raws[profile.name] = (raw, valid)
        columns[profile.name] = convert(profile, raw, valid)
        if profile.components:
            _expand_components(definition, profile, base.name, raw, valid, expanded)
    _expand_subfields(definition, raws, columns)
    for name, column in expanded.items():
        old = columns.get(name)
        if old is None:
            columns[name] = column
            continue
        if old.kind == "s":
            raise Unsupported(f"component {name} mixes strings and numbers")
        values = np.where(column.valid, column.values, old.values.astype(np.float64))
        columns[name] = Column(values, column.valid | old.valid, "f")
    return columns


def _typed(raw: np.ndarray, invalid: int):
    """The invalid value as the array's own type (sint invalids are positive, so they fit)."""
    return raw.dtype.type(invalid)


def _check_array_harmless(
    profile: FieldProfile, definition: Definition, buf: np.ndarray, starts: np.ndarray, field: FieldDef
) -> None:
    """Arrays are kept as null; refuse when the reference would expand them into other fields."""
    if not (profile.components or profile.subfields):
        return
    base = BASE_TYPES[field.base_type]
    index = (starts + field.offset)[:, None] + np.arange(field.size)
    raw = buf[index]
    invalid_bytes = np.frombuffer(int(base.invalid or 0).to_bytes(base.size, "little"), dtype=np.uint8)
    if base.invalid is None or not (raw.reshape(len(starts), -1, base.size) == invalid_bytes).all():
        raise Unsupported(f"array field {profile.name} has components or subfields")


def _expand_components(
    definition: Definition,
    profile: FieldProfile,
    base_name: str,
    raw: np.ndarray,
    valid: np.ndarray,
    expanded: dict[str, Column],
) -> None:
    if not valid.any():
        return
    fields = message_fields(definition.global_num)
    bits = BASE_TYPE_BY_NAME[base_name].size * 8
    if base_name != profile.base_type or len(profile.components) != 1 or profile.bits != (bits,):
        raise Unsupported(f"components of {profile.name} are not a plain copy")
    target = fields.get(profile.components[0])
    if target is None or target.is_accumulated or target.type not in NUMERIC_TYPES or target.components:
        raise Unsupported(f"component of {profile.name} needs accumulation or more expansion")
    if target.name in expanded:
        raise Unsupported(f"two fields expand into {target.name}")
    values = raw.astype(np.float64) / profile.scale[0] - profile.offset[0]
    target_raw = (values + target.offset[0]) * target.scale[0]
    target_invalid = BASE_TYPE_BY_NAME[target.base_type].invalid
    if target_invalid is not None and (target_raw[valid] == target_invalid).any():
        raise Unsupported(f"component {target.name} hits its invalid value")
    expanded[target.name] = Column(values, valid, "f")


def _expand_subfields(
    definition: Definition, raws: dict[str, tuple[np.ndarray, np.ndarray]], columns: dict[str, Column]
) -> None:
    by_name = field_by_name(definition.global_num)
    for name, (raw, valid) in list(raws.items()):
        profile = by_name[name]
        for sub in profile.subfields:
            chosen = np.zeros(len(raw), dtype=bool)
            for ref_name, ref_value in sub.map:
                if ref_name in raws:
                    ref_raw, ref_valid = raws[ref_name]
                    chosen |= ref_valid & (ref_raw == ref_value)
            chosen &= valid
            if not chosen.any():
                continue
            if sub.profile.components:
                raise Unsupported(f"subfield {sub.profile.name} has components")
            if sub.profile.name in columns:
                raise Unsupported(f"subfield {sub.profile.name} collides with a field")
            columns[sub.profile.name] = convert(sub.profile, raw, chosen)
