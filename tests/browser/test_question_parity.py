"""The phone's form.js against the same table of cases as the Python question classes.

The form is the real one the server renders for a visit, so the data-* attributes each question
type writes (expected, min/max, target/limit, option scores, show_if) are part of what is tested.
"""
import pytest

from tests.browser.fill_helpers import open_form, sign_in
from tests.cases.question_types import CASES, CHECKLIST, DURATIONS, VISIBILITY

PARITY = """
async ({cases, durations, visibility}) => {
  const m = await import('/visits/static/form.js');
  const questions = m.readQuestions(document.getElementById('fill'));
  const byId = Object.fromEntries(questions.map((q) => [q.id, q]));
  return {
    cases: cases.map(([id, value]) => [m.fraction(byId[id], value), m.commentRequired(byId[id], value)]),
    durations: durations.map(([seconds, text]) => [m.formatDuration(seconds), m.parseDuration(text)]),
    hidden: visibility.map(([answers]) => [...m.hiddenQuestions(questions, (id) => answers[id] ?? null)].sort()),
  };
}
"""


@pytest.fixture
def visit(make_visit, make_checklist_version, shopper):
    return make_visit(shopper=shopper, checklist_version=make_checklist_version(CHECKLIST))


def test_form_js_follows_the_question_classes(page, live_server, shopper, visit):
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    got = page.evaluate(PARITY, {"cases": CASES, "durations": DURATIONS, "visibility": VISIBILITY})

    for (qid, value, fraction, comment_required), (js_fraction, js_comment) in zip(CASES, got["cases"], strict=True):
        if fraction is None:
            assert js_fraction is None, (qid, value)
        else:
            assert js_fraction == pytest.approx(fraction), (qid, value)
        assert js_comment is comment_required, (qid, value)
    assert got["durations"] == [[text, seconds] for seconds, text in DURATIONS]
    assert got["hidden"] == [sorted(hidden) for _answers, hidden in VISIBILITY]
