"""The analytics core: averages, league table, sections, ranks, failures, on stored scores, per Filters."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.analytics.figures import (
    average,
    failing_questions,
    heatmap,
    league_table,
    location_ranks,
    recurring_failures,
    region_averages,
    region_averages_of,
    section_averages,
    section_benchmarks,
    trend,
    visit_scores,
)
from app.analytics.filters import Filters, counted_statuses
from app.analytics.periods import Period, PeriodError
from app.models import VisitStatus
from tests.factories_scored import (
    SOME_LOSS,
    build_network,
    dispose_engine,  # noqa: F401  (autouse)
)

Q2 = Period(date(2024, 4, 1), date(2024, 6, 30))


def q2(**fields) -> Filters:
    """Return the Q2 filter of the sample programme, with some fields changed."""
    return Filters(Q2, programme="sample-visit").replace(**fields)


def rows_of(filters: Filters) -> list:
    return league_table(filters).rows


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


def test_period_previous_and_presets():
    assert Q2.previous() == Period(date(2024, 1, 1), date(2024, 3, 31))
    assert Period(date(2024, 3, 1), date(2024, 3, 31)).previous() == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert Period(date(2024, 5, 10), date(2024, 5, 19)).previous() == Period(date(2024, 4, 30), date(2024, 5, 9))
    assert Period.quarter(date(2024, 5, 17)) == Q2
    assert Period.last_days(30, date(2024, 5, 30)) == Period(date(2024, 5, 1), date(2024, 5, 30))
    assert [p.end.day for p in Q2.split(3)] == [30, 31, 30]
    assert len(Period(date(2024, 5, 1), date(2024, 5, 2)).split(3)) == 2
    with pytest.raises(ValueError):
        Period(date(2024, 5, 2), date(2024, 5, 1))
    with pytest.raises(PeriodError):
        Period.checked(date(2020, 1, 1), date(2024, 1, 1))  # the three-year rule, on the period type
    assert Period.checked(date(2021, 1, 1), date(2023, 12, 31)).days == 1095


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(1, 800),
       st.integers(1, 6))
def test_trend_parts_fall_on_months_and_still_cut_the_period(start, days, count):
    period = Period(start, start + timedelta(days=days - 1))
    parts, equal = period.split_at_months(count), period.split(count)
    assert len(parts) == len(equal)
    assert parts[0].start == period.start and parts[-1].end == period.end
    assert all(a.end + timedelta(days=1) == b.start for a, b in zip(parts, parts[1:], strict=False))
    assert all(part.start <= part.end for part in parts)
    for moved, plain in zip(parts[1:], equal[1:], strict=True):
        # Each inner boundary is where the equal cut is or a first of a month within half a part of it.
        assert moved.start == plain.start or moved.start.day == 1
        assert abs((moved.start - plain.start).days) <= period.days / len(parts) / 2


def test_a_quarter_ending_mid_month_is_cut_at_months():
    parts = Period(date(2026, 9, 4), date(2026, 12, 3)).split_at_months(3)
    assert [(p.start, p.end) for p in parts] == [(date(2026, 9, 4), date(2026, 9, 30)),
                                                 (date(2026, 10, 1), date(2026, 10, 31)),
                                                 (date(2026, 11, 1), date(2026, 12, 3))]


def test_league_table_averages_counts_and_change(network):
    some_loss = make_expected(SOME_LOSS)
    table = rows_of(q2())
    by_name = {row.name: row for row in table}
    assert set(by_name) == {"A1", "A2", "B1"}
    assert by_name["A1"].visits == 2
    assert by_name["A1"].score == pytest.approx((100 + some_loss) / 2)
    assert by_name["A1"].previous.score == pytest.approx(some_loss)
    assert by_name["A1"].change.difference == pytest.approx((100 + some_loss) / 2 - some_loss)
    assert by_name["A2"].score == pytest.approx(50.0)  # 0 and 100
    assert by_name["A2"].change.difference is None
    assert by_name["B1"].visits == 1 and by_name["B1"].score == pytest.approx(100)
    assert [row.name for row in table] == ["B1", "A1", "A2"]
    assert by_name["B1"].grade == "Excellent" and by_name["A2"].grade == "Poor"
    # Sparkline: thirds of Q1 then thirds of Q2 (Feb 10; Apr 10 and May 10).
    assert by_name["A1"].trend == [None, pytest.approx(some_loss), None, pytest.approx(100),
                                   pytest.approx(some_loss), None]


def make_expected(answers):
    from app.checklists.loader import parse_checklist
    from app.scoring import score_visit
    from tests.conftest import SAMPLE_CHECKLIST

    return score_visit(parse_checklist(SAMPLE_CHECKLIST, "x.yaml"), answers).score


def test_filters_scope_region_and_checklist(network):
    south_only = rows_of(q2(scope=frozenset({network["south"].id})))
    assert [row.name for row in south_only] == ["B1"]
    assert [row.name for row in rows_of(q2(region_id=network["north"].id))] == ["A1", "A2"]
    assert rows_of(q2(scope=frozenset())) == []
    assert rows_of(q2(programme="other-checklist")) == []
    assert len(rows_of(q2(programme=None))) == 3
    empty = league_table(Filters(Period(date(2023, 1, 1), date(2023, 1, 31))), include_empty=True).rows
    assert {row.name for row in empty} == {"A1", "A2", "B1"} and all(row.visits == 0 for row in empty)


def test_submitted_visits_count_when_configured(network, app):
    assert counted_statuses() == (VisitStatus.approved,)
    app.config["COUNT_SUBMITTED_VISITS"] = True
    assert set(counted_statuses()) == {VisitStatus.approved, VisitStatus.submitted}
    assert {r.name: r.visits for r in rows_of(q2())}["B1"] == 2


def test_section_averages_and_matrix(network):
    sections = section_averages(q2(location_id=network["a2"].id))
    assert list(sections) == ["greeting", "service"]
    assert sections["greeting"].title == "Greeting"
    assert sections["greeting"].visits == 2
    # A critical failure zeroes the visit, not the section: greeting is 0/4 pts + tone 5 -> (0+1)/3.
    assert sections["greeting"].score == pytest.approx((100 * 1 / 3 + 100) / 2)
    heat = heatmap(q2(scope=frozenset({network["north"].id})))
    assert set(heat.cells) == {network["a1"].id, network["a2"].id}
    assert list(heat.sections) == ["greeting", "service"]


def test_location_ranks_and_section_benchmarks_are_those_of_the_full_tables(network, app):
    # The location page reads its ranks and its region's and network's sections from one query each;
    # they must be what the region's and the network's league tables and section averages say.
    app.config["RANK_MIN_VISITS"] = 1
    for name in ("a1", "a2", "b1"):
        location = network[name]
        ranks = location_ranks(q2(location_id=location.id), location)
        in_network = league_table(q2())
        in_region = league_table(q2(region_id=location.region_id))
        assert ranks.network == in_network.row(location.id).rank
        assert ranks.region == in_region.row(location.id).rank
        assert (ranks.network_of, ranks.region_of) == (len(in_network.ranked), len(in_region.ranked))
        regional, whole = section_benchmarks(q2(), location.region_id)
        for mine, full in ((regional, section_averages(q2(region_id=location.region_id))),
                           (whole, section_averages(q2()))):
            assert list(mine) == list(full)
            for sid, figure in mine.items():
                assert (figure.visits, figure.title) == (full[sid].visits, full[sid].title)
                assert figure.score == pytest.approx(full[sid].score)
                assert figure.low == pytest.approx(full[sid].low)


def test_network_and_region_averages(network):
    avg = average(q2())
    assert avg.visits == 5
    regions = {r.name: r.figure for r in region_averages(q2())}
    assert regions["North"].visits == 4 and regions["South"].visits == 1
    assert regions["South"].score == pytest.approx(100)
    # The dashboard adds up its league table's rows instead: the same figures, empty locations or not.
    for include_empty in (False, True):
        added = region_averages_of(league_table(q2(), include_empty=include_empty))
        assert [(r.name, r.figure.visits, r.figure.grade) for r in added] == [
            (r.name, r.figure.visits, r.figure.grade) for r in region_averages(q2())]
        for mine, full in zip(added, region_averages(q2()), strict=True):
            assert (mine.figure.score, mine.figure.low) == (pytest.approx(full.figure.score),
                                                            pytest.approx(full.figure.low))


def test_rank_failures_and_visit_list(network):
    # With at most two visits a location, nobody is ranked at the default minimum of three.
    ranks = location_ranks(q2(), network["b1"])
    assert (ranks.network, ranks.region, ranks.min_visits) == (None, None, 3)
    table = league_table(q2(), min_visits=1)
    # One or two visits each: every interval overlaps the others, so any place from 1 to 3 is possible.
    assert [(r.name, r.rank) for r in table.rows] == [("B1", (1, 3)), ("A1", (1, 3)), ("A2", (1, 3))]
    assert recurring_failures(q2(location_id=network["a1"].id)) == []  # failed once in Q2, once in Q1
    half = Filters(Period(date(2024, 1, 1), date(2024, 6, 30)), programme="sample-visit")
    recurring = recurring_failures(half.replace(location_id=network["a1"].id))
    assert [(f.question_id, f.failures, f.asked) for f in recurring] == [("offer", 2, 3), ("tone", 2, 3)]
    assert recurring[0].text == "Offered a bag"
    top = failing_questions(q2(), limit=3)
    assert [(f.question_id, f.failures) for f in top] == [("greeted", 1), ("offer", 1), ("tone", 1)]
    assert failing_questions(q2(scope=frozenset({network["south"].id}))) == []
    greeted = [f for f in failing_questions(q2()) if f.question_id == "greeted"][0]
    assert greeted.critical_failures == 1 and greeted.asked == 5 and greeted.rate == pytest.approx(20)
    scores = visit_scores(q2(location_id=network["a2"].id))
    assert [round(s.score) for s in scores] == [0, 100]
    points = trend(q2(location_id=network["a1"].id), Q2.series(2))
    assert [t.visits for t in points] == [1, 2]
