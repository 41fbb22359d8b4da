"""Random cases drawn from a knowledge base's fact schema: every type, boundary values, and
about a third of the facts left unknown. Deterministic for a given seed."""

from __future__ import annotations

import datetime as dt
import random

from consilium.engine.lang import ir
from consilium.engine.lang.values import Duration


def as_written(value):
    """A typed value as a case file writes it (sets as lists, dates ISO, durations as text in
    many forms)."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Duration):
        return written_duration(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def written_duration(value: Duration) -> str:
    """A duration in one of the forms a case file may write it (values.parse_duration reads them
    all): words, several parts, any case and spacing, ISO 8601 with years, weeks or a time part;
    the form chosen by the value, so that a cohort holds all of them."""
    months, days = value.months, value.days
    years, rest = divmod(months, 12)
    iso = "P" + (f"{years}Y" if years else "") + (f"{rest}M" if rest else "") + (f"{days}D" if days else "")
    forms = [
        str(value),                                                  # '1 year 2 weeks'
        iso if iso != "P" else "P0D",                                 # 'P1Y2M14D'
        f"P{months}MT{24 * days}H" if months else f"PT{24 * days}H",  # 'P14MT72H', 'PT48H'
        f"{months} Months {days} DAYS",                               # zero amounts, upper case
        f"{years}year{rest}months{days}days",                         # no spaces
        f"  {days // 7} weeks\t{days % 7} day  {months} month ",     # any order, tabs, spaces around
        f"P{months}M{days // 7}W{days % 7}D",                         # ISO weeks
        f"PT{86400 * days}S" if not months else f"{months} months and {days} days".replace(" and", ""),
    ]
    return forms[(7 * months + days) % len(forms)]


def random_case(facts, rng: random.Random, missing: float = 1 / 3) -> dict:
    case = {}
    for name, fact in facts.items():
        if rng.random() < missing:
            continue
        case[name] = _value(fact.type, rng)
    return case


def _value(t, rng: random.Random):
    match t:
        case ir.BoolType():
            return rng.random() < 0.5
        case ir.NumberType(integer=integer, range=interval):
            low = interval.low.value if interval else 0
            high = interval.high.value if interval else 100
            candidates = [low, high, (low + high) / 2, rng.uniform(low, high), 29, 30, 31, 3, 4, 11, 12]
            candidates = [c for c in candidates if low <= c <= high and (not interval or interval.contains(c))]
            value = rng.choice(candidates)
            return int(round(value)) if integer else value
        case ir.EnumType(values=values):
            return rng.choice(values)
        case ir.SetType(values=values):
            return frozenset(rng.sample(values, rng.randint(0, len(values))))
        case ir.DateType():
            return dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 240))
        case ir.DurationType():  # (within a range of 0 days .. 24 months, tests/data/cases)
            return Duration(months=rng.choice([0, 0, 0, 1, 2, 12, 14]), days=rng.randint(0, 120))
    raise AssertionError(t)
