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


@dataclass(frozen=True)
class Definition:
    """One definition message, as in force for the data messages that follow it."""

    def_id: int
    file_index: int
    global_num: int
    big_endian: bool
    fields: tuple[FieldDef, ...]
    dev_fields: tuple[tuple[int, int, int], ...]  # (number, size, developer data index)
    size: int  # content bytes of each data message (fields + developer fields)

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
#: Runs of this many identical headers are followed with NumPy; the window then grows.
_RUN_WINDOW = 64


class _Collector:
    """Accumulates message starts as Python lists, flushed into NumPy chunks around runs."""

    def __init__(self) -> None:
        self.parts_pos: list[np.ndarray] = []
        self.parts_def: list[np.ndarray] = []
        self.parts_off: list[np.ndarray] = []
        self.pos: list[int] = []
        self.defs: list[int] = []
        self.offs: list[int] = []

    def flush(self) -> None:
        if self.pos:
            self.parts_pos.append(np.asarray(self.pos, dtype=np.int64))
            self.parts_def.append(np.asarray(self.defs, dtype=np.int64))
            self.parts_off.append(np.asarray(self.offs, dtype=np.int16))
            self.pos, self.defs, self.offs = [], [], []

    def add_run(self, first: int, step: int, n: int, def_id: int) -> None:
        self.flush()
        self.parts_pos.append(np.arange(first, first + step * n, step, dtype=np.int64))
        self.parts_def.append(np.full(n, def_id, dtype=np.int64))
        self.parts_off.append(np.full(n, -1, dtype=np.int16))

    def total(self) -> int:
        return sum(len(part) for part in self.parts_pos) + len(self.pos)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.flush()
        if not self.parts_pos:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), np.zeros(0, dtype=np.int16)
        return np.concatenate(self.parts_pos), np.concatenate(self.parts_def), np.concatenate(self.parts_off)


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
    positions, def_ids, offsets = out.arrays()
    return Walk(definitions, positions, def_ids, offsets, np.asarray(file_starts, dtype=np.int64))


def _walk_records(
    data: bytes,
    buf: np.ndarray,
    start: int,
    end: int,
    file_index: int,
    definitions: list[Definition],
    out: _Collector,
) -> None:
    local_defs: list[int] = [-1] * 16
    known: dict[tuple[int, bytes], int] = {}  # definition bytes -> def_id (some devices redefine constantly)
    sizes: list[int] = [0] * 16
    p = start
    pos_append, def_append, off_append = out.pos.append, out.defs.append, out.offs.append
    while p < end:
        header = data[p]
        if header & 0x80:  # compressed-timestamp header: local type in bits 5-6
            local = (header >> 5) & 0x03
            def_id = local_defs[local]
            if def_id < 0:
                raise Unsupported(f"data message for undefined local type {local} at byte {p}")
            pos_append(p + 1)
            def_append(def_id)
            off_append(header & 0x1F)
            p += 1 + sizes[local]
        elif header & 0x40:  # definition message
            if header & 0x10:
                raise Unsupported(f"reserved bit set in definition header at byte {p}")
            key = (header & 0x20, data[p + 1 : _definition_end(data, p, end, header)])
            def_id = known.get(key, -1)
            if def_id < 0:
                definition, _ = _read_definition(data, p, end, header, file_index, len(definitions))
                def_id = known[key] = definition.def_id
                definitions.append(definition)
            p += 1 + len(key[1])
            local_defs[header & 0x0F] = def_id
            sizes[header & 0x0F] = definitions[def_id].size
        else:
            if header & 0x30:
                raise Unsupported(f"reserved bits set in data header at byte {p}")
            def_id = local_defs[header]
            if def_id < 0:
                raise Unsupported(f"data message for undefined local type {header} at byte {p}")
            length = 1 + sizes[header]
            nxt = p + length
            if nxt + length < end and data[nxt] == header and data[nxt + length] == header:
                p = _follow_run(buf, p, end, length, header, def_id, out)
                pos_append, def_append, off_append = out.pos.append, out.defs.append, out.offs.append
                continue
            pos_append(p + 1)
            def_append(def_id)
            off_append(-1)
            p = nxt
    if p != end:
        raise Unsupported(f"last message of FIT file {file_index} runs past its data section")


def _follow_run(buf: np.ndarray, p: int, end: int, length: int, header: int, def_id: int, out: _Collector) -> int:
    """Consume the run of data messages with the same header starting at `p`; return the next position."""
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
            out.add_run(p + 1, length, run, def_id)
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


def _read_definition(
    data: bytes, p: int, end: int, header: int, file_index: int, def_id: int
) -> tuple[Definition, int]:
    if p + 6 > end:
        raise Unsupported(f"definition at byte {p} runs past the data section")
    architecture = data[p + 2]
    if architecture not in (0, 1):
        raise Unsupported(f"unknown architecture {architecture} at byte {p}")
    big = architecture == 1
    global_num = int.from_bytes(data[p + 3 : p + 5], "big" if big else "little")
    num_fields = data[p + 5]
    q = p + 6
    if q + 3 * num_fields > end:
        raise Unsupported(f"definition at byte {p} runs past the data section")
    fields: list[FieldDef] = []
    seen: set[int] = set()
    offset = 0
    for _ in range(num_fields):
        num, size, type_byte = data[q], data[q + 1], data[q + 2]
        q += 3
        if type_byte not in VALID_BASE_TYPE_BYTES:
            raise Unsupported(f"unknown base type 0x{type_byte:02x} in definition at byte {p}")
        base = BASE_TYPES[type_byte & 0x1F]
        if size == 0 or size % base.size:
            raise Unsupported(f"field {num} of size {size} is not a whole number of {base.name} at byte {p}")
        if num in seen:
            raise Unsupported(f"field {num} defined twice at byte {p}")
        seen.add(num)
        fields.append(FieldDef(num, size, base.code, offset))
        offset += size
    dev_fields: list[tuple[int, int, int]] = []
    if header & 0x20:
        if q + 1 > end:
            raise Unsupported(f"definition at byte {p} runs past the data section")
        num_dev = data[q]
        q += 1
        if q + 3 * num_dev > end:
            raise Unsupported(f"definition at byte {p} runs past the data section")
        for _ in range(num_dev):
            dev_fields.append((data[q], data[q + 1], data[q + 2]))
            offset += data[q + 1]
            q += 3
    definition = Definition(def_id, file_index, global_num, big, tuple(fields), tuple(dev_fields), offset)
    return definition, q
