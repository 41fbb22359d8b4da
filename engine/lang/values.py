"""Runtime values: exact numbers, durations, units and calendar arithmetic, shared by every phase.

A case's values are plain Python: bool, int (a whole number, exact at any size),
`decimal.Decimal` (any other number, exact as written), str (an enum value), frozenset (a set
of enum values), `datetime.date` (0001-01-01 to 9999-12-31), and `Duration`. Unknown is `None`.
This module reads numbers, durations and quantities from text ("0.1", "6 weeks", "P1Y2M",
"31 %"), does the arithmetic every evaluator shares (exact `+ - *`, division and rounding
as written down below, calendar months, dates that stay in range), compares durations by
the rule below, and writes values back as clinicians write them. It does no I/O.

Numbers: `+`, `-` and `*` are exact; `/` is exact when the quotient has at most
`DIVISION_DIGITS` significant digits and is rounded (half even) to that many otherwise, as
decimal128 does; dividing by zero is unknown. A result that leaves the range of dates, or a
number beyond `MAX_EXPONENT`, is unknown (`None`), never an error.

Durations are a count of calendar months and a count of days (a week is 7 days, a year 12
months). Two durations with the same months compare by their days, and two with the same
days by their months, exactly. Otherwise their difference, k months against d days, is
measured from every date of the Gregorian calendar: k months span between `month_span(k)`
days; a comparison holds when it holds from every date, fails when it fails from every date,
and is unknown when it depends on the date. So 16 months against 487 days is unknown for
every operator (485 to 488 days), and 1 month <= 31 days is true while 1 month < 31 days is
unknown: never both >= and <= of two different durations, and never `=` with `!=`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import functools
import re
import sys
from decimal import Decimal

from .records import record

# Significant digits of a quotient that does not end (decimal128's precision).
DIVISION_DIGITS = 34
# Numbers are refused (in a case) or unknown (as a result) beyond 10**MAX_EXPONENT, or when
# finer than 10**-MAX_EXPONENT: far beyond any measurement, and it keeps exact sums small.
MAX_EXPONENT = 1000

DURATION_UNITS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
                  "month": "months", "months": "months", "year": "years", "years": "years"}

# Units a number may carry. A fact may declare any of these; `%` is the percent type's.
NUMBER_UNITS = {"%", "Gy", "mg", "kg", "g", "mL", "L", "cm", "mm", "segments",
                "points", "cycles", "doses", "fractions", "m2"}

# Digits a number may be written with: beyond MAX_EXPONENT it would be refused anyway, and
# Python reads no int of more than 4300 digits from text.
MAX_DIGITS = MAX_EXPONENT + 100

Number = int | Decimal
_INT_LIMIT = 10 ** (MAX_EXPONENT + 1)

# Exact sums and products: precision is never the limit (inputs are bounded by MAX_EXPONENT).
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                         rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation, decimal.Overflow])
_QUOTIENT = decimal.Context(prec=DIVISION_DIGITS, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                            rounding=decimal.ROUND_HALF_EVEN,
                            traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero])


# ---- numbers --------------------------------------------------------------------------------

def number(text: str) -> Number:
    """A number as written ('3', '0.1', '-2.50', '1e3'): int when whole and written without
    a point or exponent, Decimal otherwise; ValueError when it is not a finite number."""
    text = text.strip()
    if len(text) > MAX_DIGITS + 10 and sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise ValueError(f"a number of more than {MAX_DIGITS} digits is beyond what the language holds")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if not value.is_finite() or not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise ValueError(f"'{text}' is not a number")
    return value


def exact(value) -> Number:
    """A number from Python (int, float, Decimal) as an exact value: a float becomes the
    decimal it was written as (0.1 -> Decimal('0.1')), not its binary approximation."""
    if type(value) is int or type(value) is Decimal:
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return value
    raise TypeError(f"{type(value).__name__} is not a number")


def in_bounds(value: Number) -> bool:
    """Is this number within what the language holds (see MAX_EXPONENT)?"""
    if type(value) is int:
        return -_INT_LIMIT < value < _INT_LIMIT
    assert isinstance(value, Decimal)  # a Number is an int or a Decimal, and the int returned above
    if not value.is_finite():
        return False
    return value.is_zero() or -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT


def _checked(value: Decimal) -> Number | None:
    return value if in_bounds(value) else None


def add(a: Number, b: Number) -> Number | None:
    if type(a) is int and type(b) is int:
        return a + b
    try:
        return _checked(_EXACT.add(a, b))
    except ArithmeticError:
        return None


def subtract(a: Number, b: Number) -> Number | None:
    if type(a) is int and type(b) is int:
        return a - b
    try:
        return _checked(_EXACT.subtract(a, b))
    except ArithmeticError:
        return None


def multiply(a: Number, b: Number) -> Number | None:
    try:
        if type(a) is int and type(b) is int:
            product = a * b
            return product if in_bounds(product) else None
        return _checked(_EXACT.multiply(a, b))
    except ArithmeticError:
        return None


def divide(a: Number, b: Number) -> Number | None:
    """a / b; unknown (None) when b is zero."""
    if not b:
        return None
    try:
        return _checked(_QUOTIENT.divide(a, b))
    except ArithmeticError:
        return None


def negate(a):
    """-a for a number or a duration (Decimal's own minus would round to 28 digits)."""
    if type(a) is Decimal:
        return a.copy_negate()
    return -a


def absolute(a):
    if type(a) is Decimal:
        return a.copy_abs()
    if isinstance(a, Duration):
        return a if is_true(compare(">=", a, Duration())) else (-a if is_true(compare("<", a, Duration())) else None)
    return abs(a)


def round_to(a: Number, places: int = 0) -> Number | None:
    """a rounded to `places` decimals, halves away from zero (as CQL's Round)."""
    if type(a) is int and places >= 0:
        return a
    try:
        result = Decimal(a).quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP, context=_EXACT)
    except ArithmeticError:
        return None
    return _checked(result)


def midpoint(a: Number, b: Number) -> Number:
    """Half-way between two numbers, exactly."""
    return _EXACT.divide(_EXACT.add(a, b), 2)


def is_true(value) -> bool:
    return value is True


# ---- durations ------------------------------------------------------------------------------

@record
class Duration:
    """A length of time, in calendar months and days (a week is 7 days, a year 12 months).

    `==` is sameness of the two counts (what a set or a dict needs); `<`, `<=`, `>`, `>=`
    follow the rule of the module's docstring and give None when it depends on the date."""

    months: int = 0
    days: int = 0

    @property
    def approx_days(self) -> float:
        """An average length, only to sort durations for display (never to decide anything)."""
        return self.months * 30.436875 + self.days

    def __lt__(self, other: "Duration"):
        return compare("<", self, other)

    def __le__(self, other: "Duration"):
        return compare("<=", self, other)

    def __gt__(self, other: "Duration"):
        return compare(">", self, other)

    def __ge__(self, other: "Duration"):
        return compare(">=", self, other)

    def __add__(self, other: "Duration") -> "Duration":
        return Duration(self.months + other.months, self.days + other.days)

    def __sub__(self, other: "Duration") -> "Duration":
        return Duration(self.months - other.months, self.days - other.days)

    def __neg__(self) -> "Duration":
        return Duration(-self.months, -self.days)

    def __str__(self) -> str:
        parts = []
        if self.months:
            if self.months % 12 == 0:
                years = self.months // 12
                parts.append(f"{years} year" + ("s" if abs(years) != 1 else ""))
            else:
                parts.append(f"{self.months} month" + ("s" if abs(self.months) != 1 else ""))
        if self.days or not self.months:
            if self.days and self.days % 7 == 0:
                weeks = self.days // 7
                parts.append(f"{weeks} week" + ("s" if abs(weeks) != 1 else ""))
            else:
                parts.append(f"{self.days} day" + ("s" if abs(self.days) != 1 else ""))
        return " ".join(parts)


_CYCLE_MONTHS, _CYCLE_DAYS = 4800, 146097  # the Gregorian calendar repeats every 400 years


@functools.cache
def _month_table() -> tuple[list[int], list[int]]:
    """Lengths of the months of two 400-year cycles, and their running sums."""
    lengths = [_month_days(2000 + i // 12, i % 12 + 1) for i in range(2 * _CYCLE_MONTHS)]
    sums = [0]
    for n in lengths:
        sums.append(sums[-1] + n)
    return lengths, sums


@functools.lru_cache(maxsize=4096)
def month_span(k: int) -> tuple[int, int]:
    """The fewest and most days that k calendar months span, from any date (k may be < 0).

    From day s of month i, k months later is day min(s, length of month i+k) of month i+k
    (31 January + 1 month is the last day of February), so the span is the sum of the month
    lengths between, less what the shorter month clips off."""
    cycles, r = divmod(k, _CYCLE_MONTHS)
    lengths, sums = _month_table()
    low = high = None
    for i in range(_CYCLE_MONTHS):
        full = sums[i + r] - sums[i]
        clipped = full - max(0, lengths[i] - lengths[i + r])
        low = clipped if low is None or clipped < low else low
        high = full if high is None or full > high else high
    assert low is not None and high is not None  # the loop above runs _CYCLE_MONTHS (> 0) times
    return low + cycles * _CYCLE_DAYS, high + cycles * _CYCLE_DAYS


def compare_durations(op: str, a: Duration, b: Duration) -> bool | None:
    """a op b for two durations by the module's rule: True, False, or None (depends on the date)."""
    low, high = month_span(a.months - b.months)
    delta = b.days - a.days  # a op b  <=>  (a.months - b.months) months  op  delta days
    match op:
        case "<":
            return True if high < delta else (False if low >= delta else None)
        case "<=":
            return True if high <= delta else (False if low > delta else None)
        case ">":
            return True if low > delta else (False if high <= delta else None)
        case ">=":
            return True if low >= delta else (False if high < delta else None)
        case "=" | "!=":
            same = True if low == high == delta else (False if delta < low or delta > high else None)
            return same if op == "=" or same is None else not same
    raise ValueError(op)


_OPS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def compare(op: str, a, b) -> bool | None:
    """a op b for any two values of one type; durations by their rule (None: it depends)."""
    if type(a) is Duration:
        return compare_durations(op, a, b)
    return _OPS[op](a, b)


def make_duration(amount, unit: str) -> Duration:
    """A duration from an amount and a unit word ('days', 'week', 'years', ...)."""
    unit = DURATION_UNITS[unit]
    if amount != int(amount):
        raise ValueError("a duration takes a whole number of days, weeks, months or years")
    n = int(amount)
    if unit == "months":
        return Duration(months=n)
    if unit == "years":
        return Duration(months=12 * n)
    return Duration(days=n * (7 if unit == "weeks" else 1))


_DURATION_PART = re.compile(r"\s*(\d+)\s*([A-Za-z]+)")
_ISO_DURATION = re.compile(r"P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                           r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?")
_DIGITS = re.compile(r"\d+")
_INT_DIGITS = sys.get_int_max_str_digits()  # 4300 unless the process changed it
# the words after a duration's text when it cannot be read (engine/inputs/sql_durations.py says them too)
NOT_A_DURATION = "is not a duration; write it like '6 weeks', '42 days', '2 months', '1 year' or ISO 8601 'P6W'"
NOT_WHOLE_DAYS = "is not a whole number of days; durations are counted in days, weeks, months and years"


def parse_duration(text: str) -> Duration:
    """Read '6 weeks', '42 days', '2 months', '1 year 2 months', or ISO 8601 in full ('P1Y',
    'P2M10D', 'P6W', 'PT48H': a time part must come to whole days)."""
    stripped = text.strip()
    if len(stripped) > _INT_DIGITS and max(map(len, _DIGITS.findall(stripped)), default=0) > _INT_DIGITS:
        # (Python reads no int of more digits from text: its own words would reach the user)
        raise ValueError(f"'{text}' {NOT_A_DURATION}: an amount has more than {_INT_DIGITS:,} digits")
    iso = _ISO_DURATION.fullmatch(stripped)
    if iso:
        years, months, weeks, days, hours, minutes, seconds = iso.groups()
        # in integers: a Decimal's divmod gives up past 28 digits (PT99999999999999999999999999999S)
        seconds, _, fraction = (seconds or "0").replace(",", ".").partition(".")
        whole, rest = divmod(int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds), 86400)
        if rest or fraction.strip("0"):
            raise ValueError(f"'{text}' {NOT_WHOLE_DAYS}")
        return Duration(months=12 * int(years or 0) + int(months or 0),
                        days=7 * int(weeks or 0) + int(days or 0) + int(whole))
    position, result, seen = 0, Duration(), False
    while position < len(stripped):
        m = _DURATION_PART.match(stripped, position)
        if not m or m.group(2).lower() not in DURATION_UNITS:
            raise ValueError(f"'{text}' {NOT_A_DURATION}")
        result = result + make_duration(int(m.group(1)), m.group(2).lower())
        position, seen = m.end(), True
    if not seen:
        raise ValueError(f"'{text}' {NOT_A_DURATION}")
    return result


_QUANTITY_TEXT = re.compile(r"^\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(%|[A-Za-z][A-Za-z0-9]*)?\s*$")


def parse_quantity(text: str) -> tuple[Number, str | None]:
    """Read '31 %', '31%', '5 Gy', '0.1 mg' or '3' into (exact number, unit or None)."""
    m = _QUANTITY_TEXT.match(text)
    if not m or not m.group(1).isascii():
        raise ValueError(f"'{text}' is not a number with an optional unit")
    return number(m.group(1)), m.group(2)


# ---- dates ------------------------------------------------------------------------------------

def _month_days(year: int, month: int) -> int:
    """The days of a month (1-12) of a year (1-9999), from the calendar `datetime` keeps (the
    `calendar` module would cost a command its import, and `locale`'s)."""
    return 31 if month == 12 else (_dt.date(year, month + 1, 1) - _dt.timedelta(days=1)).day


def add_months(day: _dt.date, months: int) -> _dt.date | None:
    """Calendar month arithmetic: 31 January + 1 month is the last day of February. None when
    the result is outside 0001-01-01 .. 9999-12-31."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not _dt.MINYEAR <= year <= _dt.MAXYEAR:
        return None
    last = _month_days(year, month + 1)
    return _dt.date(year, month + 1, min(day.day, last))


def add_duration(day: _dt.date, duration: Duration) -> _dt.date | None:
    """A date moved by a duration (months first, then days); None when it leaves the calendar."""
    if duration.months:
        moved = add_months(day, duration.months)
        if moved is None:
            return None
        day = moved
    try:
        return day + _dt.timedelta(days=duration.days)
    except OverflowError:
        return None


def subtract_duration(day: _dt.date, duration: Duration) -> _dt.date | None:
    return add_duration(day, -duration)


def days_between(later: _dt.date, earlier: _dt.date) -> Duration:
    return Duration(days=(later - earlier).days)


def _add_months_within(day: _dt.date, months: int) -> _dt.date:
    """add_months for a result known to be in the calendar."""
    moved = add_months(day, months)
    assert moved is not None
    return moved


def months_between(start: _dt.date, end: _dt.date) -> Duration:
    """The whole calendar months from `start` to `end` (negative when `end` comes first): the
    largest k with start + k months on or before end, so that `start + result <= end`."""
    k = (end.year - start.year) * 12 + end.month - start.month
    # start + k months lands in end's month, a month of the calendar: add_months gives a date
    if k > 0 and _add_months_within(start, k) > end:
        k -= 1
    elif k < 0 and _add_months_within(start, k) < end:
        k += 1
    return Duration(months=k)


# ---- words and JSON ---------------------------------------------------------------------------

def format_number(value) -> str:
    """A number as written: 3, 0.30, 1000000 (never an exponent)."""
    if type(value) is Decimal:
        return format(value, "f")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def format_value(value: object, unit: str | None = None) -> str:
    """A value written as a clinician would read it."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
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
    """A value in the result's JSON form. A Decimal becomes a JSON number when a float holds
    it exactly (0.1, 4.5) and its exact text otherwise ("0.1000000000000000000001"), so
    nothing is rounded on the way out."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Duration):
        return str(value)
    if type(value) is Decimal:
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else format(value, "f")
    return value


def extreme(op: str, items: tuple):
    """min or max of numbers, dates or durations; None when any is unknown, or when which
    of two durations is smaller depends on the date."""
    if None in items:
        return None
    best = items[0]
    wanted = "<" if op == "min" else ">"
    for item in items[1:]:
        better = compare(wanted, item, best)
        if better is None:
            return None
        if better:
            best = item
    return best


def coalesce(items: tuple):
    """The first known value, or None."""
    for item in items:
        if item is not None:
            return item
    return None
