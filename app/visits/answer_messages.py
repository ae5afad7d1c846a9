"""Answer problems in the user's language: scoring stays pure and English, the API translates."""
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.scoring import AnswerProblem

#: English template (as app/checklists/questions.py, app/scoring.py and app/visits/lifecycle.py write it)
#: -> its translatable form. The key and the msgid are the same text; tests/test_i18n.py checks that
#: every template those modules can produce is listed here.
MESSAGES = {
    "answers must be a mapping of question ids to answers":
        _l("answers must be a mapping of question ids to answers"),
    "unknown question id": _l("unknown question id"),
    'unexpected key(s) %(keys)s: an answer is a value or {"value": ..., "comment": ...}':
        _l('unexpected key(s) %(keys)s: an answer is a value or {"value": ..., "comment": ...}'),
    "the comment must be text": _l("the comment must be text"),
    "this question takes no comment": _l("this question takes no comment"),
    "an answer is required": _l("an answer is required"),
    "a comment is required": _l("a comment is required"),
    "a comment is required to explain the lost points": _l("a comment is required to explain the lost points"),
    '"na" (not applicable) is not allowed for this question':
        _l('"na" (not applicable) is not allowed for this question'),
    "expected a number, got %(got)s": _l("expected a number, got %(got)s"),
    "expected a finite number": _l("expected a finite number"),
    'expected "yes" or "no", got %(got)s': _l('expected "yes" or "no", got %(got)s'),
    "expected a whole number from %(min)d to %(max)d, got %(got)s":
        _l("expected a whole number from %(min)d to %(max)d, got %(got)s"),
    "%(value)d is outside the scale %(min)d..%(max)d": _l("%(value)d is outside the scale %(min)d..%(max)d"),
    "%(got)s is not one of the options (%(allowed)s)": _l("%(got)s is not one of the options (%(allowed)s)"),
    'expected seconds or "m:ss", got %(got)s': _l('expected seconds or "m:ss", got %(got)s'),
    "expected a whole number of seconds (0 or more), got %(got)s":
        _l("expected a whole number of seconds (0 or more), got %(got)s"),
    "expected text, got %(got)s": _l("expected text, got %(got)s"),
    "text is %(length)d characters long; the limit is %(limit)d":
        _l("text is %(length)d characters long; the limit is %(limit)d"),
    "expected a list of photo ids, got %(got)s": _l("expected a list of photo ids, got %(got)s"),
    "%(count)d photos; at most %(limit)d are allowed": _l("%(count)d photos; at most %(limit)d are allowed"),
    "photos taken: %(count)d; at least %(needed)d needed": _l("photos taken: %(count)d; at least %(needed)d needed"),
    "photo %(ref)s was not uploaded for this question": _l("photo %(ref)s was not uploaded for this question"),
    "photo %(ref)s could not be read; take it again": _l("photo %(ref)s could not be read; take it again"),
}

#: describe()'s English words for values that are not what the question takes.
_DESCRIPTIONS = {"nothing": _l("no value"), "a list": _l("a list"), "a mapping": _l("a mapping")}


def answer_message(problem: AnswerProblem) -> str:
    """Return the problem's message in the user's language (the English message when not listed)."""
    if problem.template not in MESSAGES:
        return problem.message
    params = dict(problem.params)
    if params.get("got") in _DESCRIPTIONS:
        params["got"] = str(_DESCRIPTIONS[params["got"]])
    return gettext(problem.template, **params) if params else gettext(problem.template)
