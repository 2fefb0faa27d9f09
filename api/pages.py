"""One athlete's rows of a list endpoint, pre-encoded, and the pages cut from them.

A `Series` holds the JSON of every row (bytes, encoded once per snapshot) in the order of a
string key (`2025-03-10`, `2025-03-10|<id>`, …): a date window is two bisections, a page a slice,
and the answer is the rows' bytes joined — no per-request encoding. The cursor is the last key
served, in url-safe base64: opaque to clients, stable across snapshots (a page after a refresh
continues after the same row, not at the same position).
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from urllib.parse import urlencode

from api.errors import invalid

#: Sorts after every key that starts with a given prefix (keys are ASCII).
END = "\uffff"
DEFAULT_LIMIT = 100
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Series:
    keys: tuple[str, ...]  # ascending
    items: tuple[bytes, ...]  # the JSON object of each row, in key order

    @classmethod
    def of(cls, rows: list[tuple[str, bytes]]) -> Series:
        rows = sorted(rows, key=lambda r: r[0])
        return cls(tuple(k for k, _ in rows), tuple(v for _, v in rows))

    def page(self, low: str, high: str, after: str | None, limit: int) -> tuple[list[bytes], str | None]:
        """The rows with `low <= key <= high` after the key `after`, at most `limit` of them, and
        the key to continue after (None on the last page)."""
        start = bisect_left(self.keys, low)
        if after is not None:
            start = max(start, bisect_right(self.keys, after))
        end = bisect_right(self.keys, high)
        stop = min(end, start + limit)
        return list(self.items[start:stop]), (self.keys[stop - 1] if stop < end else None)


EMPTY = Series((), ())


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The key a cursor continues after. Any url-safe base64 text (`CURSOR_PATTERN`, checked by the
    route) is a key: one this API did not give only starts the page elsewhere in the same list."""
    if cursor is None:
        return None
    usable = cursor[: len(cursor) - (len(cursor) % 4 == 1)]  # a lone trailing character carries no byte
    try:
        return base64.urlsafe_b64decode(usable + "=" * (-len(usable) % 4)).decode(errors="replace")
    except binascii.Error:
        raise invalid("cursor: not a cursor this API gave") from None


def list_body(items: list[bytes], next_path: str | None) -> bytes:
    """`{"items": [...], "next": "/v1/…?…" | null}` from pre-encoded items."""
    return b'{"items":[' + b",".join(items) + b'],"next":' + json.dumps(next_path).encode() + b"}"


def next_path(path: str, params: dict[str, str], last_key: str | None) -> str | None:
    """The path and query of the next page (relative to the server root), None after the last."""
    if last_key is None:
        return None
    return path + "?" + urlencode({**params, "cursor": encode_cursor(last_key)})
