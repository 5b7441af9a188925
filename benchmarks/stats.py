"""Medians with their range, and the percentages the report quotes."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """The median of a few measurements, with the smallest and the largest."""

    median: float
    low: float
    high: float

    def format(self, digits: int = 0) -> str:
        """`median [low-high]` with `digits` decimals."""
        return f"{self.median:.{digits}f} [{self.low:.{digits}f}-{self.high:.{digits}f}]"


def spread(values: Sequence[float]) -> Spread:
    """Median, min and max of `values` (NaN for none)."""
    if not values:
        nan = float("nan")
        return Spread(nan, nan, nan)
    return Spread(statistics.median(values), min(values), max(values))


def percentile(values: Sequence[float], percent: float) -> float:
    """The `percent` percentile of `values` (nearest rank), NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[rank]


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0 or NaN."""
    if not denominator or denominator != denominator:
        return float("nan")
    return numerator / denominator
