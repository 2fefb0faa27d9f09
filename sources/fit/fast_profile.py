"""What the fast FIT decoder needs to know about base types and profile fields.

Why a module of its own: the fast decoder (`sources.fit.fast`) must reproduce garmin-fit-sdk's
values exactly, so every scale, offset, type name, subfield and component comes from
garmin-fit-sdk's own `Profile` (never a hand-copied table); this module turns that profile into
small lookup records, built lazily (no work at import) and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from garmin_fit_sdk import Profile

#: message kind -> FIT global message number; the kinds the fast path decodes.
KIND_MESG_NUMS: dict[str, int] = {"file_id": 0, "session": 18, "lap": 19, "record": 20, "activity": 34}
MESG_NUM_KINDS: dict[int, str] = {num: kind for kind, num in KIND_MESG_NUMS.items()}

TIMESTAMP_FIELD_NUM = 253
DATE_TYPES = frozenset({"date_time", "local_date_time"})
#: the one named value of date_time / local_date_time ("min"): garmin-fit-sdk turns it into a string.
DATE_TIME_MIN = 0x10000000

NUMERIC_TYPES = frozenset(
    {
        "sint8", "uint8", "sint16", "uint16", "sint32", "uint32", "float32", "float64",
        "uint8z", "uint16z", "uint32z", "byte", "sint64", "uint64", "uint64z",
    }
)  # fmt: skip


@dataclass(frozen=True)
class BaseType:
    """A FIT base type: numpy scalar code (without byte order), size and invalid value."""

    code: int
    name: str
    np_char: str  # e.g. "u2"; "S" for strings
    size: int
    invalid: int | None  # None: no invalid value the reference ever matches (floats, strings)

    @property
    def is_float(self) -> bool:
        return self.np_char.startswith("f")

    @property
    def is_string(self) -> bool:
        return self.code == 0x07


#: base type number (the low 5 bits of the definition's byte) -> BaseType. Invalid values as in
#: garmin_fit_sdk.fit.BASE_TYPE_DEFINITIONS; floats never compare equal to their integer
#: "invalid" there, so they have none here.
BASE_TYPES: dict[int, BaseType] = {
    bt.code: bt
    for bt in (
        BaseType(0x00, "enum", "u1", 1, 0xFF),
        BaseType(0x01, "sint8", "i1", 1, 0x7F),
        BaseType(0x02, "uint8", "u1", 1, 0xFF),
        BaseType(0x03, "sint16", "i2", 2, 0x7FFF),
        BaseType(0x04, "uint16", "u2", 2, 0xFFFF),
        BaseType(0x05, "sint32", "i4", 4, 0x7FFFFFFF),
        BaseType(0x06, "uint32", "u4", 4, 0xFFFFFFFF),
        BaseType(0x07, "string", "S", 1, None),
        BaseType(0x08, "float32", "f4", 4, None),
        BaseType(0x09, "float64", "f8", 8, None),
        BaseType(0x0A, "uint8z", "u1", 1, 0x00),
        BaseType(0x0B, "uint16z", "u2", 2, 0x0000),
        BaseType(0x0C, "uint32z", "u4", 4, 0x00000000),
        BaseType(0x0D, "byte", "u1", 1, 0xFF),
        BaseType(0x0E, "sint64", "i8", 8, 0x7FFFFFFFFFFFFFFF),
        BaseType(0x0F, "uint64", "u8", 8, 0xFFFFFFFFFFFFFFFF),
        BaseType(0x10, "uint64z", "u8", 8, 0x0000000000000000),
    )
}
#: the base type byte as written in a definition: low 5 bits the number, bit 7 "multi-byte".
VALID_BASE_TYPE_BYTES = frozenset(code | (0x80 if bt.size > 1 else 0) for code, bt in BASE_TYPES.items())
BASE_TYPE_BY_NAME: dict[str, BaseType] = {bt.name: bt for bt in BASE_TYPES.values()}


@dataclass(frozen=True)
class FieldProfile:
    """One profile field (or subfield): how its raw number becomes the reference's value."""

    num: int
    name: str
    type: str
    base_type: str
    scale: tuple[float, ...]
    offset: tuple[float, ...]
    is_accumulated: bool
    components: tuple[int, ...]
    bits: tuple[int, ...]
    subfields: tuple[SubField, ...]

    @property
    def is_enum(self) -> bool:
        """Typed by a profile type (enum or named values), but not a date: a String column."""
        return self.type not in DATE_TYPES and self.type in Profile["types"]

    def names(self) -> dict[int, str]:
        return Profile["types"].get(self.type) or {}


@dataclass(frozen=True)
class SubField:
    """A subfield: chosen when a reference field's raw value matches one of `map`."""

    profile: FieldProfile
    map: tuple[tuple[str, int], ...]  # (reference field name, raw value)


def _field(raw: dict, subfields: tuple[SubField, ...] = ()) -> FieldProfile:
    return FieldProfile(
        num=raw["num"],
        name=raw["name"],
        type=raw["type"],
        base_type=raw.get("base_type", ""),  # subfields: the main field's
        scale=tuple(raw["scale"]) or (1,),
        offset=tuple(raw["offset"]) or (0,),
        is_accumulated=bool(raw.get("is_accumulated", False)),
        components=tuple(raw["components"]),
        bits=tuple(raw["bits"]),
        subfields=subfields,
    )


@lru_cache(maxsize=None)
def message_fields(mesg_num: int) -> dict[int, FieldProfile]:
    """field number -> FieldProfile for one message, from garmin-fit-sdk's Profile."""
    fields: dict[int, FieldProfile] = {}
    for num, raw in Profile["messages"][mesg_num]["fields"].items():
        subs = tuple(
            SubField(
                profile=_field({**sub, "num": num, "base_type": raw["base_type"]}),
                map=tuple((item["name"], item["raw_value"]) for item in sub["map"]),
            )
            for sub in raw["sub_fields"]
        )
        fields[num] = _field(raw, subs)
    return fields


@lru_cache(maxsize=None)
def field_by_name(mesg_num: int) -> dict[str, FieldProfile]:
    return {f.name: f for f in message_fields(mesg_num).values()}
