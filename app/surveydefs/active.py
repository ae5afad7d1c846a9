"""The survey customers get: SURVEY_ID's newest version from SURVEYS_DIR, re-read when a file changes."""
import threading
from pathlib import Path

from flask import current_app

from app.surveydefs.loader import LoadedSurvey, SurveyError, load_survey_dir
from app.surveydefs.schema import Survey

_cache_lock = threading.Lock()
#: SURVEYS_DIR -> ((name, mtime, size) of its files, surveys, rejected files)
_cache: dict[str, tuple[tuple[tuple[str, int, int], ...], list[LoadedSurvey], list[SurveyError]]] = {}


# -- the survey definition -------------------------------------------------------------------

def load_surveys(directory: str | None = None) -> tuple[list[LoadedSurvey], list[SurveyError]]:
    """Return the valid surveys of SURVEYS_DIR and the rejected files, re-read when a file changes."""
    directory = directory or current_app.config["SURVEYS_DIR"]
    try:
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in Path(directory).iterdir()))
    except OSError:
        stamp = ()
    with _cache_lock:
        cached = _cache.get(directory)
        if cached and cached[0] == stamp:
            return cached[1], cached[2]
    loaded, errors = load_survey_dir(directory)
    for error in errors:
        current_app.logger.error("Survey file rejected: %s", error)
    with _cache_lock:
        _cache[directory] = (stamp, loaded, errors)
    return loaded, errors


def active_survey() -> Survey | None:
    """Return the survey customers get: SURVEY_ID's highest version, else the first survey by id."""
    loaded, _errors = load_surveys()
    if not loaded:
        return None
    wanted = current_app.config.get("SURVEY_ID")
    candidates = [item.survey for item in loaded if item.survey.id == wanted] if wanted else []
    if not candidates:
        first = min(item.survey.id for item in loaded)
        candidates = [item.survey for item in loaded if item.survey.id == first]
    return max(candidates, key=lambda survey: survey.version)
