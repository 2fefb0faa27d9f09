"""`RUNLAKE_PRIVACY_ZONES` (and an athlete's stored zones): the one parser of the text form.

It lives beside the settings, which validate the environment value with it at the edge; the
privacy transforms (`marts.privacy`) take the parsed zones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrivacyZone:
    lat_deg: float
    lon_deg: float
    radius_m: float


def parse_privacy_zones(text: str) -> tuple[PrivacyZone, ...]:
    """`'lat,lon,radius_m;…'` (RUNLAKE_PRIVACY_ZONES) → zones; a malformed entry is an error.

    Errors name the entry by its position (1 = first, counting every `;`), never by its text: the
    text is the athlete's private places, and error messages end up in logs and flow states.
    """
    zones = []
    for position, raw in enumerate(text.replace("\n", ";").split(";"), start=1):
        entry = raw.strip()
        if not entry:
            continue
        which = f"entry {position} of RUNLAKE_PRIVACY_ZONES"
        parts = [p.strip() for p in entry.split(",")]
        try:
            lat, lon, radius = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"{which} is not 'lat,lon,radius_m' (e.g. '48.8566,2.3522,500')") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"{which} has a latitude/longitude out of range")
        if not radius > 0:
            raise ValueError(f"{which} needs a positive radius in metres")
        zones.append(PrivacyZone(lat, lon, radius))
    return tuple(zones)
