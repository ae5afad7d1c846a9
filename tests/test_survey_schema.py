"""Survey YAML: the shipped survey loads, and mistakes are reported with file, line and words."""
import textwrap
from pathlib import Path

import pytest

from app.surveydefs.loader import SurveyError, load_survey_dir, load_survey_file, parse_survey

REPO = Path(__file__).resolve().parent.parent
GOOD = textwrap.dedent("""\
    id: shop-feedback
    version: 2
    title: {en: How was it?, ru: Как всё прошло?}
    languages: [en, ru]
    metrics:
      csat:
        text: {en: Satisfied?, ru: Довольны?}
      nps:
        text: {en: Recommend us?, ru: Порекомендуете?}
        low: {en: No, ru: Нет}
        high: {en: Yes, ru: Да}
        required: true
    why:
      text: {en: Why?, ru: Почему?}
    questions:
      - id: came_for
        type: choice
        text: {en: You came for, ru: Вы пришли}
        options:
          - {value: buy, label: {en: Buying, ru: Покупка}}
          - {value: 2, label: {en: Other, ru: Другое}}
      - id: again
        type: yes_no
        text: Again? / Снова?
    thank_you: {en: Thanks!, ru: Спасибо!}
""")


def problems(text: str) -> list[str]:
    with pytest.raises(SurveyError) as caught:
        parse_survey(text, "checklists/surveys/bad.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_shipped_surveys_are_valid_and_bilingual():
    loaded, errors = load_survey_dir(REPO / "checklists" / "surveys")
    assert errors == []
    survey = next(item.survey for item in loaded if item.survey.id == "customer-feedback")
    assert survey.languages == ["en", "ru"]
    assert [name for name, _ in survey.metrics.items()] == ["nps", "csat", "ces"]
    assert survey.why is not None and survey.questions
    assert "Спасибо" in survey.text(survey.thank_you, "ru")
    assert survey.text(survey.thank_you, "de") == survey.text(survey.thank_you, "en")  # falls back to the first


def test_good_survey_keeps_metric_order_and_texts():
    survey = parse_survey(GOOD)
    assert [name for name, _ in survey.metrics.items()] == ["csat", "nps"]
    assert survey.metrics.nps.required and not survey.metrics.csat.required
    assert survey.question("came_for").answer_values() == ("buy", "2")  # YAML numbers become text values
    assert survey.question("again").answer_values() == ("yes", "no")
    assert survey.text(survey.question("again").text, "ru") == "Again? / Снова?"  # one text for all languages


@pytest.mark.parametrize("change, expected", [
    (("version: 2", "version: 0"), "bad.yaml:2: version must be more than 0, not 0"),
    (("  csat:\n", "  csta:\n"), "bad.yaml:6: unknown key 'csta' (did you mean 'csat'?)"),
    (("    required: true", "    requird: true"),
     "bad.yaml:12: metric \"nps\": unknown key 'requird' (did you mean 'required'?)"),
    (("title: {en: How was it?, ru: Как всё прошло?}", "title: {en: How was it?}"),
     "bad.yaml:3: title has no translation for ru (languages: en, ru)"),
    (("thank_you: {en: Thanks!, ru: Спасибо!}", "thank_you: {en: Thanks!, ru: Спасибо!, de: Danke!}"),
     "bad.yaml:25: thank_you has a 'de' text, but 'de' is not one of the survey's languages (en, ru)"),
    (("    type: yes_no", "    type: yesno"),
     "bad.yaml:23: question \"again\": type must be one of 'choice', 'yes_no' or 'text', not 'yesno'"
     " (did you mean 'yes_no'?)"),
    (("{value: 2, label", "{value: buy, label"),
     "bad.yaml:21: question \"came_for\", option 2: option value 'buy' is used twice"),
    (("  - id: again", "  - id: came_for"), "question id 'came_for' is used twice"),
    (("languages: [en, ru]", "languages: [en, RU]"), "bad.yaml:4: 'RU' is not a language code such as en or ru"),
    (("id: shop-feedback", "id: Shop feedback"), "bad.yaml:1: id 'Shop feedback' may use only lowercase letters"),
    (("  text: {en: Why?, ru: Почему?}", "  text: {en: Why?, ru: Почему?}\n  max_length: 0"),
     "the \"why\" question: max_length must be more than 0, not 0"),
    (("thank_you: {en: Thanks!, ru: Спасибо!}\n", ""), "bad.yaml:1: missing required key 'thank_you'"),
])
def test_mistakes_name_the_line_and_the_problem(change, expected):
    text = GOOD.replace(*change)
    assert text != GOOD
    found = problems(text)
    assert any(expected in problem for problem in found), found


def test_every_problem_of_a_file_is_reported_at_once():
    text = GOOD.replace("version: 2", "version: -1").replace("  csat:\n", "  csta:\n")
    found = problems(text)
    assert len(found) == 2
    assert found[0].startswith("checklists/surveys/bad.yaml:2:")


@pytest.mark.parametrize("text, expected", [
    ("", "the file is empty"),
    ("- a\n- b\n", "a survey must be a mapping of keys"),
    ("id: [\n", "YAML syntax error"),
    ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)), "alias bomb"),
    ("id: x\nversion: 1\ntitle: t\nmetrics: {}\nthank_you: t\n", "metrics needs at least one of nps, csat, ces"),
    ("id: x\nversion: 1\ntitle: t\nmetrics: {nps: 5}\nthank_you: t\n", "nps must be a mapping of keys (text)"),
    ("id: x\nversion: 1\ntitle: [t]\nmetrics: {nps: {text: a}}\nthank_you: t\n",
     "title must be text or a mapping of languages to texts"),
    ("id: x\nversion: 1\ntitle: t\nmetrics: {nps: {text: a}}\nthank_you: t\n"
     "questions: [{id: a, type: choice, text: b}]\n", "a choice question needs `options`"),
])
def test_broken_documents_are_refused_with_a_reason(text, expected):
    assert any(expected in problem for problem in problems(text))


def test_a_bad_file_is_rejected_whole_and_the_others_load(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(GOOD.replace("id: shop-feedback", "id: other\nwieght: 2"), encoding="utf-8")
    (tmp_path / "latin1.yaml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    loaded, errors = load_survey_dir(tmp_path)
    assert [item.survey.id for item in loaded] == ["shop-feedback"]
    messages = sorted(str(error) for error in errors)
    assert len(messages) == 2
    assert "bad.yaml:2: unknown key 'wieght'" in messages[0]
    assert "latin1.yaml:1: the file is not UTF-8 text" in messages[1]


def test_same_id_and_version_in_two_files_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    loaded, errors = load_survey_dir(tmp_path)
    assert len(loaded) == 1
    assert "version 2 is also defined in" in str(errors[0])


def test_single_file_loader_reports_missing_files(tmp_path):
    with pytest.raises(SurveyError, match="cannot read the file"):
        load_survey_file(tmp_path / "missing.yaml")


def test_validate_command_checks_files_without_a_server(runner, tmp_path):
    result = runner.invoke(args=["surveys", "validate"])
    assert result.exit_code == 0, result.output
    assert "customer-feedback v1, NPS, CSAT, CES" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("    required: true", "    requird: true"), encoding="utf-8")
    result = runner.invoke(args=["surveys", "validate", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml:12: metric \"nps\": unknown key 'requird' (did you mean 'required'?)" in result.output


def test_an_extra_question_that_is_not_a_mapping_names_its_keys():
    text = GOOD.replace("  - id: again", "  - 5\n  - id: again")
    assert problems(text) == [
        "checklists/surveys/bad.yaml:22: question 2 must be a mapping of keys (id, text, type), not 5"
    ]


def test_validate_command_reports_a_folder_like_checklists_validate(runner, tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD.replace("id: shop-feedback", "id: other").replace("version: 2", "version: x"),
                                     encoding="utf-8")
    result = runner.invoke(args=["surveys", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert ("a.yaml: ok — shop-feedback v2, CSAT, NPS, 2 extra question(s), languages en, ru"
            in result.stdout)
    assert "b.yaml:2: version must be a whole number, not 'x'" in result.stderr
    assert "b.yaml" not in result.stdout


def test_validate_command_missing_file_and_empty_folder(runner, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(args=["surveys", "validate", str(tmp_path / "nope.yaml"), str(empty)])
    assert result.exit_code == 1
    assert "nope.yaml: cannot read the file" in result.stderr
    assert "empty: no survey files (*.yaml, *.yml)" in result.stderr
