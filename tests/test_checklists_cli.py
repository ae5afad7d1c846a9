"""`flask checklists validate|score|sync`, the example checklists, and storing versions."""
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from app.checklists.loader import load_checklist_dir, load_checklist_file
from app.checklists.sync import latest_versions, sync_checklists
from app.models import ChecklistVersion

REPO_CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"
EXAMPLES = ("bank-branch-ru.yaml", "phone-call.yaml", "retail-store-visit.yaml")

SMALL = textwrap.dedent("""\
    id: small
    version: 1
    title: Small visit
    sections:
      - id: main
        title: Main
        questions:
          - {id: greeted, text: Greeted?, type: yes_no, critical: true}
          - {id: tone, text: Tone, type: scale}
""")


@pytest.fixture
def folder(tmp_path) -> Path:
    """Return an empty checklists folder."""
    path = tmp_path / "checklists"
    path.mkdir()
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- validate --------------------------------------------------------------------------------------

def test_validate_default_folder_has_the_valid_examples(app, runner):
    assert Path(app.config["CHECKLISTS_DIR"]) == REPO_CHECKLISTS
    result = runner.invoke(args=["checklists", "validate"])
    assert result.exit_code == 0, result.output
    assert "retail-store-visit.yaml: ok — retail-store-visit v3, 7 sections, 34 questions" in result.output
    assert "phone-call.yaml: ok — phone-call v2, 4 sections, 18 questions" in result.output
    assert "bank-branch-ru.yaml: ok — bank-branch-ru v1, 6 sections, 25 questions" in result.output


def test_validate_reports_file_line_and_message(runner, folder):
    bad = write(folder / "bad.yaml", SMALL.replace("type: scale}", "type: scale, min: 5, max: 3}"))
    good = write(folder / "good.yml", SMALL.replace("id: small", "id: good"))
    result = runner.invoke(args=["checklists", "validate", str(bad), str(good)])
    assert result.exit_code == 1
    assert f'{bad}:9: question "tone": scale max (3) must be greater than min (5)' in result.stderr
    assert f"{good}: ok — good v1, 1 section, 2 questions" in result.stdout


def test_validate_folder_with_one_bad_file(runner, folder):
    write(folder / "a.yaml", SMALL)
    write(folder / "b.yaml", SMALL.replace("id: small", "id: other").replace("type: yes_no", "type: yesno"))
    result = runner.invoke(args=["checklists", "validate", str(folder)])
    assert result.exit_code == 1
    assert "a.yaml: ok — small v1" in result.stdout
    assert "b.yaml:8: question \"greeted\": unknown question type 'yesno' (did you mean 'yes_no'?)" in result.stderr


def test_validate_missing_file_and_empty_folder(runner, folder):
    result = runner.invoke(args=["checklists", "validate", str(folder / "nope.yaml"), str(folder)])
    assert result.exit_code == 1
    assert "nope.yaml: cannot read the file" in result.stderr
    assert "no checklist files (*.yaml, *.yml)" in result.stderr


# -- score -----------------------------------------------------------------------------------------

def test_score_prints_the_result(runner, folder):
    checklist = write(folder / "small.yaml", SMALL)
    answers = write(folder / "answers.json", json.dumps({"greeted": "yes", "tone": {"value": 3, "comment": "ok"}}))
    result = runner.invoke(args=["checklists", "score", str(checklist), str(answers)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["score"] == pytest.approx(100 * 1.5 / 2)
    assert data["grade"] == "Good"
    assert data["sections"] == {"main": 75.0}
    assert data["critical_failures"] == []
    assert data["questions"]["tone"]["comment"] == "ok"


def test_score_keeps_scores_unrounded_and_null(runner, folder):
    checklist = write(folder / "c.yaml", SMALL.replace("type: scale}", "type: scale, max: 4}"))
    answers = write(folder / "a.json", json.dumps({"greeted": "no", "tone": 3}))
    data = json.loads(runner.invoke(args=["checklists", "score", str(checklist), str(answers)]).stdout)
    assert data["score"] == 0.0 and data["critical_failures"] == ["greeted"]
    assert data["sections"]["main"] == 100 * (2 / 3) / 2


def test_score_invalid_answers_name_the_question(runner, folder):
    checklist = write(folder / "small.yaml", SMALL)
    answers = write(folder / "answers.json", json.dumps({"greeted": "maybe", "tone": 9, "ghost": 1}))
    result = runner.invoke(args=["checklists", "score", str(checklist), str(answers)])
    assert result.exit_code == 1
    assert f"{answers}: question \"greeted\": expected \"yes\" or \"no\", got 'maybe'" in result.stderr
    assert 'question "tone": 9 is outside the scale 1..5' in result.stderr
    assert 'question "ghost": unknown question id' in result.stderr


def test_score_missing_required_answer(runner, folder):
    checklist = write(folder / "small.yaml", SMALL)
    answers = write(folder / "answers.json", json.dumps({"greeted": "yes"}))
    result = runner.invoke(args=["checklists", "score", str(checklist), str(answers)])
    assert result.exit_code == 1
    assert 'question "tone": an answer is required' in result.stderr


def test_score_bad_json_and_bad_checklist(runner, folder):
    checklist = write(folder / "small.yaml", SMALL)
    answers = write(folder / "answers.json", '{"greeted": "yes",\n}')
    result = runner.invoke(args=["checklists", "score", str(checklist), str(answers)])
    assert result.exit_code == 1 and f"{answers}:2: not valid JSON" in result.stderr
    broken = write(folder / "broken.yaml", "id: [\n")
    result = runner.invoke(args=["checklists", "score", str(broken), str(answers)])
    assert result.exit_code == 1 and "YAML syntax error" in result.stderr


def test_score_an_example_visit(runner, tmp_path):
    answers = {
        "greeted_30s": {"value": "no", "comment": "Staff were restocking and did not look up."},
        "eye_contact": "yes", "greeting_tone": 4, "name_badge": "na", "staff_on_floor": 3,
        "open_questions": "yes", "questions_count": "two_plus", "listened": 5, "budget_asked": "no",
        "needs_summarised": "yes", "features_explained": 4, "fitting_offer": "fits", "alternative_offered": "yes",
        "cross_sell": "relevant", "objection_handling": 3, "misleading_info": "no",
        "wait_for_consultant": "1:30", "queue_at_till": 1, "purchased": "yes", "checkout_wait": 95,
        "receipt_given": "yes", "payment_options": "yes", "loyalty_offered": "mentioned",
        "entrance_clean": "yes", "shelves_tidy": 5, "price_tags": "yes", "fitting_room_clean": "na",
        "shelf_photo": ["photo-1"], "thanked": "yes", "invited_back": "no", "overall_impression": 4,
    }
    path = write(tmp_path / "answers.json", json.dumps(answers))
    result = runner.invoke(args=["checklists", "score", str(REPO_CHECKLISTS / "retail-store-visit.yaml"), str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["critical_failures"] == []
    assert data["questions"]["no_purchase_reason"]["status"] == "hidden"
    assert data["questions"]["poor_impression_details"]["status"] == "hidden"
    sections = {  # points / max, worked out by hand from the YAML weights
        "greeting": 2.5 / 6, "needs": 4.5 / 5.5, "product": 7.25 / 8, "service_time": (2 * 0.875 + 1) / 3,
        "checkout": 3.5 / 4, "cleanliness": 1.0, "farewell": 2.5 / 3.5,
    }
    assert data["sections"] == pytest.approx({sid: 100 * share for sid, share in sections.items()})
    weights = {"greeting": 2, "needs": 2, "product": 3, "service_time": 1, "checkout": 2, "cleanliness": 1,
               "farewell": 1}
    expected = sum(weights[sid] * 100 * share for sid, share in sections.items()) / sum(weights.values())
    assert data["score"] == pytest.approx(expected)
    assert data["grade"] == "Good"


# -- the example checklists ------------------------------------------------------------------------

def test_examples_use_every_feature_of_the_format():
    loaded, errors = load_checklist_dir(REPO_CHECKLISTS)
    assert errors == []
    assert sorted(Path(item.path).name for item in loaded) == sorted(EXAMPLES)
    questions = [q for item in loaded for q in item.checklist.questions]
    assert {q.type for q in questions} == {"yes_no", "scale", "choice", "number", "duration", "text", "photo"}
    numbers = [q for q in questions if q.type == "number"]
    assert any(q.is_scored for q in numbers) and any(not q.is_scored for q in numbers)
    assert any(q.type == "scale" and q.labels for q in questions)
    assert any(q.show_if and q.show_if.in_ is None for q in questions)
    assert any(q.show_if and q.show_if.in_ for q in questions)
    assert any(q.allow_na for q in questions)
    assert any(q.comment == "required_on_fail" for q in questions)
    assert any(q.critical for q in questions)
    assert {item.checklist.critical_policy for item in loaded} == {"fail_visit", "flag"}
    assert any(q.weight not in (None, 1.0) for q in questions)
    assert any(s.weight != 1.0 for item in loaded for s in item.checklist.sections)
    assert any(item.checklist.grades[0].label == "Отлично" for item in loaded)
    retail = load_checklist_file(REPO_CHECKLISTS / "retail-store-visit.yaml").checklist
    assert 25 <= retail.question_count <= 35


def test_russian_example_is_in_russian_with_ascii_ids():
    checklist = load_checklist_file(REPO_CHECKLISTS / "bank-branch-ru.yaml").checklist
    assert all(q.id.isascii() for q in checklist.questions)
    assert all(any("а" <= ch <= "я" for ch in q.text.lower()) for q in checklist.questions)


# -- sync ------------------------------------------------------------------------------------------

def stored(db) -> list[tuple[str, int]]:
    query = select(ChecklistVersion).order_by(ChecklistVersion.checklist_id, ChecklistVersion.version)
    rows = db.session.execute(query)
    return [(row.checklist_id, row.version) for row in rows.scalars()]


def test_sync_command_stores_the_examples_once(app, db, runner, folder):
    for name in EXAMPLES:
        shutil.copy(REPO_CHECKLISTS / name, folder / name)
    app.config["CHECKLISTS_DIR"] = str(folder)
    result = runner.invoke(args=["checklists", "sync"])
    assert result.exit_code == 0, result.output
    assert "3 added, 0 updated, 0 unchanged, 0 refused, 0 rejected" in result.stdout
    assert stored(db) == [("bank-branch-ru", 1), ("phone-call", 2), ("retail-store-visit", 3)]
    again = runner.invoke(args=["checklists", "sync"])
    assert "0 added, 0 updated, 3 unchanged" in again.stdout
    version = db.session.execute(select(ChecklistVersion).filter_by(checklist_id="bank-branch-ru")).scalar_one()
    assert version.title == "Визит в отделение банка" and version.channel == "store"
    assert version.checklist.question("greeted").text == "Сотрудник поздоровался первым?"
    assert version.source_text == (folder / "bank-branch-ru.yaml").read_text(encoding="utf-8")


def test_sync_updates_an_unused_version_in_place(db, folder):
    path = write(folder / "small.yaml", SMALL)
    sync_checklists(folder)
    db.session.commit()
    write(path, SMALL.replace("title: Small visit", "title: Small visit, edited"))
    report = sync_checklists(folder)
    db.session.commit()
    assert report.updated and report.ok
    assert "updated in place (no visit used this version yet)" in report.done_lines()[0]
    version = db.session.execute(select(ChecklistVersion)).scalar_one()
    assert version.title == "Small visit, edited"
    assert version.checklist.title == "Small visit, edited"


def test_sync_refuses_a_changed_version_that_visits_use(db, folder, make_visit):
    path = write(folder / "small.yaml", SMALL)
    sync_checklists(folder)
    db.session.commit()
    version = db.session.execute(select(ChecklistVersion)).scalar_one()
    make_visit(checklist_version=version)
    write(path, SMALL.replace("type: scale}", "type: scale, weight: 3}"))
    report = sync_checklists(folder)
    assert not report.ok
    assert report.problem_lines() == [
        f"{path}: content changed but version 1 was not bumped; visits already use it — bump `version`"
    ]
    write(path, SMALL.replace("type: scale}", "type: scale, weight: 3}").replace("version: 1", "version: 2"))
    report = sync_checklists(folder)
    db.session.commit()
    assert report.ok and len(report.added) == 1
    assert stored(db) == [("small", 1), ("small", 2)]
    assert [(v.checklist_id, v.version) for v in latest_versions()] == [("small", 2)]


def test_sync_reports_bad_files_and_syncs_the_others(app, db, runner, folder):
    write(folder / "good.yaml", SMALL)
    write(folder / "bad.yaml", SMALL.replace("id: small", "id: bad").replace("title: Small visit\n", ""))
    result = runner.invoke(args=["checklists", "sync", str(folder)])
    assert result.exit_code == 1
    assert "bad.yaml:1: missing required key 'title'" in result.stderr
    assert "1 added, 0 updated, 0 unchanged, 0 refused, 1 rejected" in result.stdout
    assert stored(db) == [("small", 1)]


def test_latest_versions_picks_the_newest_of_each(db, folder):
    write(folder / "small-v1.yaml", SMALL)
    write(folder / "small-v3.yaml", SMALL.replace("version: 1", "version: 3"))
    other = SMALL.replace("id: small", "id: other").replace("title: Small visit", "title: Another")
    write(folder / "other.yaml", other)
    sync_checklists(folder)
    db.session.commit()
    assert [(v.checklist_id, v.version) for v in latest_versions()] == [("other", 1), ("small", 3)]
