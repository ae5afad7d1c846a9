"""Request tests of the phone form's JSON API (/api/v1), every endpoint and its bad inputs."""
import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.models import Answer, Photo, Visit, VisitStatus
from app.visits import lifecycle as services

ANSWERS = {"greeted": "yes", "tone": 4, "wait": 90, "offer": "full", "purchased": "no"}


@pytest.fixture
def version(make_checklist_version):
    return make_checklist_version()


@pytest.fixture
def visit(make_visit, version, shopper, login):
    login(shopper)
    return make_visit(shopper=shopper, checklist_version=version)


def jpeg_bytes(size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def submission(**changes):
    body = {"client_submission_id": str(uuid.uuid4()), "answers": dict(ANSWERS), "answer_times": {},
            "started_at": None, "geolocation": "denied", "position": None}
    body.update(changes)
    return body


def upload(client, visit, client_photo_id="p-1", question_id="shelf", data=None, **extra):
    form = {"file": (io.BytesIO(data if data is not None else jpeg_bytes()), "photo.jpg"),
            "question_id": question_id, "client_photo_id": client_photo_id, **extra}
    return client.post(f"/api/v1/visits/{visit.id}/photos", data=form, content_type="multipart/form-data")


# -- reading -------------------------------------------------------------------------------------

def test_csrf_endpoint_returns_a_token(client, visit):
    response = client.get("/api/v1/csrf")
    assert response.status_code == 200 and response.json["csrf_token"]


def test_expired_session_gets_json_401(client, make_visit):
    response = client.get("/api/v1/visits")
    assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_managers_get_403(client, login, manager):
    login(manager)
    assert client.get("/api/v1/visits").status_code == 403


def test_visit_list_has_only_my_open_visits(client, visit, make_visit, version, make_user):
    make_visit(checklist_version=version, shopper=make_user("shopper"))
    make_visit(checklist_version=version, shopper=visit.shopper, status=VisitStatus.approved)
    body = client.get("/api/v1/visits").json
    assert [v["id"] for v in body["visits"]] == [visit.id]
    item = body["visits"][0]
    assert item["location"]["address"] == visit.location.address and item["status"] == "planned"
    assert item["window_end"] == visit.window_end.isoformat() and item["overdue"] is False


def test_visit_definition(client, visit):
    body = client.get(f"/api/v1/visits/{visit.id}").json
    assert body["visit"]["id"] == visit.id and body["visit"]["location"]["code"] == visit.location.code
    assert body["checklist"]["id"] == "sample-visit" and body["checklist"]["version"] == 1
    assert body["draft"] == {"answers": {}, "answer_times": {}, "saved_at": None, "client_saved_at": None}
    assert body["photos"] == [] and body["submission"] is None and body["editable"] is True


@pytest.mark.parametrize("method,suffix", [("get", ""), ("post", "/start"), ("put", "/draft"),
                                           ("post", "/submit"), ("post", "/photos")])
def test_someone_elses_visit_is_404(client, visit, make_visit, version, make_user, method, suffix):
    other = make_visit(checklist_version=version, shopper=make_user("shopper"))
    response = getattr(client, method)(f"/api/v1/visits/{other.id}{suffix}", json={})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert getattr(client, method)(f"/api/v1/visits/999999{suffix}", json={}).status_code == 404


# -- start and drafts ------------------------------------------------------------------------------

def test_start_is_idempotent(client, visit):
    body = {"started_at": "2025-05-02T12:00:00+03:00", "geolocation": "granted",
            "position": {"latitude": 55.75, "longitude": 37.61, "accuracy": 20}}
    first = client.post(f"/api/v1/visits/{visit.id}/start", json=body)
    again = client.post(f"/api/v1/visits/{visit.id}/start", json={**body, "started_at": "2025-05-02T13:00:00Z"})
    assert first.status_code == again.status_code == 200
    assert again.json == {"status": "in_progress", "started_at": "2025-05-02T09:00:00+00:00"}


@pytest.mark.parametrize("body,field", [
    ({"geolocation": "maybe"}, "geolocation"),
    ({"started_at": "yesterday"}, "started_at"),
    ({"position": {"latitude": 100, "longitude": 1}}, "position.latitude"),
])
def test_start_bad_input_is_400(client, visit, body, field):
    response = client.post(f"/api/v1/visits/{visit.id}/start", json=body)
    assert response.status_code == 400 and response.json["field"] == field


def test_body_that_is_not_json_is_400(client, visit):
    response = client.post(f"/api/v1/visits/{visit.id}/start", data="not json", content_type="text/plain")
    assert response.status_code == 400 and response.json["error"] == "bad_request"


def test_draft_save_and_restore(client, visit):
    response = client.put(f"/api/v1/visits/{visit.id}/draft", json={
        "answers": {"greeted": "yes", "notes": "Кассир был вежлив"},
        "answer_times": {"greeted": "2025-05-02T09:01:00Z"}})
    assert response.status_code == 200 and response.json["saved_at"] and response.json["stale"] is False
    draft = client.get(f"/api/v1/visits/{visit.id}").json["draft"]
    assert draft["answers"] == {"greeted": "yes", "notes": "Кассир был вежлив"}
    assert draft["answer_times"] == {"greeted": "2025-05-02T09:01:00+00:00"}


@pytest.mark.parametrize("answers,qid", [
    ({"tone": "loud"}, "tone"),          # wrong type
    ({"tone": 7}, "tone"),               # out of range
    ({"offer": "maybe"}, "offer"),       # unknown option
    ({"colour": "red"}, "colour"),       # unknown question
    ({"wait": -5}, "wait"),
])
def test_draft_bad_answers_name_the_question(client, visit, answers, qid):
    response = client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": answers})
    assert response.status_code == 400 and response.json["error"] == "invalid_answers"
    assert [p["question_id"] for p in response.json["problems"]] == [qid]


def test_draft_of_a_submitted_visit_is_409(client, visit):
    visit.status = VisitStatus.submitted
    from app.extensions import db
    db.session.commit()
    response = client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": {}})
    assert response.status_code == 409 and response.json["error"] == "not_editable"


# -- photos ----------------------------------------------------------------------------------------

def test_photo_upload_is_idempotent_and_served(client, visit, db):
    first = upload(client, visit)
    assert first.status_code == 201
    again = upload(client, visit)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert db.session.scalar(select(func.count(Photo.id))) == 1
    image = client.get(first.json["url"])
    image.close()
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert "private" in image.headers["Cache-Control"]
    thumb = client.get(first.json["thumb_url"])
    thumb.close()
    assert thumb.status_code == 200
    photos = client.get(f"/api/v1/visits/{visit.id}").json["photos"]
    assert [p["id"] for p in photos] == [first.json["id"]]


@pytest.mark.parametrize("kwargs,code", [
    ({"data": b"this is a text file, not a photo"}, "invalid_photo"),
    ({"question_id": "tone"}, "unknown_question"),
    ({"question_id": "nope"}, "unknown_question"),
])
def test_photo_bad_uploads_are_400(client, visit, kwargs, code):
    response = upload(client, visit, **kwargs)
    assert response.status_code == 400 and response.json["error"] == code


def test_photo_without_file_is_400(client, visit):
    response = client.post(f"/api/v1/visits/{visit.id}/photos", data={"question_id": "shelf", "client_photo_id": "x"})
    assert response.status_code == 400


def test_too_many_photos_is_400(client, visit):
    for n in range(5):
        assert upload(client, visit, client_photo_id=f"p-{n}").status_code == 201
    response = upload(client, visit, client_photo_id="p-6")
    assert response.status_code == 400 and response.json["error"] == "too_many_photos"


def test_oversized_photo_is_413(app, client, visit):
    app.config["PHOTO_MAX_BYTES"] = 1000
    response = upload(client, visit)
    assert response.status_code == 413 and response.json["error"] == "too_large"


def test_body_over_max_content_length_is_413(app, client, visit):
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(client, visit, data=b"x" * 5000)
    assert response.status_code == 413 and response.json["error"] == "too_large"


def test_delete_photo(client, visit, db):
    token = upload(client, visit).json["id"]
    assert client.delete(f"/api/v1/visits/{visit.id}/photos/{token}").status_code == 204
    assert client.delete(f"/api/v1/visits/{visit.id}/photos/{token}").status_code == 404
    assert client.get(f"/visits/photos/{token}").status_code == 404


# -- submission -----------------------------------------------------------------------------------

def test_submit_201_then_identical_retry_200_then_conflict_409(client, visit, db):
    body = submission()
    first = client.post(f"/api/v1/visits/{visit.id}/submit", json=body)
    assert first.status_code == 201 and first.json["status"] == "submitted"
    assert "score" not in first.json
    again = client.post(f"/api/v1/visits/{visit.id}/submit", json=body)
    assert again.status_code == 200 and again.json == first.json
    changed = client.post(f"/api/v1/visits/{visit.id}/submit", json={**body, "answers": {**ANSWERS, "tone": 2}})
    assert changed.status_code == 409 and changed.json["error"] == "conflict"
    other = client.post(f"/api/v1/visits/{visit.id}/submit", json=submission())
    assert other.status_code == 409 and other.json["error"] == "already_submitted"
    assert db.session.scalar(select(func.count(Answer.id))) == 8
    assert client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": {}}).status_code == 409
    assert client.get(f"/api/v1/visits/{visit.id}").json["submission"]["client_submission_id"] == \
        body["client_submission_id"]


def test_submit_with_photos_by_id_or_client_id(client, visit, db):
    token = upload(client, visit, client_photo_id="cam-1").json["id"]
    upload(client, visit, client_photo_id="cam-2")
    response = client.post(f"/api/v1/visits/{visit.id}/submit",
                           json=submission(answers={**ANSWERS, "shelf": [token, "cam-2"]}))
    assert response.status_code == 201
    stored = db.session.scalar(select(Answer.value).where(Answer.question_id == "shelf"))
    assert stored[0] == token and len(stored) == 2


def test_submit_refuses_photos_of_other_visits(client, visit, make_visit, version, login, make_user):
    stranger = make_user("shopper")
    other = make_visit(checklist_version=version, shopper=stranger)
    login(stranger)
    foreign = upload(client, other, client_photo_id="x-1").json["id"]
    login(visit.shopper)
    response = client.post(f"/api/v1/visits/{visit.id}/submit",
                           json=submission(answers={**ANSWERS, "shelf": [foreign]}))
    assert response.status_code == 400 and response.json["problems"][0]["question_id"] == "shelf"


@pytest.mark.parametrize("answers,qid", [
    ({**ANSWERS, "tone": "four"}, "tone"),
    ({**ANSWERS, "tone": 0}, "tone"),
    ({**ANSWERS, "ghost": "yes"}, "ghost"),
    ({k: v for k, v in ANSWERS.items() if k != "greeted"}, "greeted"),
])
def test_submit_invalid_answers_400_names_question(client, db, visit, answers, qid):
    response = client.post(f"/api/v1/visits/{visit.id}/submit", json=submission(answers=answers))
    assert response.status_code == 400 and response.json["error"] == "invalid_answers"
    assert qid in [p["question_id"] for p in response.json["problems"]]
    db.session.refresh(visit)  # what the server stored, not what this test loaded before the request
    assert visit.status == VisitStatus.planned and visit.client_submission_id is None
    assert db.session.scalar(select(func.count(Answer.id)).where(Answer.visit_id == visit.id)) == 0


@pytest.mark.parametrize("changes,field", [
    ({"client_submission_id": "short"}, "client_submission_id"),
    ({"client_submission_id": None}, "client_submission_id"),
    ({"answers": ["yes"]}, "answers"),
    ({"answer_times": {"greeted": 5}}, "answer_times.greeted"),
    ({"position": {"latitude": 1}}, "position.longitude"),
])
def test_submit_bad_fields_400(client, visit, changes, field):
    response = client.post(f"/api/v1/visits/{visit.id}/submit", json=submission(**changes))
    assert response.status_code == 400 and response.json["field"] == field


def test_submit_shows_score_when_the_checklist_allows(client, db, make_visit, make_checklist_version, shopper, login):
    from tests.conftest import SAMPLE_CHECKLIST

    source = SAMPLE_CHECKLIST.replace("title: Sample store visit", "title: Open\nshopper_sees_score: true")
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version(source))
    login(shopper)
    body = client.post(f"/api/v1/visits/{visit.id}/submit", json=submission()).json
    db.session.refresh(visit)
    assert body["score"] == pytest.approx(visit.score) and body["grade"]
    page = client.get(body["detail_url"]).get_data(as_text=True)
    assert 'id="visit-score"' in page


def test_returned_visit_resubmitted_with_new_id(client, visit, manager, db):
    client.post(f"/api/v1/visits/{visit.id}/submit", json=submission())
    db.session.refresh(visit)
    services.return_for_correction(visit, manager, "Add the shelf photo")
    db.session.commit()
    definition = client.get(f"/api/v1/visits/{visit.id}").json
    assert definition["visit"]["return_comment"] == "Add the shelf photo" and definition["editable"]
    assert definition["draft"]["answers"] == ANSWERS
    response = client.post(f"/api/v1/visits/{visit.id}/submit", json=submission(answers={**ANSWERS, "tone": 5}))
    assert response.status_code == 201
    assert [e.action for e in db.session.get(Visit, visit.id).events] == ["submitted", "returned", "resubmitted"]


def test_csrf_is_required_and_the_token_endpoint_unlocks(app, client, visit):
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": {}})
    assert refused.status_code == 400 and refused.json["error"] == "csrf"
    token = client.get("/api/v1/csrf").json["csrf_token"]
    ok = client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": {}}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200


def test_offline_shopper_reauthenticates_and_resubmits(app, client, visit, login, shopper):
    """A day offline: the session is gone; sign in again, fetch a token, send the queued submission."""
    app.config["WTF_CSRF_ENABLED"] = True
    body = submission()
    with client.session_transaction() as session:
        session.clear()
    assert client.post(f"/api/v1/visits/{visit.id}/submit", json=body).status_code in (400, 401)
    login(shopper)
    token = client.get("/api/v1/csrf").json["csrf_token"]
    response = client.post(f"/api/v1/visits/{visit.id}/submit", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_api_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    for path in ("/api/v1/csrf", "/api/v1/visits/<id>/draft", "/api/v1/visits/<id>/photos", "/submit"):
        assert path in doc
    from app.field.phone_api import STATUS_OF

    for code, status in STATUS_OF.items():  # every refusal the API can answer is explained
        assert f"`{code}`" in doc and str(status) in doc
