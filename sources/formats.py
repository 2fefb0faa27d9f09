"""Which activity file format some bytes are, and the decoder for each: FIT, GPX or TCX.

Decided by content, never by name (archives rename files, `.gz` hides the suffix): a FIT header,
else an XML document whose root element is `<gpx>` or `<TrainingCenterDatabase>`. Every decoder
returns a `DecodedFile` whose `source` names the format, or raises `NotAnActivity` /
`BrokenFitFile` (one line, for the quarantine) — so the FIT ingest path (`sources.fit.outcome`)
takes all three unchanged.
"""

from __future__ import annotations

import re
from datetime import datetime

from sources.fit.model import DecodedFile

FIT, GPX, TCX = "fit", "gpx", "tcx"
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(gpx|TrainingCenterDatabase)[\s>/]")
_SNIFF_BYTES = 4096


def file_format(data: bytes) -> str:
    """"gpx" or "tcx" for an XML file with that root element, else "fit" (the FIT decoder then
    says whether it is one: a file that is none of the three is quarantined as a broken FIT file)."""
    head = data[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        found = _ROOT.search(head)
        if found:
            return GPX if found.group(1) == b"gpx" else TCX
    return FIT


def decode_activity_file(data: bytes, *, default_tz: str, now: datetime) -> DecodedFile:
    """Decode FIT, GPX or TCX bytes (`file_format`) into their cleaned activity sessions."""
    kind = file_format(data)
    if kind == GPX:
        from sources.gpx import decode_gpx

        return decode_gpx(data, default_tz=default_tz, now=now)
    if kind == TCX:
        from sources.tcx import decode_tcx

        return decode_tcx(data, default_tz=default_tz, now=now)
    from sources.fit.decode import decode_fit

    return decode_fit(data, default_tz=default_tz, now=now)
