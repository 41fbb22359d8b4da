"""Random cases drawn from a knowledge base's fact schema: every type, boundary values, and
about a third of the facts left unknown. Deterministic for a given seed."""

from __future__ import annotations

import datetime as dt
import random

from consilium.engine.lang import ir
from consilium.engine.lang.values import Duration


def as_written(value):
    """A typed value as a case file writes it (sets as lists, dates ISO, durations as text)."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


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
        case ir.DurationType():
            return Duration(days=rng.randint(0, 120))
    raise AssertionError(t)
