"""The athlete's season calendar: where they live, which races they run, when they go to camp.

Everything is a pure function of the calendar year, so any window of history (1 year or 10)
sees the same races, camps and time zones on the same dates, and a cached history stays valid
when a longer one is generated.

Home is Amsterdam (Europe/Amsterdam: UTC+1, UTC+2 in summer). Each spring: a 10 km road race,
a 4-week altitude camp in Iten, Kenya (UTC+3, 2,380 m), a half marathon in Lisbon (UTC+0/+1) and
the Rotterdam marathon. Summer: 5,000 m and 10,000 m track races. Autumn: a half marathon, then
the Berlin marathon (even years) or, after a 4-week camp in Flagstaff, Arizona (UTC-7, no DST,
2,100 m), the New York marathon (odd years). December: a 10 km road race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sources.fit.synthetic.spec import Location

HOME = Location("Amsterdam", 52.3580, 4.8686, 2.0, 4.0, "Europe/Amsterdam")
HOME_TRACK = Location("Amsterdam Olympic Stadium track", 52.34453, 4.85241, 2.0, 0.0, "Europe/Amsterdam")
ITEN = Location("Iten", 0.6703, 35.5081, 2380.0, 60.0, "Africa/Nairobi")
FLAGSTAFF = Location("Flagstaff", 35.1983, -111.6513, 2100.0, 40.0, "America/Phoenix")
ROTTERDAM = Location("Rotterdam", 51.9225, 4.4792, 1.0, 3.0, "Europe/Amsterdam")
BERLIN = Location("Berlin", 52.5163, 13.3777, 35.0, 8.0, "Europe/Berlin")
NEW_YORK = Location("New York", 40.7711, -73.9742, 30.0, 25.0, "America/New_York")
LISBON = Location("Lisbon", 38.6972, -9.2064, 20.0, 15.0, "Europe/Lisbon")
HENGELO = Location("Hengelo FBK stadium", 52.2659, 6.7931, 30.0, 0.0, "Europe/Amsterdam")

RACE_DISTANCE_M = {"5k": 5000.0, "10k": 10000.0, "half": 21097.5, "marathon": 42195.0}


@dataclass(frozen=True)
class Race:
    day: date
    distance: str  # a key of RACE_DISTANCE_M
    location: Location
    start_hour: float  # local wall clock
    on_track: bool = False
    travel_days: int = 0  # days before the race spent in the race's time zone


@dataclass(frozen=True)
class Camp:
    first: date
    last: date
    location: Location


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (0=Monday) of the month; n=-1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def spring_marathon(year: int) -> date:
    return _nth_weekday(year, 4, 6, 2)


def autumn_marathon(year: int) -> date:
    return _nth_weekday(year, 9, 6, -1) if year % 2 == 0 else _nth_weekday(year, 11, 6, 1)


def marathons(year: int) -> list[date]:
    return [spring_marathon(year), autumn_marathon(year)]


def races(year: int) -> list[Race]:
    spring, autumn = spring_marathon(year), autumn_marathon(year)
    autumn_venue = BERLIN if year % 2 == 0 else NEW_YORK
    return [
        Race(spring - timedelta(weeks=11), "10k", HOME, 13.0),
        Race(spring - timedelta(weeks=4), "half", LISBON, 10.5, travel_days=2),
        Race(spring, "marathon", ROTTERDAM, 10.0),
        Race(_nth_weekday(year, 6, 5, 1), "5k", HENGELO, 20.5, on_track=True),
        Race(_nth_weekday(year, 6, 5, -1), "10k", HENGELO, 20.0, on_track=True),
        Race(_nth_weekday(year, 7, 5, 3), "5k", HOME_TRACK, 20.75, on_track=True),
        Race(autumn - timedelta(weeks=4), "half", HOME, 11.0),
        Race(autumn, "marathon", autumn_venue, 9.25 if year % 2 == 0 else 9.6,
             travel_days=2 if year % 2 == 0 else 4),
        Race(_nth_weekday(year, 12, 6, 2), "10k", HOME, 13.0),
    ]


def camps(year: int) -> list[Camp]:
    """Altitude camps: 4 weeks, ending 6 weeks before the marathon they prepare."""
    spring = spring_marathon(year)
    out = [Camp(spring - timedelta(weeks=10, days=6), spring - timedelta(weeks=6, days=7), ITEN)]
    if year % 2 == 1:
        autumn = autumn_marathon(year)
        out.append(Camp(autumn - timedelta(weeks=10, days=6), autumn - timedelta(weeks=6, days=7), FLAGSTAFF))
    return out


def race_on(day: date) -> Race | None:
    return next((r for r in races(day.year) if r.day == day), None)


def location_on(day: date) -> Location:
    """Where the athlete wakes up on `day` (sets the day's time zone)."""
    for camp in camps(day.year):
        if camp.first <= day <= camp.last:
            return camp.location
    for race in races(day.year):
        if race.travel_days and race.day - timedelta(days=race.travel_days) <= day <= race.day:
            return race.location
    return HOME


def phase(week_monday: date) -> tuple[str, int]:
    """The training phase of a week and weeks to (or since) the marathon that defines it.

    recovery (1-3 weeks after a marathon), race (its week), taper (1-2 weeks before),
    build (3-14 weeks before), base (otherwise).
    """
    around = [m for y in (week_monday.year - 1, week_monday.year, week_monday.year + 1) for m in marathons(y)]
    since = [(week_monday - m).days // 7 + 1 for m in around if m < week_monday]
    if since and min(since) <= 3:
        return "recovery", min(since)
    to = min((m - week_monday).days // 7 for m in around if m >= week_monday)
    if to == 0:
        return "race", 0
    if to <= 2:
        return "taper", to
    if to <= 14:
        return "build", to
    return "base", to
