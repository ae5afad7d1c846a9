"""Honest averages of visit scores (issue #11): intervals, rank ranges, significant changes, sample plans.

Pure: no Flask, no database. Everything works from per-group sums (n, sum, sum of squares) as SQL gives
them, so figures for a location, a region or a period are the same whichever way they were aggregated.
"""
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import special, stats

__all__ = [
    "MIN_VISITS_TO_RANK", "SCORE_BOUNDS", "Change", "Estimate", "Sums",
    "estimate", "estimate_from_sums", "format_rank", "pooled_sd", "rank_locations", "rank_ranges", "t_quantile",
    "visits_needed", "welch_change",
]

#: Locations with fewer visits than this in a period are listed apart and not ranked.
MIN_VISITS_TO_RANK = 3
#: Visit scores lie in this range: pass it as `bounds` so intervals of scores stay inside it.
SCORE_BOUNDS = (0.0, 100.0)

# The sum of squares of n values loses up to about 3 * n * eps * total_squares to cancellation (plus
# underflow for values near 0); below that, what is left is round-off, not spread: a constant list must
# give sd 0, not 1e-7.
_EPS = float(np.finfo(float).eps)
_TINY = float(np.finfo(float).tiny)


@dataclass(frozen=True, slots=True)
class Sums:
    """Visit count, sum and sum of squares of scores: what SQL aggregates; `+` gives the sums of all the visits."""

    n: int = 0
    total: float = 0.0
    total_squares: float = 0.0

    @classmethod
    def of(cls, values: Iterable[float]) -> "Sums":
        """Return the sums of a list of scores."""
        values = list(values)
        return cls(len(values), math.fsum(values), math.fsum(v * v for v in values))

    @classmethod
    def total_of(cls, groups: Sequence["Sums"]) -> "Sums":
        """Return the sums of all the groups' visits together."""
        return cls(sum(g.n for g in groups), math.fsum(g.total for g in groups),
                   math.fsum(g.total_squares for g in groups))

    @property
    def mean(self) -> float | None:
        """Return the mean score (None without visits): what `estimate().mean` is, without the interval."""
        return self.total / self.n if self.n else None

    def __add__(self, other: "Sums") -> "Sums":
        """Return the sums of both groups of visits together (start `sum()` with `Sums()`)."""
        if not isinstance(other, Sums):
            return NotImplemented
        return Sums(self.n + other.n, self.total + other.total, self.total_squares + other.total_squares)

    def squared_deviations(self) -> float:
        """Return the sum of squared deviations from the mean (0 for fewer than two visits)."""
        if self.n < 2:
            return 0.0
        deviations = self.total_squares - self.total * self.total / self.n
        round_off = self.n * (8 * _EPS * abs(self.total_squares) + _TINY)
        if deviations <= round_off:
            if deviations < -round_off:
                # No list of values has these sums: count and sums come from different rows (NULL scores?).
                raise ValueError(f"inconsistent sums: n={self.n}, total={self.total}, "
                                 f"total_squares={self.total_squares}")
            return 0.0
        return deviations

    def estimate(self, *, confidence: float = 0.95, bounds: tuple[float, float] | None = None) -> "Estimate":
        """Return the mean with its confidence interval for these visits."""
        return estimate_from_sums(self.n, self.total, self.total_squares, confidence=confidence, bounds=bounds)


@dataclass(frozen=True, slots=True)
class Estimate:
    """An average of n visit scores with its Student t confidence interval.

    sd is the sample standard deviation (ddof=1); sd, low, high and margin are None below two visits.
    margin is the half-width t * sd / sqrt(n) before low and high were clipped to any bounds, so it is
    the precision that `visits_needed` plans for.
    """

    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None
    margin: float | None


@dataclass(frozen=True, slots=True)
class Change:
    """The change of an average against the previous period, and whether Welch's test finds it significant."""

    difference: float | None
    p_value: float | None
    significant: bool


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")


@lru_cache(maxsize=4096)
def t_quantile(confidence: float, df: int) -> float:
    """Return the two-sided Student t critical value for `confidence` with `df` degrees of freedom."""
    # Cached: scipy takes ~60 µs a call, and a page asks for the same few values per location.
    return float(stats.t.ppf((1 + confidence) / 2, df))


def estimate_from_sums(
    n: int, total: float, total_squares: float, *,
    confidence: float = 0.95, bounds: tuple[float, float] | None = None,
) -> Estimate:
    """Return the mean of n visit scores and its t interval, from their sum and sum of squares."""
    _check_confidence(confidence)
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    if n == 0:
        # SQL's sum() of no rows is NULL: nothing of the sums is read.
        return Estimate(0, None, None, None, None, None)
    mean = total / n
    if n == 1:
        return Estimate(1, mean, None, None, None, None)
    sd = math.sqrt(Sums(n, total, total_squares).squared_deviations() / (n - 1))
    margin = t_quantile(confidence, n - 1) * sd / math.sqrt(n)
    low, high = mean - margin, mean + margin
    if bounds is not None:
        floor, ceiling = bounds
        if floor > ceiling:
            raise ValueError(f"bounds must be (lowest, highest), not {bounds}")
        low, high = max(low, floor), min(high, ceiling)
    return Estimate(n, mean, sd, low, high, margin)


def estimate(
    values: Iterable[float], *, confidence: float = 0.95, bounds: tuple[float, float] | None = None,
) -> Estimate:
    """Return the mean of a list of visit scores and its t interval (the same figures their sums give)."""
    return Sums.of(values).estimate(confidence=confidence, bounds=bounds)


def welch_change(current: Estimate, previous: Estimate, alpha: float = 0.05) -> Change:
    """Return the change from `previous` to `current` and whether Welch's t test finds it significant."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    if current.mean is None or previous.mean is None:
        return Change(None, None, False)
    difference = current.mean - previous.mean
    if current.sd is None or previous.sd is None:
        return Change(difference, None, False)
    scale = max(current.sd, previous.sd)
    if scale == 0:
        # No spread on either side: any difference is certain, except round-off between equal constants.
        if math.isclose(current.mean, previous.mean, rel_tol=1e-9, abs_tol=1e-12):
            return Change(difference, 1.0, False)
        return Change(difference, 0.0, True)
    # Welch's t and degrees of freedom do not depend on the unit; in units of the larger SD nothing
    # underflows when it squares the variances. The formulas are scipy's ttest_ind_from_stats (a test
    # checks both agree), written out because that function costs 45 µs a call, 25 ms for a league table.
    current_part = (current.sd / scale) ** 2 / current.n
    previous_part = (previous.sd / scale) ** 2 / previous.n
    variance = current_part + previous_part
    t = difference / scale / math.sqrt(variance)
    df = variance**2 / (current_part**2 / (current.n - 1) + previous_part**2 / (previous.n - 1))
    p_value = min(float(2 * special.stdtr(df, -abs(t))), 1.0)
    return Change(difference, p_value, p_value < alpha)


def rank_ranges(estimates: Sequence[Estimate]) -> list[tuple[int, int]]:
    """Return each item's (best, worst) possible rank, 1 being the highest mean.

    best = 1 + the number of others whose interval lies entirely above this one's (other.low > self.high);
    worst = N - the number of others whose interval lies entirely below (other.high < self.low).
    Intervals that touch or overlap cannot be told apart, so the rank spans them. An item without an
    interval (one visit) counts as the point at its mean. Every item needs at least one visit.
    """
    intervals: list[tuple[float, float]] = []
    for item in estimates:
        if item.mean is None:
            raise ValueError("cannot rank a location without visits")
        if item.low is None or item.high is None:
            intervals.append((item.mean, item.mean))
        else:
            intervals.append((item.low, item.high))
    if not intervals:
        return []
    lows = np.array([low for low, _ in intervals])
    highs = np.array([high for _, high in intervals])
    # An interval never lies entirely above or below itself, so comparing against all N counts only others.
    above = (lows[None, :] > highs[:, None]).sum(axis=1)
    below = (highs[None, :] < lows[:, None]).sum(axis=1)
    count = len(intervals)
    return [(1 + int(a), count - int(b)) for a, b in zip(above, below, strict=True)]


def rank_locations(
    estimates: Sequence[Estimate], *, min_visits: int = MIN_VISITS_TO_RANK,
) -> list[tuple[int, int] | None]:
    """Return each location's rank range among those with at least `min_visits` visits; None for the others."""
    if min_visits < 1:
        raise ValueError(f"min_visits must be at least 1, not {min_visits}")
    ranked = [i for i, item in enumerate(estimates) if item.n >= min_visits]
    ranks: list[tuple[int, int] | None] = [None] * len(estimates)
    for i, rank in zip(ranked, rank_ranges([estimates[i] for i in ranked]), strict=True):
        ranks[i] = rank
    return ranks


def format_rank(best: int, worst: int) -> str:
    """Return a rank range as shown to managers: "3", or "3–6" when the intervals leave it open."""
    return str(best) if best == worst else f"{best}–{worst}"


def pooled_sd(groups: Iterable[Sums]) -> float | None:
    """Return the pooled within-group SD of visit scores, or None when no group has two visits."""
    deviations = 0.0
    degrees_of_freedom = 0
    for group in groups:
        if group.n >= 2:
            deviations += group.squared_deviations()
            degrees_of_freedom += group.n - 1
    if degrees_of_freedom == 0:
        return None
    return math.sqrt(deviations / degrees_of_freedom)


@lru_cache(maxsize=32)
def _margin_factors(confidence: float, max_visits: int) -> npt.NDArray[np.float64]:
    """Return t / sqrt(n) for n = 2 .. max_visits: the margin of one unit of SD at each number of visits."""
    visits = np.arange(2, max_visits + 1)
    factors: npt.NDArray[np.float64] = stats.t.ppf((1 + confidence) / 2, visits - 1) / np.sqrt(visits)
    factors.setflags(write=False)  # shared by every call through the cache
    return factors


def visits_needed(
    sd: float | None, precision: float, *, confidence: float = 0.95, max_visits: int = 1000,
) -> int | None:
    """Return the fewest visits (at least 2) whose t interval is within ±precision, at most max_visits.

    None when there is no observed spread to plan from. With spread 0, 2 visits: the fewest that give an
    interval at all. When even max_visits is not enough, max_visits.
    """
    _check_confidence(confidence)
    if precision <= 0:
        raise ValueError(f"precision must be positive, not {precision}")
    if max_visits < 2:
        raise ValueError(f"max_visits must be at least 2, not {max_visits}")
    if sd is None:
        return None
    if sd < 0:
        raise ValueError(f"sd must not be negative, not {sd}")
    margins = _margin_factors(confidence, max_visits) * sd
    # The margin shrinks as visits grow, so the first one within precision is the answer.
    enough = np.flatnonzero(margins <= precision)
    return 2 + int(enough[0]) if enough.size else max_visits
