"""The columns of `RawMessages` and how decoder values are coerced into them.

Why a fixed column set: the decoders know different profile versions (fitparse 1.2 calls
field 38 of `session` `unknown_38`, fitdecode 0.11 `end_position_lat`), name subfields
differently (garmin-fit-sdk emits `avg_cadence` *and* `avg_running_cadence`, fitparse only the
latter) and type values differently (`0` vs `0.0`). Decoding into these explicit schemas —
only the fields `sources.fit.normalize` uses, named and typed as garmin-fit-sdk's Profile says —
makes the outputs of every decoder (reference adapters and the fast decoder) comparable value
for value. Developer fields and unknown fields are not kept.

Types: `date_time`/`local_date_time` fields are Int64 FIT seconds; positions Int64 semicircles;
enums String (profile name, or the number as a string when the profile does not know it);
`serial_number`, `product` Int64; every other number Float64 (scaled and offset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
from garmin_fit_sdk import Profile

_F = pl.Float64
_I = pl.Int64
_S = pl.String

#: message kind → global message number (FIT profile)
MESG_NUMS: dict[str, int] = {"file_id": 0, "session": 18, "lap": 19, "record": 20, "activity": 34}

#: fields shared by `session` and `lap` (both summarise a span of the recording)
_SPAN = {
    "message_index": _I,
    "timestamp": _I,
    "start_time": _I,
    "total_elapsed_time": _F,
    "total_timer_time": _F,
    "total_distance": _F,
    "sport": _S,
    "sub_sport": _S,
    "avg_heart_rate": _F,
    "max_heart_rate": _F,
    "total_ascent": _F,
    "total_descent": _F,
    "total_calories": _F,
    "avg_cadence": _F,
    "avg_fractional_cadence": _F,
    "avg_speed": _F,
    "enhanced_avg_speed": _F,
}

RAW_SCHEMAS: dict[str, pl.Schema] = {
    "file_id": pl.Schema(
        {
            "type": _S,
            "manufacturer": _S,
            "product": _I,
            "garmin_product": _S,
            "favero_product": _S,
            "product_name": _S,
            "serial_number": _I,
            "time_created": _I,
            "number": _I,
        }
    ),
    "session": pl.Schema({**_SPAN, "first_lap_index": _I, "num_laps": _I}),
    "lap": pl.Schema({**_SPAN, "intensity": _S, "lap_trigger": _S}),
    "record": pl.Schema(
        {
            "timestamp": _I,
            "position_lat": _I,
            "position_long": _I,
            "distance": _F,
            "speed": _F,
            "enhanced_speed": _F,
            "altitude": _F,
            "enhanced_altitude": _F,
            "heart_rate": _F,
            "cadence": _F,
            "fractional_cadence": _F,
            "power": _F,
            "temperature": _F,
        }
    ),
    "activity": pl.Schema(
        {
            "timestamp": _I,
            "local_timestamp": _I,
            "total_timer_time": _F,
            "num_sessions": _I,
            "type": _S,
            "event": _S,
            "event_type": _S,
        }
    ),
}

FILE_INDEX = "_file_index"
_DATE_TYPES = {"date_time", "local_date_time"}


_PROFILES: dict[str, dict[str, dict]] = {
    kind: {profile["name"]: profile for profile in Profile["messages"][num]["fields"].values()}
    for kind, num in MESG_NUMS.items()
}


def field_profile(kind: str, name: str) -> dict | None:
    """garmin-fit-sdk's profile of field `name` in message `kind` (a main field, not a subfield)."""
    return _PROFILES[kind].get(name)


def _subfield_parents() -> dict[str, dict[str, str]]:
    """kind → {subfield name → main field name}, for the kept fields that have subfields."""
    parents: dict[str, dict[str, str]] = {}
    for kind, schema in RAW_SCHEMAS.items():
        for profile in Profile["messages"][MESG_NUMS[kind]]["fields"].values():
            if profile["name"] in schema:
                for sub in profile["sub_fields"]:
                    parents.setdefault(kind, {})[sub["name"]] = profile["name"]
    return parents


SUBFIELD_PARENTS = _subfield_parents()


def enum_name(type_name: str, value: Any) -> Any:
    """The profile name of enum `value` of FIT type `type_name`; unknown numbers as strings."""
    if value is None or isinstance(value, str):
        return value
    names = Profile["types"].get(type_name)
    if isinstance(value, int) and names is not None and value in names:
        return names[value]
    return str(value)


def main_value_from_raw(kind: str, name: str, raw: Any) -> Any:
    """The main field `name`'s value from its stored (raw) number, per the profile.

    Used when a decoder reports a field under a subfield name (e.g. `avg_running_cadence`
    or `garmin_product`): the main field's value is then the raw number scaled as the main
    field says.
    """
    profile = field_profile(kind, name)
    if profile is None or raw is None or not isinstance(raw, (int, float)):
        return None
    ftype = profile["type"]
    if ftype in Profile["types"] and ftype not in _DATE_TYPES:
        return enum_name(ftype, int(raw))
    if ftype in _DATE_TYPES:
        return int(raw)
    scale, offset = profile["scale"][0], profile["offset"][0]
    if scale == 1 and offset == 0:
        return raw
    return raw / scale - offset


def coerce(kind: str, name: str, value: Any) -> Any:
    """A decoder's value for a kept column, in the column's type (enum ints → names)."""
    if value is None:
        return None
    dtype = RAW_SCHEMAS[kind][name]
    if dtype == _S:
        if isinstance(value, str):
            return value
        profile = field_profile(kind, name)
        type_name = profile["type"] if profile else name
        return enum_name(type_name, int(value)) if isinstance(value, int) else str(value)
    if isinstance(value, (tuple, list)):  # an array where a scalar is expected: not ours to guess
        return None
    if isinstance(value, str):
        return None
    if dtype == _I:
        return int(value)
    return float(value)


def build_frames(rows: Mapping[str, Iterable[dict[str, Any]]]) -> dict[str, pl.DataFrame]:
    """One frame per kind in `RAW_SCHEMAS` (empty when the file has none), plus `_file_index`."""
    frames = {}
    for kind, schema in RAW_SCHEMAS.items():
        full = pl.Schema({**schema, FILE_INDEX: pl.Int32})
        kind_rows = list(rows.get(kind, ()))
        columns = {name: [row.get(name) for row in kind_rows] for name in full}
        frames[kind] = pl.DataFrame(columns, schema=full)
    return frames
