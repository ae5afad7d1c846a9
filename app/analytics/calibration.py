"""Shopper calibration (issue #13): how much more lenient or severe each shopper scores than the others
at the same locations, and what a location would score in the hands of an average shopper.

The model is the two-way fixed-effects one, fitted per programme over the counted visits of the period:

    score = location level + shopper bias + noise,    the shoppers' biases summing to zero,

so a bias of +8 means "8 points above what the average shopper gives at the same locations", and a
location's level is its score expected from an average shopper (its calibrated average). Only
differences within a group of shoppers and locations linked by shared visits can be told apart: a
shopper alone at all their locations cannot be separated from those locations ("not enough overlap"),
and groups that share no location (shoppers who keep to their own region) are each compared against
their own average shopper; group 1 is the one with most visits.

The fit reads one GROUP BY (location, shopper) of the visits the figures count (`Filters.conditions`),
count, sum and sum of squares per pair, and is solved on those sums: the location effects are
eliminated (the reduced normal equations of a block design), leaving a system of one row per shopper,
so 100 000 visits cost what their few thousand pairs cost. Intervals are Student t on the residual
variance. Calibration belongs to one programme and reads the whole network's visits of it (the same
figures for every viewer, like the network rank); who may see which shopper is decided by the caller.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sqlalchemy import func, select

from app.analytics import stats
from app.analytics.filters import Filters, memo
from app.extensions import db
from app.models import User, Visit

__all__ = ["Calibration", "LocationLevel", "ShopperBias", "ShopperRow", "calibration", "fit", "pair_sums",
           "shopper_rows"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ShopperBias:
    """A shopper's bias in score points against the average shopper; `bias` None = not enough overlap.

    low and high bound the 95 % interval (None without residual degrees of freedom).
    """

    shopper_id: int
    visits: int
    bias: float | None
    low: float | None
    high: float | None
    #: The group of shoppers linked by shared locations the bias is against (1 = the one with most visits).
    group: int | None = None

    @property
    def identified(self) -> bool:
        """Return True when the shopper shares locations with the others, so the bias could be estimated."""
        return self.bias is not None

    @property
    def lenient(self) -> bool:
        """Return True when the whole interval lies above 0: the shopper scores significantly higher."""
        return self.low is not None and self.low > 0

    @property
    def severe(self) -> bool:
        """Return True when the whole interval lies below 0: the shopper scores significantly lower."""
        return self.high is not None and self.high < 0

    @property
    def significant(self) -> bool:
        """Return True when the 95 % interval excludes 0."""
        return self.lenient or self.severe


@dataclass(frozen=True, slots=True)
class LocationLevel:
    """A location's raw average and its calibrated one (what an average shopper would score there).

    `calibrated` None = not enough overlap: the location's shoppers visited no location of the others.
    """

    location_id: int
    visits: int
    raw: float
    calibrated: float | None
    low: float | None
    high: float | None
    #: The group of shoppers linked by shared locations whose average shopper it is against (1 = most visits).
    group: int | None = None

    @property
    def identified(self) -> bool:
        """Return True when the calibrated average could be estimated."""
        return self.calibrated is not None

    @property
    def correction(self) -> float | None:
        """Return calibrated - raw: how much the location's shoppers' biases moved its raw average."""
        return None if self.calibrated is None else self.calibrated - self.raw


@dataclass(frozen=True, eq=False)
class Calibration:
    """The fitted biases of a programme's shoppers and the calibrated averages of its locations."""

    shoppers: Mapping[int, ShopperBias]
    locations: Mapping[int, LocationLevel]
    #: The location, shopper and visits of each (location, shopper) pair of the fit.
    pairs: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Floats]
    #: Visits of the fit, and of them those in groups of at least two shoppers (the ones estimated).
    visits: int
    connected_visits: int
    #: Residual standard deviation of a visit score and its degrees of freedom (None, 0 without any).
    residual_sd: float | None
    degrees_of_freedom: int
    #: Groups of at least two shoppers linked by shared locations, each compared against its own average.
    groups: int = 0

    def shopper(self, shopper_id: int) -> ShopperBias | None:
        """Return a shopper's bias, or None when the shopper has no visit in the fit."""
        return self.shoppers.get(shopper_id)

    def location(self, location_id: int) -> LocationLevel | None:
        """Return a location's levels, or None when it has no visit in the fit."""
        return self.locations.get(location_id)


def _groups(location_index: npt.NDArray[np.intp], shopper_index: npt.NDArray[np.intp], counts: Floats,
            n_locations: int, n_shoppers: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], int]:
    """Return the group of each location and shopper (linked by shared visits), 0 the one with most visits."""
    size = n_locations + n_shoppers
    graph = sparse.coo_array((np.ones(len(counts)), (location_index, n_locations + shopper_index)),
                             shape=(size, size))
    count, labels = connected_components(graph, directed=False)
    visits = np.bincount(labels[location_index], weights=counts, minlength=count)
    # Most visits first; among equal groups the one holding the lowest location index, so the order is stable.
    first = np.full(count, size)
    np.minimum.at(first, labels[:n_locations], np.arange(n_locations))
    rank = np.empty(count, dtype=np.intp)
    rank[np.lexsort((first, -visits))] = np.arange(count)
    ranked = rank[labels]
    return ranked[:n_locations], ranked[n_locations:], int(count)


@dataclass(frozen=True, eq=False)
class _Solved:
    """One group's estimates: its locations and shoppers (indices), biases, levels and what their variances need."""

    locations: npt.NDArray[np.intp]
    shoppers: npt.NDArray[np.intp]
    bias: Floats
    level: Floats
    #: C+ of the reduced normal equations (Var(b) = s^2 C+), and W = D_l^-1 N with the locations' visits.
    inverse: Floats
    weights: Floats
    location_visits: Floats
    #: Squared deviations of the pairs' means from the fit, weighted by their visits.
    between: float


def _solve(location_index: npt.NDArray[np.intp], shopper_index: npt.NDArray[np.intp], n: Floats, t: Floats,
           locations: npt.NDArray[np.intp], shoppers: npt.NDArray[np.intp]) -> _Solved:
    """Return the least-squares fit of one group of at least two shoppers, the biases summing to zero."""
    loc_map = np.full(int(location_index.max()) + 1, -1)
    loc_map[locations] = np.arange(len(locations))
    shop_map = np.full(int(shopper_index.max()) + 1, -1)
    shop_map[shoppers] = np.arange(len(shoppers))
    keep = loc_map[location_index] >= 0
    li, si, n, t = loc_map[location_index[keep]], shop_map[shopper_index[keep]], n[keep], t[keep]
    n_loc, n_shop = len(locations), len(shoppers)
    # Visits per location x shopper, dense: a programme has hundreds of each, and dense products are fastest.
    cells = np.bincount(li * n_shop + si, weights=n, minlength=n_loc * n_shop).reshape(n_loc, n_shop)
    loc_n, shop_n = cells.sum(axis=1), cells.sum(axis=0)
    loc_t = np.bincount(li, weights=t, minlength=n_loc)
    shop_t = np.bincount(si, weights=t, minlength=n_shop)
    # Location levels a_l = (T_l - sum_s N_ls b_s) / n_l; substituting them leaves C b = Q for the biases,
    # C = D_s - N' D_l^-1 N (singular along the all-ones vector: only differences of biases are estimable).
    weights = cells / loc_n[:, None]  # W = D_l^-1 N: each location's visits shared out by shopper
    reduced = np.diag(shop_n) - cells.T @ weights
    adjusted = shop_t - weights.T @ loc_t
    # With sum(b) = 0 the solution is C+ Q, and C+ = (C + J/S)^-1 - J/S for a connected group (J all ones).
    ones = np.full((n_shop, n_shop), 1.0 / n_shop)
    inverse = np.linalg.inv(reduced + ones) - ones
    inverse = (inverse + inverse.T) / 2
    bias = inverse @ adjusted
    bias -= bias.mean()  # round-off only
    level = (loc_t - cells @ bias) / loc_n
    between = float((n * (t / n - level[li] - bias[si]) ** 2).sum())
    return _Solved(locations, shoppers, bias, level, inverse, weights, loc_n, between)


def fit(location_ids: npt.ArrayLike, shopper_ids: npt.ArrayLike, counts: npt.ArrayLike, totals: npt.ArrayLike,
        squares: npt.ArrayLike, *, confidence: float = 0.95) -> Calibration:
    """Return the fixed-effects fit of the visit sums of (location, shopper) pairs, one row per pair.

    Pure: the sums are what `pair_sums` reads. Each group of shoppers linked through shared locations is
    fitted with its own biases summing to zero (biases of different groups are against different averages);
    a shopper alone in their group is not estimated. The residual variance is pooled over every group.
    """
    loc_raw = np.asarray(location_ids, dtype=np.int64)
    shop_raw = np.asarray(shopper_ids, dtype=np.int64)
    n = np.asarray(counts, dtype=np.float64)
    t = np.asarray(totals, dtype=np.float64)
    q = np.asarray(squares, dtype=np.float64)
    if not (loc_raw.shape == shop_raw.shape == n.shape == t.shape == q.shape == (len(n),)):
        raise ValueError("one count, total and sum of squares per (location, shopper) pair")
    if len(n) and n.min() < 1:
        raise ValueError("every pair needs at least one visit")
    location_keys, location_index = np.unique(loc_raw, return_inverse=True)
    shopper_keys, shopper_index = np.unique(shop_raw, return_inverse=True)
    n_loc, n_shop = len(location_keys), len(shopper_keys)
    if len(n) and np.bincount(location_index * n_shop + shopper_index).max() > 1:
        raise ValueError("each (location, shopper) pair once")
    loc_visits = np.bincount(location_index, weights=n, minlength=n_loc)
    loc_totals = np.bincount(location_index, weights=t, minlength=n_loc)
    shop_visits = np.bincount(shopper_index, weights=n, minlength=n_shop)
    shoppers: dict[int, ShopperBias] = {
        key: ShopperBias(key, int(shop_visits[i]), None, None, None) for i, key in enumerate(shopper_keys.tolist())}
    locations: dict[int, LocationLevel] = {
        key: LocationLevel(key, int(loc_visits[j]), float(loc_totals[j] / loc_visits[j]), None, None, None)
        for j, key in enumerate(location_keys.tolist())}
    if not len(n):
        return Calibration(shoppers, locations, (loc_raw, shop_raw, n), 0, 0, None, 0)

    loc_group, shop_group, count = _groups(location_index, shopper_index, n, n_loc, n_shop)
    sizes = np.bincount(shop_group, minlength=count)
    solved = [_solve(location_index, shopper_index, n, t, np.flatnonzero(loc_group == g),
                     np.flatnonzero(shop_group == g)) for g in range(count) if sizes[g] >= 2]
    # Residuals: within each pair, then each pair's mean against its fit (zero in one-shopper groups, where
    # every location has one pair and its level is that pair's mean).
    residual = float(np.maximum(q - t * t / n, 0.0).sum()) + sum(g.between for g in solved)
    df = int(round(n.sum())) - n_loc - n_shop + count
    variance = residual / df if df >= 1 else None
    critical = stats.t_quantile(confidence, df) if df >= 1 else None
    low_bound, high_bound = stats.SCORE_BOUNDS
    for number, group in enumerate(solved, start=1):
        if variance is not None and critical is not None:
            bias_margin = critical * np.sqrt(np.maximum(np.diag(group.inverse), 0.0) * variance)
            # Var(a_l) = s^2 (1/n_l + w_l' C+ w_l): a location's mean and the adjusted shopper totals are
            # uncorrelated.
            quadratic = ((group.weights @ group.inverse) * group.weights).sum(axis=1)
            level_margin = critical * np.sqrt((1.0 / group.location_visits + np.maximum(quadratic, 0.0)) * variance)
        for k, i in enumerate(group.shoppers.tolist()):
            key, b = int(shopper_keys[i]), float(group.bias[k])
            m = float(bias_margin[k]) if variance is not None else None
            shoppers[key] = ShopperBias(key, int(shop_visits[i]), b, None if m is None else b - m,
                                        None if m is None else b + m, number)
        for k, j in enumerate(group.locations.tolist()):
            key, a = int(location_keys[j]), float(group.level[k])
            m = float(level_margin[k]) if variance is not None else None
            locations[key] = LocationLevel(
                key, int(loc_visits[j]), locations[key].raw, min(max(a, low_bound), high_bound),
                None if m is None else max(a - m, low_bound), None if m is None else min(a + m, high_bound), number)
    connected = int(sum(loc_visits[g.locations].sum() for g in solved))
    return Calibration(shoppers, locations, (loc_raw, shop_raw, n), int(n.sum()), connected,
                       None if variance is None else math.sqrt(variance), max(df, 0), len(solved))


# -- reading the visits -----------------------------------------------------------------------------


def pair_sums(filters: Filters) -> Floats:
    """Return rows (location id, shopper id, visits, sum, sum of squares of scores) of the filter's counted
    visits, one per (location, shopper) pair, as an array of 5 columns."""
    stmt = (
        select(Visit.location_id, Visit.shopper_id, func.count(), func.sum(Visit.score),
               func.sum(Visit.score * Visit.score))
        .where(*filters.conditions()).group_by(Visit.location_id, Visit.shopper_id)
    )
    rows = db.session.execute(stmt).all()
    return np.array(rows, dtype=np.float64).reshape(len(rows), 5)


def calibration(filters: Filters) -> Calibration | None:
    """Return the calibration of the filter's programme over the whole network, None for all programmes.

    Fitted on the programme's counted visits of the period and channel everywhere, whatever the filter's
    scope, region or location: a shopper's bias is one figure for every viewer.
    """
    if not filters.programme:
        return None
    network = filters.network()

    def build() -> Calibration:
        pairs = pair_sums(network)
        return fit(*pairs.T)

    return memo(("calibration", network.replace(preset="")), build)


@dataclass(frozen=True)
class ShopperRow:
    """A shopper who visited the filter's locations, with their bias (fitted on the whole programme)."""

    shopper_id: int
    code: str | None
    name: str
    #: Counted visits of the shopper at the filter's locations (the viewer's regions, the chosen region).
    visits_here: int
    bias: ShopperBias


def shopper_rows(filters: Filters) -> list[ShopperRow]:
    """Return the shoppers with counted visits at the filter's locations, most lenient first, those without
    an estimate (not enough overlap) last; [] for all programmes."""
    fitted = calibration(filters)
    if fitted is None:
        return []
    locations, shoppers, visits = fitted.pairs
    located = filters.located()
    if located is not None:
        seen = np.isin(locations, np.array(db.session.scalars(located).all(), dtype=np.int64))
        locations, shoppers, visits = locations[seen], shoppers[seen], visits[seen]
    here: dict[int, int] = {}
    for shopper_id, n in zip(shoppers.tolist(), visits.tolist(), strict=True):
        here[shopper_id] = here.get(shopper_id, 0) + int(n)
    people = db.session.execute(select(User.id, User.shopper_code, User.name).where(User.id.in_(sorted(here))))
    rows = [ShopperRow(sid, code, name, here[sid], fitted.shoppers[sid]) for sid, code, name in people]
    return sorted(rows, key=lambda r: (r.bias.bias is None, -(r.bias.bias or 0.0), r.code or "", r.shopper_id))
