"""One table of question-type cases, run through the Python classes and through the phone's form.js.

Each case is (question id, answer value, fraction, needs a comment); DURATIONS pairs seconds with
how the stopwatch and every page write them; VISIBILITY gives answers and the questions they hide.
tests/test_question_types.py checks the Python side, tests/browser/test_question_parity.py the phone.
"""
import textwrap

CHECKLIST = textwrap.dedent("""\
    id: question-cases
    version: 1
    title: Every rule of every question type
    sections:
      - id: main
        title: Main
        questions:
          - {id: yn, text: Greeted?, type: yes_no, comment: required_on_fail}
          - {id: yn_no, text: Kept waiting?, type: yes_no, expected: "no", comment: required_on_fail, allow_na: true}
          - {id: sc, text: Tone, type: scale, min: 1, max: 5, comment: required_on_fail}
          - {id: sc0, text: Tidy, type: scale, min: 0, max: 10}
          - id: ch
            text: Bag offered
            type: choice
            comment: required_on_fail
            options:
              - {value: full, label: Offered, score: 1}
              - {value: half, label: When asked, score: 0.5}
              - {value: "3", label: Numbered option, score: 0.25}
              - {value: none, label: Not offered, score: 0}
          - {id: du, text: Wait, type: duration, target: 60, limit: 300, comment: required_on_fail}
          - {id: nu, text: Queue, type: number, target: 2, limit: 6, unit: people}
          - {id: nu_free, text: Staff, type: number, comment: required}
          - {id: tx, text: Notes, type: text, comment: required}
          - {id: shown, text: Receipt, type: yes_no, show_if: {question: yn, equals: "yes"}}
          - {id: shown_in, text: Asked name, type: yes_no, show_if: {question: sc, in: [4, 5]}}
          - {id: nested, text: Thanked, type: yes_no, show_if: {question: shown, equals: "no"}}
""")

#: (question id, value, fraction or None when unscored, comment required)
CASES = [
    ("yn", "yes", 1.0, False),
    ("yn", "no", 0.0, True),
    ("yn_no", "no", 1.0, False),
    ("yn_no", "yes", 0.0, True),
    ("yn_no", "na", None, False),
    ("sc", 1, 0.0, True),
    ("sc", 3, 0.5, True),
    ("sc", 4, 0.75, True),
    ("sc", 5, 1.0, False),
    ("sc0", 0, 0.0, False),
    ("sc0", 7, 0.7, False),
    ("ch", "full", 1.0, False),
    ("ch", "half", 0.5, True),
    ("ch", "3", 0.25, True),
    ("ch", "none", 0.0, True),
    ("du", 0, 1.0, False),
    ("du", 60, 1.0, False),
    ("du", 61, 239 / 240, True),
    ("du", 180, 0.5, True),
    ("du", 300, 0.0, True),
    ("du", 3700, 0.0, True),
    ("nu", 1, 1.0, False),
    ("nu", 2.5, 0.875, False),
    ("nu", 4, 0.5, False),
    ("nu", 10, 0.0, False),
    ("nu_free", 3, None, True),
    ("tx", "Clean and calm", None, True),
]

#: seconds -> how the stopwatch and every page write them
DURATIONS = [(0, "0:00"), (5, "0:05"), (65, "1:05"), (600, "10:00"), (3599, "59:59"), (3600, "1:00:00"),
             (3700, "1:01:40"), (36125, "10:02:05")]

#: (answers, ids of the conditional questions hidden by them)
VISIBILITY = [
    ({}, ["shown", "shown_in", "nested"]),
    ({"yn": "yes", "sc": 5}, ["nested"]),
    ({"yn": "yes", "shown": "no", "sc": 4}, []),
    ({"yn": "no", "shown": "no", "sc": 3}, ["shown", "shown_in", "nested"]),
    ({"yn": "yes", "shown": "yes", "sc": 1}, ["shown_in", "nested"]),
]
