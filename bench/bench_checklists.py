"""Print how fast checklists validate and visits score, the app's scorer beside the plain reference.

Targets: 200 files of 100 questions validate in < 2 s; 10,000 visits of a 100-question
checklist score in < 1 s, and no slower than tests/reference_scoring.py (the rules written out
plainly) scores the same visits: ratio app/reference <= 1.0. Scoring figures are medians of
--rounds rounds (default 5). Run: python bench/bench_checklists.py [--rounds N] (on a quiet
machine: the wall time grows with other load, the CPU time much less).
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.checklists.loader import load_checklist_dir, parse_checklist  # noqa: E402
from app.scoring import score_visit  # noqa: E402
from tests.reference_scoring import reference_score  # noqa: E402

QUESTION_KINDS = ("yes_no", "scale", "choice", "duration", "number", "yes_no_na", "text", "conditional")


def question_yaml(index: int) -> list[str]:
    """Return the YAML lines of question `index`, cycling through every type."""
    kind = QUESTION_KINDS[index % len(QUESTION_KINDS)]
    head = [f"      - id: q{index}", f"        text: Question number {index}, as a shopper reads it?"]
    body = {
        "yes_no": ["        type: yes_no", "        weight: 2", "        comment: required_on_fail"],
        "scale": ["        type: scale", "        labels: {1: Poor, 3: Fair, 5: Excellent}"],
        "choice": ["        type: choice", "        options:", "          - {value: a, label: Full, score: 1}",
                   "          - {value: b, label: Partly, score: 0.5}", "          - {value: c, label: No, score: 0}"],
        "duration": ["        type: duration", "        target: 60", "        limit: 300"],
        "number": ["        type: number", "        unit: people", "        target: 2", "        limit: 6"],
        "yes_no_na": ["        type: yes_no", "        allow_na: true", "        critical: true"],
        "text": ["        type: text", "        max_length: 500"],
        "conditional": ["        type: yes_no", f"        show_if: {{question: q{index - 7}, in: [yes, true]}}"],
    }[kind]
    return head + body


def checklist_yaml(number: int, questions: int = 100, sections: int = 10) -> str:
    """Return a checklist of `questions` questions spread over `sections` sections."""
    lines = [f"id: bench-{number}", "version: 1", f"title: Benchmark checklist {number}", "channel: store",
             "sections:"]
    per_section = questions // sections
    for s in range(sections):
        lines += [f"  - id: s{s}", f"    title: Section {s}", f"    weight: {1 + s % 3}", "    questions:"]
        for q in range(s * per_section, (s + 1) * per_section):
            lines += question_yaml(q)
    return "\n".join(lines) + "\n"


def random_answers(checklist, rng: random.Random) -> dict:
    """Return a complete, valid set of answers, with comments where points are lost."""
    answers = {}
    for question in checklist.questions:
        kind = question.type
        if kind == "yes_no" and question.critical:  # critical failures are rare, or every score is 0
            value = "na" if rng.random() < 0.1 else ("no" if rng.random() < 0.01 else "yes")
        elif kind == "yes_no":
            value = rng.choice(["yes", "no"])
        elif kind == "scale":
            value = rng.randint(question.min, question.max)
        elif kind == "choice":
            value = rng.choice(question.options).value
        elif kind == "duration":
            value = rng.randint(0, 400)
        elif kind == "number":
            value = rng.randint(0, 8)
        else:
            value = "Seen and noted."
        answers[question.id] = {"value": value, "comment": "Explained."} if kind == "yes_no" else value
    return answers


def timed(scorers: dict[str, Callable[[dict], object]], visits: list[dict], rounds: int) -> dict[str, tuple]:
    """Return each scorer's median wall and CPU seconds for every visit, over `rounds` rounds.

    The scorers take turns within a round, so that a change of load on the machine falls on both.
    """
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in scorers}
    for _ in range(rounds):
        for name, score in scorers.items():
            started, cpu = time.perf_counter(), time.process_time()
            for answers in visits:
                score(answers)
            times[name].append((time.perf_counter() - started, time.process_time() - cpu))
    return {name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
            for name, runs in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="scoring rounds; medians are printed")
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        for number in range(200):
            Path(folder, f"bench-{number:03d}.yaml").write_text(checklist_yaml(number), encoding="utf-8")
        started, cpu = time.perf_counter(), time.process_time()
        loaded, errors = load_checklist_dir(folder)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert not errors and len(loaded) == 200, errors[:1]
    print(f"validate: 200 files x 100 questions in {elapsed:.3f} s, {cpu:.3f} s CPU"
          f" ({elapsed / 200 * 1000:.2f} ms per file; target < 2 s)")

    checklist = parse_checklist(checklist_yaml(0))
    rng = random.Random(7)
    visits = [random_answers(checklist, rng) for _ in range(10_000)]
    # The same visits through both: the figures compare like with like.
    for answers in visits[:200]:
        assert score_visit(checklist, answers).to_json() == reference_score(checklist, answers)
    figures = timed({"app": lambda answers: score_visit(checklist, answers),
                     "reference": lambda answers: reference_score(checklist, answers)}, visits, rounds)
    for name, (wall, cpu) in figures.items():
        print(f"score ({name}): 10,000 visits x 100 questions in {wall:.3f} s, {cpu:.3f} s CPU"
              f" ({wall / 10_000 * 1e6:.0f} us per visit; median of {rounds}; target < 1 s)")
    (app_wall, app_cpu), (ref_wall, ref_cpu) = figures["app"], figures["reference"]
    print(f"score: app / reference = {app_wall / ref_wall:.2f} wall, {app_cpu / ref_cpu:.2f} CPU (target <= 1.0)")


if __name__ == "__main__":
    main()
