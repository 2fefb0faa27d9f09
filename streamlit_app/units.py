"""Distance/pace units for display (km or mi); the tables always hold metres and seconds."""

from __future__ import annotations

from dataclasses import dataclass

METRES_PER_MILE = 1609.344


@dataclass(frozen=True)
class Units:
    name: str  # "km" | "mi"
    metres: float  # metres per unit

    @property
    def pace_label(self) -> str:
        return f"/{self.name}"

    def distance(self, metres: float | None) -> float:
        return (metres or 0.0) / self.metres

    def fmt_distance(self, metres: float | None, decimals: int = 1) -> str:
        return f"{self.distance(metres):,.{decimals}f} {self.name}"

    def pace_s(self, s_per_km: float | None) -> float | None:
        """Seconds per km → seconds per display unit."""
        return None if s_per_km is None else s_per_km * self.metres / 1000.0

    def fmt_pace(self, s_per_km: float | None) -> str:
        value = self.pace_s(s_per_km)
        return "–" if value is None or value != value else f"{fmt_clock(value)}{self.pace_label}"


KM = Units("km", 1000.0)
MI = Units("mi", METRES_PER_MILE)


def units_named(name: str | None) -> Units:
    return MI if name == "mi" else KM


def fmt_clock(seconds: float | None) -> str:
    """62.4 → '1:02'; 3725 → '1:02:05' (race times and paces)."""
    if seconds is None or seconds != seconds:
        return "–"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_hours(seconds: float | None) -> str:
    """Training time: '12 h 05 min' (or '45 min')."""
    total_min = int(round((seconds or 0) / 60))
    hours, minutes = divmod(total_min, 60)
    return f"{hours:,} h {minutes:02d} min" if hours else f"{minutes} min"


#: Vega expression formatting a seconds value as m:ss (pace axes).
PACE_LABEL_EXPR = "floor(datum.value / 60) + ':' + (floor(datum.value % 60) < 10 ? '0' : '') + floor(datum.value % 60)"

#: Vega expression formatting a seconds value as a race clock: m:ss, or h:mm:ss from an hour on.
CLOCK_LABEL_EXPR = (
    "datum.value >= 3600 ? floor(datum.value / 3600) + ':' + (floor(datum.value % 3600 / 60) < 10 ? '0' : '') "
    "+ floor(datum.value % 3600 / 60) + ':' + (floor(datum.value % 60) < 10 ? '0' : '') + floor(datum.value % 60) "
    ": " + PACE_LABEL_EXPR
)
