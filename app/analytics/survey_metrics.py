"""Customer survey metrics (contract section 6): NPS, CSAT and CES with 95% margins of error.

Pure functions: answers (or per-value counts) in, MetricResult out. No Flask, no database.
Margins use the normal approximation at 95% (z = 1.96): for NPS the variance of
promoter (+1) / passive (0) / detractor (-1) scores, for CSAT the binomial share, for CES the
sample standard deviation of the mean. They are None when undefined (no answers; CES from
a single answer).
"""
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Z_95 = 1.96
RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@dataclass(frozen=True)
class MetricResult:
    """A metric's value (None without answers), the number of answers and the 95% margin of error."""

    value: float | None
    n: int
    margin_of_error: float | None = None

    @property
    def low(self) -> float | None:
        """Return the lower end of the 95% interval, or None."""
        return None if self.value is None or self.margin_of_error is None else self.value - self.margin_of_error

    @property
    def high(self) -> float | None:
        """Return the upper end of the 95% interval, or None."""
        return None if self.value is None or self.margin_of_error is None else self.value + self.margin_of_error


def _counts(name: str, values: Iterable[int]) -> Counter[int]:
    """Return how often each answer was given; raise ValueError for answers outside the scale."""
    low, high = RANGES[name]
    counts: Counter[int] = Counter()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name.upper()} answers are whole numbers from {low} to {high}, not {value!r}")
        counts[value] += 1
    return counts


def nps_from_counts(counts: Mapping[int, int]) -> MetricResult:
    """Return NPS = %promoters (9-10) - %detractors (0-6), from -100 to 100."""
    n = sum(counts.values())
    if n == 0:
        return MetricResult(None, 0, None)
    promoters = sum(count for value, count in counts.items() if value >= 9) / n
    detractors = sum(count for value, count in counts.items() if value <= 6) / n
    variance = promoters + detractors - (promoters - detractors) ** 2
    margin = Z_95 * math.sqrt(max(variance, 0.0) / n) * 100
    return MetricResult((promoters - detractors) * 100, n, margin)


def csat_from_counts(counts: Mapping[int, int]) -> MetricResult:
    """Return CSAT = percent of answers that are 4 or 5."""
    n = sum(counts.values())
    if n == 0:
        return MetricResult(None, 0, None)
    share = sum(count for value, count in counts.items() if value >= 4) / n
    return MetricResult(share * 100, n, Z_95 * math.sqrt(share * (1 - share) / n) * 100)


def ces_from_counts(counts: Mapping[int, int]) -> MetricResult:
    """Return CES = mean answer on 1..7 (7 = very easy)."""
    n = sum(counts.values())
    if n == 0:
        return MetricResult(None, 0, None)
    mean = sum(value * count for value, count in counts.items()) / n
    if n == 1:
        return MetricResult(mean, 1, None)
    variance = sum(count * (value - mean) ** 2 for value, count in counts.items()) / (n - 1)
    return MetricResult(mean, n, Z_95 * math.sqrt(variance / n))


_FROM_COUNTS = {"nps": nps_from_counts, "csat": csat_from_counts, "ces": ces_from_counts}


def from_counts(name: str, counts: Mapping[int, int]) -> MetricResult:
    """Return metric `name` ("nps", "csat" or "ces") from {answer value: number of answers}."""
    # Sorted, so that counts from SQL and from a list of answers add up floats in the same order.
    return _FROM_COUNTS[name]({value: count for value, count in sorted(counts.items()) if count})


def nps(values: Iterable[int]) -> MetricResult:
    """Return the NPS of answers 0..10; raise ValueError on other answers."""
    return from_counts("nps", _counts("nps", values))


def csat(values: Iterable[int]) -> MetricResult:
    """Return the CSAT of answers 1..5; raise ValueError on other answers."""
    return from_counts("csat", _counts("csat", values))


def ces(values: Iterable[int]) -> MetricResult:
    """Return the CES of answers 1..7; raise ValueError on other answers."""
    return from_counts("ces", _counts("ces", values))
