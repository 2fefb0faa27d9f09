"""One pass over a FIT byte stream: where every data message starts and which definition it uses.

Why: definition messages are few and data messages have a fixed size per local message type, so
the only sequential work in decoding FIT is following the record headers. This walk does just
that, and skips runs of identical headers (the usual long run of `record` messages) with NumPy
instead of stepping through them one by one. Field values are decoded later, in bulk, per
definition (`sources.fit.fast`). Anything unusual raises `Unsupported` so the caller falls back
to a reference decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sources.fit.fast_profile import BASE_TYPES, VALID_BASE_TYPE_BYTES


class Unsupported(Exception):
    """The fast decoder cannot prove it decodes this input exactly: use a reference decoder."""


@dataclass(frozen=True)
class FieldDef:
    num: int
    size: int
    base_type: int  # low 5 bits
    offset: int  # byte offset inside the message content


@dataclass
class Definition:
    """One definition message, as in force for the data messages that follow it.

    Field definitions are parsed (and checked) only when asked for: most definitions of a file
    are of message kinds the fast path does not decode, and only their size matters.
    """

    def_id: int
    file_index: int
    global_num: int
    big_endian: bool
    field_bytes: bytes  # 3 bytes per field: number, size, base type
    dev_bytes: bytes  # 3 bytes per developer field: number, size, developer data index
    size: int  # content bytes of each data message (fields + developer fields)
    position: int  # byte offset of the definition message, for error messages

    @cached_property
    def fields(self) -> tuple[FieldDef, ...]:
        fields: list[FieldDef] = []
        seen: set[int] = set()
        offset = 0
        raw = self.field_bytes
        for i in range(0, len(raw), 3):
            num, size, type_byte = raw[i], raw[i + 1], raw[i + 2]
            base = BASE_TYPES[type_byte & 0x1F]
            if size == 0 or size % base.size:
                raise Unsupported(
                    f"field {num} of size {size} is not a whole number of {base.name} at byte {self.position}"
                )
            if num in seen:
                raise Unsupported(f"field {num} defined twice at byte {self.position}")
            seen.add(num)
            fields.append(FieldDef(num, size, base.code, offset))
            offset += size
        return tuple(fields)

    @property
    def dev_fields(self) -> tuple[tuple[int, int, int], ...]:
        raw = self.dev_bytes
        return tuple((raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3))

    def field(self, num: int) -> FieldDef | None:
        for field in self.fields:
            if field.num == num:
                return field
        return None


@dataclass
class Walk:
    """The structure of a FIT byte stream (possibly several chained FIT files)."""

    definitions: list[Definition]
    positions: np.ndarray  # int64: start of each data message's content, file order
    def_ids: np.ndarray  # int64: definition used by each data message
    time_offsets: np.ndarray  # int16: compressed-timestamp offset, -1 for normal headers
    file_starts: np.ndarray  # int64: index of the first data message of each chained file

    @property
    def has_compressed_timestamps(self) -> bool:
        return bool(self.time_offsets.size) and bool((self.time_offsets >= 0).any())


_HEADER_SIZES = (12, 14)
#: After this many identical headers in a row, the run is followed with NumPy (window grows).
_RUN_TRIGGER = 8
_RUN_WINDOW = 64


class _Collector:
    """Header positions of data messages (Python list, flushed into NumPy chunks around runs),
    and the definition events: (header position, local type, def_id)."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.heads: list[int] = []
        self.events: list[tuple[int, int, int]] = []

    def flush(self) -> None:
        if self.heads:
            self.parts.append(np.asarray(self.heads, dtype=np.int64))
            self.heads = []

    def add_run(self, first: int, step: int, n: int) -> None:
        self.flush()
        self.parts.append(np.arange(first, first + step * n, step, dtype=np.int64))

    def total(self) -> int:
        return sum(len(part) for part in self.parts) + len(self.heads)

    def positions(self) -> np.ndarray:
        self.flush()
        return np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)


def walk(data: bytes) -> Walk:
    """Follow the headers of every chained FIT file in `data`."""
    buf = np.frombuffer(data, dtype=np.uint8)
    definitions: list[Definition] = []
    out = _Collector()
    file_starts: list[int] = []
    pos, file_index = 0, 0
    total = len(data)
    if total == 0:
        raise Unsupported("empty input")
    while pos < total:
        if total - pos < 12 or data[pos] not in _HEADER_SIZES or data[pos + 8 : pos + 12] != b".FIT":
            raise Unsupported(f"no FIT header at byte {pos}")
        header_size = data[pos]
        data_size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        start = pos + header_size
        end = start + data_size
        if end + 2 > total:
            raise Unsupported(f"FIT file {file_index} runs past the end of the input")
        file_starts.append(out.total())
        _walk_records(data, buf, start, end, file_index, definitions, out)
        pos = end + 2
        file_index += 1
    heads = out.positions()
    header_bytes = buf[heads].astype(np.int64)
    compressed = (header_bytes & 0x80) != 0
    local = np.where(compressed, (header_bytes >> 5) & 0x03, header_bytes & 0x0F)
    def_ids = _definition_of_messages(heads, local, out.events)
    offsets = np.where(compressed, header_bytes & 0x1F, -1).astype(np.int16)
    return Walk(definitions, heads + 1, def_ids, offsets, np.asarray(file_starts, dtype=np.int64))


def _definition_of_messages(heads: np.ndarray, local: np.ndarray, events: list[tuple[int, int, int]]) -> np.ndarray:
    """The definition in force for each message: the last one of its local type before it.

    The walk only accepts a data message whose local type was defined earlier in the same
    chained file, so the last event before it is always the right one.
    """
    def_ids = np.full(heads.size, -1, dtype=np.int64)
    if not events:
        return def_ids
    ev = np.asarray(events, dtype=np.int64)
    for lt in np.unique(local).tolist():
        mask = local == lt
        of_type = ev[ev[:, 1] == lt]
        k = np.searchsorted(of_type[:, 0], heads[mask], side="right") - 1
        def_ids[mask] = of_type[k, 2]
    return def_ids


def _walk_records(
    data: bytes,
    buf: np.ndarray,
    start: int,
    end: int,
    file_index: int,
    definitions: list[Definition],
    out: _Collector,
) -> None:
    # step[header byte] = bytes to the next header for a data header whose local type is
    # defined (normal and compressed headers), 0 for anything that needs the slow path.
    step = [0] * 256
    known: dict[tuple[int, bytes], int] = {}  # definition bytes -> def_id (some devices redefine constantly)
    p = start
    append = out.heads.append
    last, repeats = -1, 0
    while p < end:
        header = data[p]
        length = step[header]
        if length:
            append(p)
            p += length
            if header != last:
                last, repeats = header, 0
                continue
            repeats += 1
            if repeats >= _RUN_TRIGGER and not header & 0x80:
                p = _follow_run(buf, p, end, length, header, out)
                append = out.heads.append
                last, repeats = -1, 0
            continue
        if header & 0xC0 == 0x40:  # definition message
            if header & 0x10:
                raise Unsupported(f"reserved bit set in definition header at byte {p}")
            q = _definition_end(data, p, end, header)
            key = (header & 0x20, data[p + 1 : q])
            def_id = known.get(key, -1)
            if def_id < 0:
                definition = _read_definition(data, p, q, header, file_index, len(definitions))
                def_id = known[key] = definition.def_id
                definitions.append(definition)
            local = header & 0x0F
            out.events.append((p, local, def_id))
            size = 1 + definitions[def_id].size
            step[local] = size
            if local < 4:
                first = 0x80 | (local << 5)
                step[first : first + 32] = [size] * 32
            p += 1 + len(key[1])
            last = -1
        elif header & 0x80:
            raise Unsupported(f"data message for undefined local type {(header >> 5) & 3} at byte {p}")
        elif header & 0x30:
            raise Unsupported(f"reserved bits set in data header at byte {p}")
        else:
            raise Unsupported(f"data message for undefined local type {header} at byte {p}")
    if p != end:
        raise Unsupported(f"last message of FIT file {file_index} runs past its data section")


def _follow_run(buf: np.ndarray, p: int, end: int, length: int, header: int, out: _Collector) -> int:
    """Consume the run of data messages with header `header` starting at `p`; return the next position."""
    window = _RUN_WINDOW
    while True:
        fits = (end - p) // length  # messages that would end inside the data section
        n = min(fits, window)
        if n <= 0:
            return p
        heads = buf[p : p + n * length : length]
        mismatch = np.flatnonzero(heads != header)
        run = int(mismatch[0]) if mismatch.size else n
        if run:
            out.add_run(p, length, run)
            p += run * length
        if run < n or n == fits:
            return p
        window *= 4


def _definition_end(data: bytes, p: int, end: int, header: int) -> int:
    """Where the definition message starting at `p` ends (checked against the data section)."""
    if p + 6 > end:
        raise Unsupported(f"definition at byte {p} runs past the data section")
    q = p + 6 + 3 * data[p + 5]
    if header & 0x20:
        if q + 1 > end:
            raise Unsupported(f"definition at byte {p} runs past the data section")
        q += 1 + 3 * data[q]
    if q > end:
        raise Unsupported(f"definition at byte {p} runs past the data section")
    return q


def _read_definition(data: bytes, p: int, q: int, header: int, file_index: int, def_id: int) -> Definition:
    """The definition message at `p` (ending at `q`, already bounds-checked)."""
    architecture = data[p + 2]
    if architecture not in (0, 1):
        raise Unsupported(f"unknown architecture {architecture} at byte {p}")
    big = architecture == 1
    global_num = int.from_bytes(data[p + 3 : p + 5], "big" if big else "little")
    fields_end = p + 6 + 3 * data[p + 5]
    field_bytes = data[p + 6 : fields_end]
    if not set(field_bytes[2::3]) <= VALID_BASE_TYPE_BYTES:
        raise Unsupported(f"unknown base type in definition at byte {p}")
    dev_bytes = data[fields_end + 1 : q] if header & 0x20 else b""
    size = sum(field_bytes[1::3]) + sum(dev_bytes[1::3])
    return Definition(def_id, file_index, global_num, big, field_bytes, dev_bytes, size, p)
