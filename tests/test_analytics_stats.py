"""Analytics core (issue #11): intervals, merged sums, Welch changes, rank ranges and sample plans.

Properties check the sums-based figures against numpy and scipy computed from the lists of scores.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from app.analytics.stats import (
    MIN_VISITS_TO_RANK,
    SCORE_BOUNDS,
    Change,
    Estimate,
    Sums,
    estimate,
    estimate_from_sums,
    format_rank,
    pooled_sd,
    rank_locations,
    rank_ranges,
    visits_needed,
    welch_change,
)

score = st.floats(min_value=0, max_value=100, allow_nan=False)
varied_scores = st.lists(score, max_size=200)
constant_scores = st.builds(lambda value, n: [value] * n, score, st.integers(min_value=0, max_value=200))
scores = st.one_of(varied_scores, constant_scores)

# From SQL sums the variance loses up to ~3 * n * eps * sum of squares to cancellation: for scores up
# to 100 and 200 visits that is ~6e-5 points of SD at worst, far below anything shown.
SD_TOLERANCE = 1e-4
INTERVAL_TOLERANCE = 1e-3


def margin(sd, n, confidence=0.95):
    return stats.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)


# --- estimates -------------------------------------------------------------------------------------

def test_three_visits_give_mean_sd_and_t_interval():
    found = estimate([80, 90, 100])
    assert found.n == 3
    assert found.mean == pytest.approx(90)
    assert found.sd == pytest.approx(10)
    # t(0.975, 2 df) = 4.303: 90 ± 4.303 * 10 / sqrt(3) = 90 ± 24.84
    assert found.margin == pytest.approx(24.84, abs=0.01)
    assert (found.low, found.high) == (pytest.approx(65.16, abs=0.01), pytest.approx(114.84, abs=0.01))


def test_bounds_clip_the_interval_but_not_the_margin():
    found = estimate([80, 90, 100], bounds=SCORE_BOUNDS)
    assert (found.low, found.high) == (pytest.approx(65.16, abs=0.01), 100)
    assert found.margin == pytest.approx(24.84, abs=0.01)
    assert found.mean == pytest.approx(90)


def test_one_visit_has_a_mean_and_no_interval():
    assert estimate([72.5]) == Estimate(1, 72.5, None, None, None, None)


def test_no_visits_have_nothing_and_sql_nulls_are_not_read():
    assert estimate([]) == Estimate(0, None, None, None, None, None)
    assert estimate_from_sums(0, None, None) == Estimate(0, None, None, None, None, None)  # type: ignore[arg-type]


def test_equal_scores_give_sd_zero_and_a_point_interval():
    for value in (70, 33.3, 1 / 3, 99.99):
        found = estimate([value] * 7)
        assert found.sd == 0
        assert found.low == found.high == found.mean
        assert found.margin == 0


def test_other_confidence_levels():
    found = estimate([80, 90, 100], confidence=0.90)
    assert found.margin == pytest.approx(stats.t.ppf(0.95, 2) * 10 / math.sqrt(3))


def test_sums_no_list_could_give_are_refused():
    with pytest.raises(ValueError, match="inconsistent sums"):
        estimate_from_sums(3, 270, 100)


@pytest.mark.parametrize("bad", [
    lambda: estimate_from_sums(-1, 0, 0),
    lambda: estimate_from_sums(3, 270, 24_500, confidence=1),
    lambda: estimate_from_sums(3, 270, 24_500, bounds=(100, 0)),
])
def test_bad_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


@given(scores)
def test_estimate_from_sums_matches_numpy_and_scipy(values):
    sums = Sums.of(values)
    found = estimate_from_sums(sums.n, sums.total, sums.total_squares)
    assert found == estimate(values)
    assert found.n == len(values)
    if not values:
        assert found.mean is None
        return
    assert found.mean == pytest.approx(np.mean(values), abs=1e-9)
    if len(values) == 1:
        assert found.sd is found.low is found.high is found.margin is None
        return
    sd = float(np.std(values, ddof=1))
    assert found.sd == pytest.approx(sd, abs=SD_TOLERANCE)
    if sd > 0:
        low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sd / math.sqrt(len(values)))
    else:
        low = high = np.mean(values)
    assert found.low == pytest.approx(low, abs=INTERVAL_TOLERANCE)
    assert found.high == pytest.approx(high, abs=INTERVAL_TOLERANCE)
    assert found.low <= found.mean <= found.high


@given(st.lists(scores, max_size=6))
def test_sums_of_groups_are_the_sums_of_all_their_visits(groups):
    together = Sums.total_of([Sums.of(g) for g in groups])
    every = [v for g in groups for v in g]
    assert together.n == len(every)
    assert together.total == pytest.approx(math.fsum(every), abs=1e-9)
    assert together.mean == (pytest.approx(np.mean(every), abs=1e-9) if every else None)
    assert together.mean == estimate(every).mean or together.mean == pytest.approx(estimate(every).mean)


@given(scores)
def test_bounds_keep_scores_intervals_inside_0_to_100(values):
    found = estimate(values, bounds=SCORE_BOUNDS)
    if found.low is not None:
        assert 0 <= found.low <= found.mean <= found.high <= 100
        assert found.margin == estimate(values).margin


# --- merging sums ----------------------------------------------------------------------------------

def test_merged_sums_weigh_each_visit_once():
    merged = Sums.of([80, 90, 100]) + Sums.of([60])
    assert merged == Sums(4, 330, 28_100)
    assert merged.estimate().mean == 82.5  # not (90 + 60) / 2
    assert sum([Sums.of([80]), Sums.of([90]), Sums.of([100])], Sums()) == Sums.of([80, 90, 100])


@given(st.lists(scores, max_size=6))
def test_merging_sums_equals_computing_over_all_visits(parts):
    merged = sum((Sums.of(part) for part in parts), Sums())
    together = Sums.of([value for part in parts for value in part])
    assert merged.n == together.n
    assert merged.total == pytest.approx(together.total, rel=1e-12, abs=1e-9)
    assert merged.total_squares == pytest.approx(together.total_squares, rel=1e-12, abs=1e-9)
    left, right = merged.estimate(), together.estimate()
    assert left.n == right.n
    if right.mean is not None:
        assert left.mean == pytest.approx(right.mean, abs=1e-9)
    if right.sd is not None:
        assert left.sd == pytest.approx(right.sd, abs=SD_TOLERANCE)
        assert left.low == pytest.approx(right.low, abs=INTERVAL_TOLERANCE)


# --- changes against the previous period -----------------------------------------------------------

def test_a_clear_change_is_significant():
    change = welch_change(estimate([80, 85, 90, 95]), estimate([50, 55, 60, 65]))
    assert change.difference == pytest.approx(30)
    assert change.p_value == pytest.approx(stats.ttest_ind([80, 85, 90, 95], [50, 55, 60, 65], equal_var=False).pvalue)
    assert change.p_value < 0.001
    assert change.significant


def test_a_change_within_the_noise_is_not_significant():
    change = welch_change(estimate([60, 90, 75]), estimate([70, 80, 60]))
    assert change.difference == pytest.approx(5)
    assert change.p_value > 0.5
    assert not change.significant


def test_against_a_period_of_equal_scores():
    # Welch with no spread before: t = 20 / (10 / sqrt(3)) = 3.464 on the 2 df of the current period
    change = welch_change(estimate([80, 90, 100]), estimate([70, 70, 70]))
    assert change.difference == pytest.approx(20)
    assert change.p_value == pytest.approx(2 * stats.t.sf(20 / (10 / math.sqrt(3)), 2))
    assert not change.significant  # p = 0.074: three visits are too few to be sure


def test_fewer_than_two_visits_on_a_side_cannot_be_tested():
    assert welch_change(estimate([80, 90]), estimate([60])) == Change(25, None, False)
    assert welch_change(estimate([80]), estimate([60, 70])).p_value is None
    assert welch_change(estimate([80, 90]), estimate([])).difference is None


def test_no_spread_on_either_side():
    assert welch_change(estimate([80] * 3), estimate([70] * 4)) == Change(10, 0.0, True)
    assert welch_change(estimate([80] * 3), estimate([80] * 4)) == Change(0, 1.0, False)
    # 33.3 * 3 / 3 and 33.3 * 7 / 7 may differ in the last bit: that is not a change
    same = welch_change(estimate([33.3] * 3), estimate([33.3] * 7))
    assert (same.p_value, same.significant) == (1.0, False)


# Scores as pages show them, one decimal: nearly identical values make scipy's reference itself unreliable.
shown_score = score.map(lambda value: round(value, 1))


@given(st.lists(shown_score, min_size=2, max_size=30), st.lists(shown_score, min_size=2, max_size=30))
def test_welch_change_is_scipys_welch_test(current, previous):
    assume(len(set(current)) > 1 or len(set(previous)) > 1)
    change = welch_change(estimate(current), estimate(previous))
    expected = stats.ttest_ind_from_stats(np.mean(current), np.std(current, ddof=1), len(current), np.mean(previous),
                                          np.std(previous, ddof=1), len(previous), equal_var=False).pvalue
    assert change.p_value == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert change.significant == (expected < 0.05) or abs(expected - 0.05) < 1e-6


def test_tiny_spreads_do_not_make_scipy_warn():
    # Squaring variances of 1e-300 underflows inside Welch's degrees of freedom unless rescaled.
    change = welch_change(estimate([1e-150, 2e-150, 3e-150]), estimate([2e-150, 3e-150, 4e-150]))
    assert change.p_value == pytest.approx(stats.ttest_ind([1, 2, 3], [2, 3, 4], equal_var=False).pvalue)


def test_alpha_is_the_threshold():
    change = welch_change(estimate([60, 90, 75, 80]), estimate([55, 70, 65, 60]))
    assert 0.01 < change.p_value < 0.2
    assert welch_change(estimate([60, 90, 75, 80]), estimate([55, 70, 65, 60]), alpha=0.2).significant
    assert not welch_change(estimate([60, 90, 75, 80]), estimate([55, 70, 65, 60]), alpha=0.01).significant


spread_scores = st.lists(score, min_size=2, max_size=200).filter(lambda values: np.std(values, ddof=1) >= 0.5)


@given(spread_scores, spread_scores)
def test_welch_from_sums_matches_scipy_on_the_visit_lists(current, previous):
    change = welch_change(estimate(current), estimate(previous))
    expected = stats.ttest_ind(current, previous, equal_var=False).pvalue
    assert change.difference == pytest.approx(np.mean(current) - np.mean(previous), abs=1e-9)
    assert change.p_value == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assume(abs(expected - 0.05) > 1e-6)
    assert change.significant == (expected < 0.05)


@given(scores, scores)
def test_welch_never_warns_and_stays_a_probability(current, previous):
    change = welch_change(estimate(current), estimate(previous))
    if change.p_value is not None:
        assert 0 <= change.p_value <= 1
        assert change.significant == (change.p_value < 0.05)


# --- rank ranges -----------------------------------------------------------------------------------

def interval(mean, low, high, n=5):
    return Estimate(n, mean, 1.0, low, high, (high - low) / 2)


def test_rank_ranges_a_reader_can_check():
    a, b, c, d = interval(85, 80, 90), interval(90, 85, 95), interval(55, 50, 60), interval(72, 70, 75)
    assert rank_ranges([a, b, c, d]) == [(1, 2), (1, 2), (4, 4), (3, 3)]
    assert [format_rank(*rank) for rank in rank_ranges([a, b, c, d])] == ["1–2", "1–2", "4", "3"]


def test_single_visits_rank_at_their_mean_and_ties_share_a_range():
    assert rank_ranges([estimate([70]), estimate([70]), estimate([90])]) == [(2, 3), (2, 3), (1, 1)]


def test_touching_intervals_overlap():
    assert rank_ranges([interval(85, 80, 90), interval(95, 90, 100)]) == [(1, 2), (1, 2)]


def test_rank_ranges_of_nothing_and_of_a_location_without_visits():
    assert rank_ranges([]) == []
    with pytest.raises(ValueError):
        rank_ranges([estimate([])])


def test_format_rank():
    assert format_rank(3, 3) == "3"
    assert format_rank(3, 6) == "3\u20136"


location_scores = st.lists(st.lists(score, min_size=1, max_size=12), min_size=1, max_size=10)


@given(location_scores)
def test_rank_ranges_hold_the_rank_by_mean(locations):
    estimates = [estimate(values, bounds=SCORE_BOUNDS) for values in locations]
    count = len(estimates)
    means = [item.mean for item in estimates]
    for (best, worst), mine in zip(rank_ranges(estimates), means, strict=True):
        assert 1 <= best <= worst <= count
        # with ties broken in my favour or against me
        assert best <= 1 + sum(other > mine for other in means) <= worst
        assert best <= count - sum(other < mine for other in means) <= worst


@given(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=20, unique=True))
def test_separate_intervals_collapse_to_single_ranks(means):
    estimates = [interval(mean, mean - 0.4, mean + 0.4) for mean in means]
    order = sorted(means, reverse=True)
    assert rank_ranges(estimates) == [(order.index(mean) + 1,) * 2 for mean in means]


def test_locations_below_the_minimum_are_listed_apart():
    locations = [estimate([90, 92, 94]), estimate([95, 99]), estimate([50, 52, 54]), estimate([])]
    assert MIN_VISITS_TO_RANK == 3
    assert rank_locations(locations) == [(1, 1), None, (2, 2), None]
    assert rank_locations(locations, min_visits=2) == [(1, 2), (1, 2), (3, 3), None]
    with pytest.raises(ValueError):
        rank_locations(locations, min_visits=0)


@given(location_scores, st.integers(min_value=1, max_value=6))
def test_ranks_count_only_the_ranked_locations(locations, min_visits):
    estimates = [estimate(values) for values in locations]
    ranks = rank_locations(estimates, min_visits=min_visits)
    ranked = [item for item in estimates if item.n >= min_visits]
    assert [rank is not None for rank in ranks] == [item.n >= min_visits for item in estimates]
    assert [rank for rank in ranks if rank is not None] == rank_ranges(ranked)


# --- sample plan -----------------------------------------------------------------------------------

def test_pooled_sd_is_the_spread_within_locations():
    # squared deviations 200 over 2 df and 50 over 1 df; the 40-point gap between locations is not spread
    groups = [Sums.of([80, 90, 100]), Sums.of([45, 55]), Sums.of([70])]
    assert pooled_sd(groups) == pytest.approx(math.sqrt(250 / 3))
    assert pooled_sd([Sums.of([70]), Sums()]) is None
    assert pooled_sd([]) is None
    assert pooled_sd([Sums.of([70, 70]), Sums.of([40, 40, 40])]) == 0


@given(st.lists(scores, max_size=8))
def test_pooled_sd_matches_numpy(locations):
    found = pooled_sd(Sums.of(values) for values in locations)
    spread = [values for values in locations if len(values) >= 2]
    if not spread:
        assert found is None
        return
    expected = math.sqrt(sum((len(v) - 1) * np.var(v, ddof=1) for v in spread) / sum(len(v) - 1 for v in spread))
    assert found == pytest.approx(expected, abs=SD_TOLERANCE)


def test_visits_needed_a_reader_can_check():
    # sd 10, ±5 points: 18 visits give 2.110 * 10 / sqrt(18) = 4.97; 17 give 2.120 * 10 / sqrt(17) = 5.14
    assert visits_needed(10, 5) == 18
    assert visits_needed(None, 5) is None
    assert visits_needed(0, 5) == 2
    assert visits_needed(100, 0.1) == 1000
    assert visits_needed(100, 0.1, max_visits=50) == 50
    assert visits_needed(10, 5, confidence=0.99) > 18


@pytest.mark.parametrize("bad", [
    lambda: visits_needed(10, 0),
    lambda: visits_needed(-1, 5),
    lambda: visits_needed(10, 5, max_visits=1),
    lambda: visits_needed(10, 5, confidence=0),
])
def test_visits_needed_refuses_bad_arguments(bad):
    with pytest.raises(ValueError):
        bad()


@given(
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.floats(min_value=0.1, max_value=50),
    st.sampled_from([0.9, 0.95, 0.99]),
)
def test_visits_needed_is_the_fewest_that_reach_the_precision(sd, precision, confidence):
    needed = visits_needed(sd, precision, confidence=confidence)
    assert 2 <= needed <= 1000
    if needed == 1000 and margin(sd, 1000, confidence) > precision:
        return  # capped: not reachable within the limit
    assert margin(sd, needed, confidence) <= precision
    if needed > 2:
        assert margin(sd, needed - 1, confidence) > precision
