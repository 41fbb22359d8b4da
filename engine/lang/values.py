"""Runtime values: durations, units and calendar arithmetic, shared by every phase.

A case's values are plain Python: bool, int, float, str (an enum value), frozenset (a set
of enum values), `datetime.date`, and `Duration`. Unknown is `None`. This module knows how
to read a duration or a quantity from text ("6 weeks", "31 %"), how to add durations to
dates as a calendar does, and how to write values back as clinicians write them.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from dataclasses import dataclass

# Average month length, used only when a duration in months is compared with one in days.
DAYS_PER_MONTH = 30.4375

DURATION_UNITS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
                  "month": "months", "months": "months"}

# Units a number may carry. A fact may declare any of these; `%` is the percent type's.
NUMBER_UNITS = {"%", "Gy", "mg", "kg", "g", "mL", "L", "cm", "mm", "segments", "years",
                "points", "cycles", "doses", "fractions", "m2"}


@dataclass(frozen=True, slots=True, order=False)
class Duration:
    """A length of time, in calendar months and days (weeks are 7 days)."""

    months: int = 0
    days: int = 0

    @property
    def approx_days(self) -> float:
        return self.months * DAYS_PER_MONTH + self.days

    def _cmp_key(self, other: "Duration") -> tuple[float, float]:
        # Pure-day and pure-month durations compare exactly; mixed ones by average length.
        if self.months == other.months == 0:
            return self.days, other.days
        if self.days == other.days == 0:
            return self.months, other.months
        return self.approx_days, other.approx_days

    def __lt__(self, other: "Duration") -> bool:
        a, b = self._cmp_key(other)
        return a < b

    def __le__(self, other: "Duration") -> bool:
        a, b = self._cmp_key(other)
        return a <= b

    def __gt__(self, other: "Duration") -> bool:
        a, b = self._cmp_key(other)
        return a > b

    def __ge__(self, other: "Duration") -> bool:
        a, b = self._cmp_key(other)
        return a >= b

    def __add__(self, other: "Duration") -> "Duration":
        return Duration(self.months + other.months, self.days + other.days)

    def __sub__(self, other: "Duration") -> "Duration":
        return Duration(self.months - other.months, self.days - other.days)

    def __neg__(self) -> "Duration":
        return Duration(-self.months, -self.days)

    def __str__(self) -> str:
        parts = []
        if self.months:
            parts.append(f"{self.months} month" + ("s" if abs(self.months) != 1 else ""))
        if self.days or not self.months:
            if self.days and self.days % 7 == 0:
                weeks = self.days // 7
                parts.append(f"{weeks} week" + ("s" if abs(weeks) != 1 else ""))
            else:
                parts.append(f"{self.days} day" + ("s" if abs(self.days) != 1 else ""))
        return " ".join(parts)


def make_duration(amount: float, unit: str) -> Duration:
    """A duration from an amount and a unit word ('days', 'week', ...)."""
    unit = DURATION_UNITS[unit]
    if amount != int(amount):
        raise ValueError("a duration takes a whole number of days, weeks or months")
    n = int(amount)
    if unit == "months":
        return Duration(months=n)
    return Duration(days=n * (7 if unit == "weeks" else 1))


_DURATION_TEXT = re.compile(r"^\s*(\d+)\s*([A-Za-z]+)\s*$")
_ISO_DURATION = re.compile(r"^P(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def parse_duration(text: str) -> Duration:
    """Read '6 weeks', '42 days', '2 months' (or ISO 8601 'P6W', 'P2M', 'P42D')."""
    m = _DURATION_TEXT.match(text)
    if m and m.group(2).lower() in DURATION_UNITS:
        return make_duration(int(m.group(1)), m.group(2).lower())
    iso = _ISO_DURATION.match(text.strip())
    if iso and any(iso.groups()):
        months, weeks, days = (int(g) if g else 0 for g in iso.groups())
        return Duration(months=months, days=weeks * 7 + days)
    raise ValueError(f"'{text}' is not a duration; write it like '6 weeks', '42 days' or '2 months'")


_QUANTITY_TEXT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(%|[A-Za-z][A-Za-z0-9]*)?\s*$")


def parse_quantity(text: str) -> tuple[float, str | None]:
    """Read '31 %', '31%', '5 Gy' or '3' into (number, unit or None)."""
    m = _QUANTITY_TEXT.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a number with an optional unit")
    number = float(m.group(1))
    return (int(number) if number.is_integer() and "." not in m.group(1) else number), m.group(2)


def add_months(day: _dt.date, months: int) -> _dt.date:
    """Calendar month arithmetic: 31 January + 1 month is the last day of February."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return _dt.date(year, month + 1, min(day.day, last))


def add_duration(day: _dt.date, duration: Duration) -> _dt.date:
    if duration.months:
        day = add_months(day, duration.months)
    return day + _dt.timedelta(days=duration.days)


def days_between(later: _dt.date, earlier: _dt.date) -> Duration:
    return Duration(days=(later - earlier).days)


def format_number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_value(value: object, unit: str | None = None) -> str:
    """A value written as a clinician would read it."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        text = format_number(value)
        if unit == "%":
            return f"{text} %"
        return f"{text} {unit}" if unit else text
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}"
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def to_json_value(value: object) -> object:
    """A value in the result's JSON form."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Duration):
        return str(value)
    return value
