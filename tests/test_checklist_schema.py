"""Checklist validation (contract section 2): every broken rule names the file, the line and the problem."""
import hashlib
import textwrap

import pytest

from app.checklists.loader import (
    ChecklistError,
    ChecklistProblem,
    load_checklist_dir,
    load_checklist_file,
    parse_checklist,
)
from app.checklists.schema import Checklist

PATH = "checklists/store.yaml"

BASE = textwrap.dedent("""\
    id: store
    version: 3
    title: Store visit
    sections:
      - id: greeting
        title: Greeting and tone
        weight: 2
        questions:
          - id: greeted
            text: Greeted within 30 seconds?
            type: yes_no
          - id: tone
            text: Tone of voice
            type: scale
            min: 1
            max: 5
      - id: service
        title: Service
        questions:
          - id: wait
            text: Waiting time
            type: duration
            target: 60
            limit: 300
          - id: bag
            text: Bag offered
            type: choice
            options:
              - {value: full, label: Offered and packed, score: 1}
              - {value: none, label: Not offered, score: 0}
""")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """Return the 1-based line of the n-th line that contains `needle`."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def insert_after(text: str, anchor: str, *lines: str) -> str:
    """Return text with `lines` added after the first line containing `anchor`, indented like it."""
    out = text.splitlines(keepends=True)
    index = line_of(text, anchor) - 1
    indent = out[index][: len(out[index]) - len(out[index].lstrip())]
    out[index + 1:index + 1] = [indent + line + "\n" for line in lines]
    return "".join(out)


def problems_of(text: str) -> list[ChecklistProblem]:
    """Return the problems parse_checklist reports for `text` (failing if it parses)."""
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, PATH)
    return caught.value.problems


def only_problem(text: str) -> ChecklistProblem:
    """Return the single problem reported for `text`."""
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def test_base_is_valid():
    checklist = parse_checklist(BASE, PATH)
    assert [q.id for q in checklist.questions] == ["greeted", "tone", "wait", "bag"]


def test_message_format_names_file_line_and_question():
    text = BASE.replace("min: 1\n        max: 5", "min: 5\n        max: 3")
    problem = only_problem(text)
    line = line_of(text, "max: 3")
    assert str(problem) == f'{PATH}:{line}: question "tone": scale max (3) must be greater than min (5)'
    assert problem.line == line_of(text, "max: 3")


def test_bad_yaml_syntax():
    text = BASE.replace("title: Service", "title: [Service")
    problem = only_problem(text)
    assert problem.message.startswith("YAML syntax error:")
    assert f"flow sequence started on line {line_of(text, '[Service')}" in problem.message


def test_bad_indentation():
    text = BASE.replace("        text: Tone of voice", "       text: Tone of voice")
    problem = only_problem(text)
    assert problem.message.startswith("YAML syntax error:")
    assert problem.line in (line_of(text, "Tone of voice"), line_of(text, "Tone of voice") + 1)


def test_unknown_key_suggests_the_right_one():
    text = BASE.replace("        type: yes_no\n", "        type: yes_no\n        wieght: 2\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "wieght")
    assert problem.message == "question \"greeted\": unknown key 'wieght' (did you mean 'weight'?)"


def test_unknown_top_level_key():
    text = BASE.replace("title: Store visit", "title: Store visit\nchanel: store")
    problem = only_problem(text)
    assert (problem.line, problem.message) == (4, "unknown key 'chanel' (did you mean 'channel'?)")


def test_key_of_another_question_type():
    text = BASE.replace("        min: 1\n", "        options: []\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "options: []")
    assert problem.message == "question \"tone\": key 'options' does not apply to a scale question (only to choice)"


def test_duplicate_question_id():
    text = BASE.replace("id: bag", "id: greeted")
    problem = only_problem(text)
    assert problem.line == line_of(text, "- id: greeted", 2)
    assert problem.message == "question \"greeted\": question id 'greeted' is used twice (first in section 'greeting')"


def test_duplicate_section_id():
    text = BASE.replace("- id: service", "- id: greeting")
    problem = only_problem(text)
    assert problem.line == line_of(text, "- id: greeting", 2)
    assert problem.message == "section \"greeting\": section id 'greeting' is used twice"


def test_duplicate_yaml_key():
    text = BASE.replace("        max: 5\n", "        max: 5\n        max: 7\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "max: 7")
    assert problem.message == f"duplicate key 'max' (first given on line {line_of(text, 'max: 5')})"


def test_missing_required_key_in_question():
    text = BASE.replace("        text: Waiting time\n", "")
    problem = only_problem(text)
    assert problem.line == line_of(text, "- id: wait")
    assert problem.message == "question \"wait\": missing required key 'text'"


def test_missing_required_top_level_key():
    text = BASE.replace("title: Store visit\n", "")
    assert only_problem(text).message == "missing required key 'title'"


def test_missing_question_type():
    text = BASE.replace("        type: yes_no\n", "")
    problem = only_problem(text)
    assert problem.line == line_of(text, "- id: greeted")
    assert problem.message.startswith("question \"greeted\": missing required key 'type' (one of: yes_no, scale")


def test_unknown_question_type():
    text = BASE.replace("type: yes_no", "type: yesno")
    problem = only_problem(text)
    assert problem.line == line_of(text, "- id: greeted")
    assert problem.message.startswith("question \"greeted\": unknown question type 'yesno' (did you mean 'yes_no'?)")


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("version: 3", "version: three", "version:", "version must be a whole number, not 'three'"),
        ("weight: 2", "weight: heavy", "weight:", 'section "greeting": weight must be a number, not \'heavy\''),
        ("target: 60", "target: 1.5", "target:", 'question "wait": target must be a whole number, not 1.5'),
        ("title: Store visit", "title: [a, b]", "title:", "title must be text, not a list"),
        ("max: 5", "max: true", "max:", 'question "tone": max must be a whole number, not true'),
        ("id: store", "id: Store Visit", "id: Store", "id 'Store Visit' may use only lowercase letters a-z,"
                                                     " digits and '-'"),
        ("id: wait", "id: Wait-time", "Wait-time", "question \"Wait-time\": id 'Wait-time' may use only lowercase"
                                                   " letters a-z, digits and '_'"),
        ("id: wait", "id: [wait]", "id: [wait]", "question 1 of section \"service\": id must be text, not a list"),
    ],
)
def test_wrong_types(old, new, needle, message):
    text = BASE.replace(old, new, 1)
    problem = only_problem(text)
    assert (problem.line, problem.message) == (line_of(text, needle), message)


def test_wrong_channel_suggests():
    text = BASE.replace("title: Store visit", "title: Store visit\nchannel: stor")
    problem = only_problem(text)
    assert problem.line == 4
    assert problem.message.startswith("channel must be one of 'store', 'phone'")
    assert problem.message.endswith("not 'stor' (did you mean 'store'?)")


def test_section_that_is_not_a_mapping():
    text = BASE + "  - just a title\n"
    problem = only_problem(text)
    assert problem.line == line_of(text, "just a title")
    assert problem.message == "section 3 must be a mapping of keys (id, title, questions), not 'just a title'"


def test_question_that_is_not_a_mapping():
    text = BASE + "      - just a question\n"
    problem = only_problem(text)
    assert problem.line == line_of(text, "just a question")
    assert problem.message == (
        'question 3 of section "service" must be a mapping of keys (id, text, type), not \'just a question\''
    )


def test_section_without_questions():
    text = BASE.split("    questions:")[0] + "    questions: []\n"
    problem = only_problem(text)
    assert (problem.line, problem.message) == (
        line_of(text, "questions: []"), 'section "greeting": questions needs at least one question'
    )


def test_show_if_unknown_question():
    text = insert_after(BASE, "type: duration", "show_if: {question: nope, equals: 1}")
    problem = only_problem(text)
    assert problem.line == line_of(text, "show_if")
    assert problem.message == (
        "question \"wait\": show_if names 'nope', which is not an earlier question in this checklist"
        " (a condition can only depend on a question asked before it)"
    )


def test_show_if_later_question():
    text = insert_after(BASE, "type: yes_no", "show_if: {question: bag, equals: full}")
    problem = only_problem(text)
    assert problem.line == line_of(text, "show_if")
    assert problem.message.startswith("question \"greeted\": show_if names 'bag', which is not an earlier question")


def test_show_if_value_that_can_never_be_answered():
    text = insert_after(BASE, "type: choice", "show_if: {question: greeted, equals: maybe}")
    problem = only_problem(text)
    assert problem.line == line_of(text, "show_if")
    assert problem.message == (
        "question \"bag\": show_if value 'maybe' can never be an answer of 'greeted': expected \"yes\" or \"no\","
        " got 'maybe'"
    )


def test_show_if_needs_equals_or_in():
    text = BASE.replace("        type: choice\n", "        type: choice\n        show_if: {question: greeted}\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "show_if")
    assert problem.message == "question \"bag\": show_if needs `equals: VALUE` or `in: [VALUE, ...]`"


def test_choice_without_options():
    text = BASE.split("        options:")[0]
    problem = only_problem(text)
    assert problem.line == line_of(text, "- id: bag")
    assert problem.message == "question \"bag\": missing required key 'options'"


def test_choice_with_empty_options():
    text = BASE.split("        options:")[0] + "        options: []\n"
    problem = only_problem(text)
    assert problem.line == line_of(text, "options: []")
    assert problem.message == 'question "bag": options needs at least one option'


def test_choice_with_duplicate_values():
    text = BASE.replace("{value: none, label: Not offered", "{value: full, label: Not offered")
    problem = only_problem(text)
    assert problem.line == line_of(text, "label: Not offered")
    assert problem.message == "question \"bag\", option 2: option value 'full' is used twice"


@pytest.mark.parametrize("blank", ['""', '"  "'])
def test_choice_option_without_a_value(blank):
    text = BASE.replace("{value: none, label: Not offered", f"{{value: {blank}, label: Not offered")
    problem = only_problem(text)
    assert problem.line == line_of(text, "label: Not offered")
    assert problem.message == 'question "bag", option 2: an option needs a value'


@pytest.mark.parametrize("score", ["1.5", "-0.5"])
def test_option_score_outside_0_1(score):
    text = BASE.replace("label: Not offered, score: 0}", f"label: Not offered, score: {score}}}")
    problem = only_problem(text)
    assert problem.line == line_of(text, "label: Not offered")
    assert problem.message == f'question "bag", option 2: score must be between 0 and 1, not {score}'


def test_duration_target_not_below_limit():
    text = BASE.replace("target: 60", "target: 300")
    problem = only_problem(text)
    assert (problem.line, problem.message) == (
        line_of(text, "target: 300"), 'question "wait": target (300 s) must be less than limit (300 s)'
    )


def test_number_target_not_below_limit():
    text = BASE.replace("type: duration", "type: number").replace("target: 60", "target: 500")
    problem = only_problem(text)
    assert (problem.line, problem.message) == (
        line_of(text, "target: 500"), 'question "wait": target (500) must be less than limit (300)'
    )


def test_number_with_target_but_no_limit():
    text = BASE.replace("type: duration", "type: number").replace("        limit: 300\n", "")
    problem = only_problem(text)
    assert problem.line == line_of(text, "target: 60")
    assert problem.message == (
        'question "wait": number question has target but no limit: give both to score it, or neither'
    )


def test_weight_on_unscored_question():
    text = BASE.replace("        type: yes_no\n", "        type: text\n        weight: 2\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "weight: 2", 2)
    assert problem.message == 'question "greeted": a text question carries no points, so it cannot have a weight'


def test_critical_unscored_question():
    text = BASE.replace("        type: yes_no\n", "        type: photo\n        critical: true\n")
    problem = only_problem(text)
    assert (problem.line, problem.message) == (
        line_of(text, "critical: true"), 'question "greeted": a photo question is not scored, so it cannot be critical'
    )


def test_scale_label_outside_the_scale():
    text = BASE.replace("        max: 5\n", "        max: 5\n        labels: {1: Rude, 7: Warm}\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "labels")
    assert problem.message == 'question "tone": label 7 is outside the scale 1..5'


def test_grade_bands_must_cover_zero():
    text = BASE.replace("sections:", "grades:\n  - {min: 90, label: Excellent}\n  - {min: 50, label: Fair}\nsections:")
    problem = only_problem(text)
    assert problem.line == line_of(text, "label: Fair")
    assert problem.message == (
        "grade band 2: grade bands must cover 0: the lowest band starts at 50, so lower scores would get no grade"
        " (add a band with min: 0)"
    )


def test_grade_band_min_out_of_range():
    text = BASE.replace("sections:", "grades:\n  - {min: 120, label: Superb}\n  - {min: 0, label: Fair}\nsections:")
    problem = only_problem(text)
    assert problem.line == line_of(text, "Superb")
    assert problem.message == "grade band 1: min must be between 0 and 100, not 120"


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "a list"), ("just words\n", "a single value")])
def test_document_that_is_not_a_mapping(text, kind):
    problem = only_problem(text)
    assert (problem.line, problem.message) == (
        1, f"a checklist must be a mapping of keys (id, version, title, sections), not {kind}"
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_document(text):
    assert only_problem(text).message == "the file is empty"


def test_more_than_one_document():
    problem = only_problem(BASE + "---\nid: other\n")
    assert problem.message == "the file holds more than one YAML document (remove the `---`)"


def test_oversized_document():
    text = BASE + "# " + "x" * (1024 * 1024) + "\n"
    problem = only_problem(text)
    assert problem.line is None
    assert problem.message.startswith("the file is too large (")


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(ChecklistError) as caught:
        load_checklist_file(path)
    assert "the file is too large (1,048,577 bytes; the limit is 1,048,576)" in str(caught.value)


def test_alias_bomb():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    problem = only_problem("\n".join(lines) + "\n")
    assert "expands to more than 1,000,000 values (an alias bomb?)" in problem.message


def test_recursive_alias():
    problem = only_problem("a: &a [1, *a]\n")
    assert (problem.line, problem.message) == (1, "alias *a refers to an unknown anchor or to itself")


def test_deep_nesting_is_refused_not_crashed():
    problem = only_problem("[" * 100_000)
    assert problem.message == "the document is nested more than 40 levels deep"


def test_python_tags_are_refused():
    text = BASE.replace("title: Store visit", "title: !!python/object/apply:os.system [ls]")
    assert only_problem(text).message == "unsupported YAML tag !!python/object/apply:os.system"


def test_aliases_and_merge_keys_work():
    text = insert_after(BASE, "type: yes_no", "<<: &common {allow_na: true, critical: true}")
    text = insert_after(text, "type: choice", "<<: *common", "critical: false")
    checklist = parse_checklist(text, PATH)
    assert checklist.question("greeted").allow_na and checklist.question("greeted").critical
    assert checklist.question("bag").allow_na and not checklist.question("bag").critical


def test_all_problems_are_reported_sorted_by_line():
    text = insert_after(BASE.replace("version: 3", "version: 0"), "type: yes_no", "wieght: 1")
    problems = problems_of(text)
    assert [p.line for p in problems] == [2, line_of(text, "wieght")]
    assert problems[0].message == "version must be more than 0, not 0"


def test_yaml_booleans_are_yes_no_answers():
    text = insert_after(BASE, "type: yes_no", "expected: false")
    text = insert_after(text, "type: choice", "show_if: {question: greeted, in: [true, no]}")
    checklist = parse_checklist(text, PATH)
    assert checklist.question("greeted").expected == "no"
    assert checklist.question("bag").show_if.values == ("yes", "no")


def test_yes_no_words_stay_text_where_text_is_expected():
    text = BASE.replace("label: Not offered", "label: No").replace("title: Service", "title: Yes")
    checklist = parse_checklist(text, PATH)
    assert checklist.question("bag").options[1].label == "No"
    assert checklist.sections[1].title == "Yes"


def test_defaults():
    text = BASE + textwrap.indent(textwrap.dedent("""\
        - id: notes
          text: Notes
          type: text
        - id: shelf
          text: Shelf photo
          type: photo
        - id: receipt
          text: Receipt photo
          type: photo
          required: true
    """), "      ")
    checklist = parse_checklist(text, PATH)
    greeted, notes, shelf, receipt = (checklist.question(q) for q in ("greeted", "notes", "shelf", "receipt"))
    assert (greeted.weight, greeted.required, greeted.expected, greeted.comment) == (1.0, True, "yes", "optional")
    assert (notes.required, notes.weight, notes.is_scored) == (False, None, False)
    assert (shelf.min_photos, shelf.max_photos, receipt.min_photos) == (0, 5, 1)
    assert checklist.critical_policy == "fail_visit" and checklist.shopper_sees_score is False
    assert [g.label for g in checklist.grades] == ["Excellent", "Good", "Needs improvement", "Poor"]


def test_numeric_ids_are_text():
    checklist = parse_checklist(BASE.replace("id: wait", "id: 42"), PATH)
    assert checklist.question("42").type == "duration"


def test_number_without_target_is_unscored():
    text = BASE.replace("type: duration", "type: number").replace("        target: 60\n        limit: 300\n", "")
    question = parse_checklist(text, PATH).question("wait")
    assert not question.is_scored and question.weight is None and question.required


def test_helpers():
    checklist = parse_checklist(BASE, PATH)
    assert checklist.section_of("bag").id == "service"
    assert checklist.question("tone").type == "scale"
    assert [checklist.grade_for(s) for s in (100, 90, 89.99, 75, 60, 59.9, 0, None)] == [
        "Excellent", "Excellent", "Good", "Good", "Needs improvement", "Poor", "Poor", None
    ]
    with pytest.raises(KeyError):
        checklist.question("nope")


def test_round_trip_through_json():
    text = insert_after(BASE, "type: choice", "show_if: {question: greeted, in: [yes]}")
    text = text.replace("        max: 5\n", "        max: 5\n        labels: {1: Rude, 5: Warm}\n")
    checklist = parse_checklist(text, PATH)
    dumped = checklist.model_dump(mode="json")
    again = Checklist.model_validate(dumped)
    assert again == checklist
    assert again.model_dump(mode="json") == dumped
    assert dumped["sections"][1]["questions"][1]["show_if"] == {"question": "greeted", "in": ["yes"]}


def test_bad_file_is_rejected_whole_and_others_load(tmp_path):
    (tmp_path / "a-good.yaml").write_text(BASE, encoding="utf-8")
    bad = BASE.replace("id: store", "id: other").replace("max: 5", "max: 0")
    (tmp_path / "b-bad.yml").write_text(bad, encoding="utf-8")
    (tmp_path / "c-not-utf8.yaml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    (tmp_path / "surveys").mkdir()
    (tmp_path / "surveys" / "nps.yaml").write_text("not: a checklist\n", encoding="utf-8")
    loaded, errors = load_checklist_dir(tmp_path)
    assert [item.checklist.id for item in loaded] == ["store"]
    assert len(errors) == 2
    assert errors[0].problems[0].message == 'question "tone": scale max (0) must be greater than min (1)'
    assert errors[0].problems[0].path.endswith("b-bad.yml")
    assert errors[1].problems[0].message == "the file is not UTF-8 text (byte 0xe9); save it as UTF-8"


def test_same_id_and_version_in_two_files_rejects_both(tmp_path):
    (tmp_path / "one.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "two.yaml").write_text(BASE.replace("title: Store visit", "title: Copy"), encoding="utf-8")
    (tmp_path / "three.yaml").write_text(BASE.replace("version: 3", "version: 4"), encoding="utf-8")
    loaded, errors = load_checklist_dir(tmp_path)
    assert [item.checklist.version for item in loaded] == [4]
    assert len(errors) == 2
    assert "checklist 'store' version 3 is also defined in" in str(errors[0])


def test_loaded_file_keeps_text_and_hash(tmp_path):
    path = tmp_path / "store.yaml"
    path.write_text(BASE, encoding="utf-8")
    loaded = load_checklist_file(path)
    assert loaded.source_text == BASE
    assert loaded.source_hash == hashlib.sha256(BASE.encode()).hexdigest()


def test_cyrillic_texts():
    text = BASE.replace("Greeting and tone", "Приветствие").replace("Tone of voice", "Тон общения")
    checklist = parse_checklist(text, PATH)
    assert checklist.sections[0].title == "Приветствие"
    assert checklist.question("tone").text == "Тон общения"
