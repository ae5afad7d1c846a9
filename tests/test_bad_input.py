"""Input the database cannot hold is refused at the door with a clear 400/404, never a 500 (issue #12)."""
import json

import pytest

from app.models import Answer, VisitStatus
from tests.test_access import ROUTES, _url
from tests.test_visits_api import ANSWERS, submission

BIG = 2**31
ID_ROUTES = [p for p in ROUTES if any(isinstance(v, int) for v in p.values[2].values()) and p.values[1] == "GET"]


@pytest.fixture
def visit(make_visit, make_checklist_version, shopper, login):
    login(shopper)
    return make_visit(shopper=shopper, checklist_version=make_checklist_version())


@pytest.mark.parametrize(("endpoint", "method", "args", "access"), ID_ROUTES)
def test_an_id_the_database_cannot_hold_is_not_found(app, client, login, make_user, endpoint, method, args, access):
    login(make_user("admin" if "shopper" not in {r.value for r in access or ()} else "shopper"))
    big = {k: (BIG if isinstance(v, int) else v) for k, v in args.items()}
    path = _url(app, endpoint, {k: (999_999 if isinstance(v, int) else v) for k, v in args.items()})
    for key, value in args.items():
        if isinstance(value, int):
            path = path.replace("999999", str(big[key]), 1)
    assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("query", [
    "/dashboard/?region=%C2%B2", "/dashboard/?page=99999999999999999999", "/dashboard/visits?page=-3",
    "/review/?page=99999999999999999999", "/planning/?page=99999999999999999999&region=%C2%B2",
    "/admin/users?page=99999999999999999999", "/dashboard/visits?location=99999999999999999999",
    "/planning/?precision=nan", "/dashboard/actions?page=1e9",
])
def test_odd_numbers_in_a_query_fall_back_to_defaults(client, login, make_user, query):
    login(make_user("admin"))
    assert client.get(query).status_code == 200


@pytest.mark.parametrize("query", ["/planning/?q=%00", "/dashboard/?checklist=a%00b", "/admin/users?q=x%00"])
def test_a_nul_byte_in_a_query_is_a_400(client, login, make_user, query):
    login(make_user("admin"))
    response = client.get(query)
    assert response.status_code == 400 and "cannot be stored" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_path_is_not_found(client, login, make_user):
    login(make_user("admin"))
    assert client.get("/visits/photos/%00").status_code == 404


@pytest.mark.parametrize(("changes", "field"), [
    ({"answers": {**ANSWERS, "notes": "nul\u0000byte"}}, "answers.notes"),
    ({"answers": {**ANSWERS, "notes": "half \ud800 pair"}}, "answers.notes"),
    ({"answers": {**ANSWERS, "wait": 10**400}}, "answers.wait"),
    ({"answers": {**ANSWERS, "notes": {"value": [[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]}}},
     "answers.notes.value.0.0.0.0.0.0.0.0.0.0.0.0.0.0"),
    ({"started_at": "0001-01-01T00:00:00+05:00"}, "started_at"),
    ({"client_submission_id": "abc\u0000defgh"}, "client_submission_id"),
])
def test_a_queued_submission_the_server_cannot_store_is_refused_once_and_for_all(client, db, visit, changes, field):
    """A 400 (not a 500 retried forever): the phone stops retrying and tells the shopper why."""
    response = client.post(f"/api/v1/visits/{visit.id}/submit", json=submission(**changes))
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    db.session.refresh(visit)
    assert visit.status == VisitStatus.planned
    assert db.session.query(Answer).count() == 0


def test_json_nested_beyond_the_interpreter_is_a_400(client, visit):
    body = "[" * 5000 + "]" * 5000
    response = client.post(f"/api/v1/visits/{visit.id}/submit", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json["error"] == "bad_request"


def test_a_draft_with_a_nul_byte_is_refused_and_the_old_draft_kept(client, db, visit):
    assert client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": {"notes": "kept"}}).status_code == 200
    response = client.put(f"/api/v1/visits/{visit.id}/draft", data=json.dumps({"answers": {"notes": "a\u0000"}}),
                          content_type="application/json")
    assert response.status_code == 400 and response.json["field"] == "answers.notes"
    db.session.refresh(visit)
    assert visit.draft["answers"] == {"notes": "kept"}


def test_photo_fields_with_a_nul_byte_are_refused(client, visit):
    response = client.post(f"/api/v1/visits/{visit.id}/photos", data={
        "question_id": "shelf", "client_photo_id": "p\u00001"}, content_type="multipart/form-data")
    assert response.status_code == 400 and response.is_json
