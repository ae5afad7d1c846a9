"""Survey metric formulas (contract section 6) with exact numbers, edges included."""
import math

import pytest

from app.analytics.survey_metrics import MetricResult, ces, csat, from_counts, nps


def expected(name: str, values: list[int]) -> MetricResult:
    """Return the metric computed from raw answers: what the SQL aggregation must agree with."""
    return {"nps": nps, "csat": csat, "ces": ces}[name](values)


def close(result: MetricResult, value, n, margin):
    assert result.n == n
    for got, want in ((result.value, value), (result.margin_of_error, margin)):
        if want is None:
            assert got is None
        else:
            assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("metric", [nps, csat, ces])
def test_no_answers_means_no_value_and_no_margin(metric):
    assert metric([]) == MetricResult(None, 0, None)


def test_nps_all_promoters_is_100_with_no_spread():
    close(nps([9, 10, 10, 9]), 100.0, 4, 0.0)


def test_nps_all_detractors_is_minus_100():
    close(nps([0, 6, 3]), -100.0, 3, 0.0)


def test_nps_all_passives_is_0_with_no_spread():
    close(nps([7, 8, 7, 8]), 0.0, 4, 0.0)


def test_nps_boundaries_of_the_groups():
    # 6 is a detractor, 7 and 8 are passive, 9 is a promoter
    close(nps([6]), -100.0, 1, 0.0)
    close(nps([7]), 0.0, 1, 0.0)
    close(nps([8]), 0.0, 1, 0.0)
    close(nps([9]), 100.0, 1, 0.0)


def test_nps_half_promoters_half_detractors():
    # p = d = 0.5: NPS 0, variance = p + d - (p - d)^2 = 1, margin = 1.96 * sqrt(1 / 4) * 100 = 98
    close(nps([10, 10, 0, 0]), 0.0, 4, 98.0)


def test_nps_mixed_answers_exact():
    # 5 promoters, 3 passives, 2 detractors of 10: NPS = 50 - 20 = 30
    # variance = 0.5 + 0.2 - 0.3^2 = 0.61; margin = 1.96 * sqrt(0.61 / 10) * 100
    values = [10, 9, 9, 10, 9, 7, 8, 7, 3, 6]
    close(nps(values), 30.0, 10, 1.96 * math.sqrt(0.061) * 100)


def test_csat_counts_4_and_5_as_satisfied():
    close(csat([5, 5, 5]), 100.0, 3, 0.0)
    close(csat([1, 2, 3]), 0.0, 3, 0.0)
    # 3 of 4 satisfied: 75%, margin = 1.96 * sqrt(0.75 * 0.25 / 4) * 100
    close(csat([4, 5, 3, 4]), 75.0, 4, 1.96 * math.sqrt(0.1875 / 4) * 100)


def test_ces_is_the_mean_with_the_sample_spread():
    close(ces([7]), 7.0, 1, None)  # one answer has no spread to estimate
    close(ces([7, 7, 7]), 7.0, 3, 0.0)
    close(ces([1, 7]), 4.0, 2, 1.96 * math.sqrt(18 / 2))  # sample variance (9 + 9) / 1 = 18
    close(ces([1, 2, 3, 4, 5, 6, 7]), 4.0, 7, 1.96 * math.sqrt((28 / 6) / 7))


@pytest.mark.parametrize("metric, bad", [
    (nps, [11]), (nps, [-1]), (csat, [0]), (csat, [6]), (ces, [0]), (ces, [8]), (nps, [True]), (csat, [4.5]),
])
def test_answers_outside_the_scale_are_refused(metric, bad):
    with pytest.raises(ValueError, match="whole numbers from"):
        metric(bad)


@pytest.mark.parametrize("name, values", [
    ("nps", [10, 9, 8, 7, 6, 0, 0, 10]), ("csat", [1, 2, 3, 4, 5, 5]), ("ces", [2, 2, 6, 7]),
])
def test_from_counts_agrees_with_the_raw_answers(name, values):
    counts = {value: values.count(value) for value in range(0, 11)}  # zero counts included, as SQL gives them
    assert from_counts(name, counts) == expected(name, values)


def test_interval_ends():
    result = nps([10, 10, 0, 0])
    assert (result.low, result.high) == pytest.approx((-98.0, 98.0))
    assert MetricResult(None, 0).low is None
