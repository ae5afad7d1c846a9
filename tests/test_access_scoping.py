"""A manager of region A never sees region B: 404 (or 403) on every page, export, PDF and API of B."""
import re

import pytest
from sqlalchemy import select

from app.models import ActionStatus, CorrectiveAction, Photo, ReviewComment
from tests.export_helpers import export_file, shared_database
from tests.factories_scored import (
    SOME_LOSS,
    build_network,
    dispose_engine,  # noqa: F401  (autouse)
    make_scored_visit,
)

Q2 = "period=custom&start=2024-04-01&end=2024-06-30"


@pytest.fixture
def app_config(app_config, tmp_path):
    return shared_database(app_config, tmp_path)  # exports run on a thread


@pytest.fixture
def world(db, make_region, make_location, make_checklist_version, make_user):
    """Region north (A) and south (B) with visits; an action and a photo in B; a manager of A."""
    parts = build_network(db, make_region, make_location, make_checklist_version, make_user)
    b_visit = parts["visits"]["b1_q2_perfect"]
    b_failed = make_scored_visit(db, parts["b1"], parts["version"], parts["shopper"], SOME_LOSS,
                                 __import__("datetime").date(2024, 5, 20))
    action = CorrectiveAction(visit=b_failed, location_id=parts["b1"].id, question_id="tone", description="Fix B",
                              owner_name="B boss", owner_email="b@example.com",
                              due_date=__import__("datetime").date(2024, 6, 1), status=ActionStatus.open)
    photo = Photo(visit=b_visit, question_id="shelf", client_photo_id="p1", stored_name="x.jpg", width=10,
                  height=10, byte_size=100)
    db.session.add_all([action, photo])
    db.session.commit()
    parts.update(b_visit=b_visit, b_failed=b_failed, action=action, photo=photo,
                 manager_a=make_user("manager", regions=[parts["north"]]))
    return parts


B_URLS = [
    ("GET", "/dashboard/locations/{b1}"),
    ("GET", "/dashboard/regions/{south}"),
    ("GET", "/dashboard/?region={south}"),
    ("GET", "/dashboard/visits?location={b1}"),
    ("GET", "/dashboard/visits?region={south}"),
    ("POST", "/dashboard/export/table.csv?region={south}"),
    ("POST", "/dashboard/export/answers.csv?region={south}"),
    ("GET", "/dashboard/export/answers.xlsx?region={south}"),
    ("GET", "/dashboard/visits/{b_failed}/actions/new?question=tone"),
    ("POST", "/dashboard/visits/{b_failed}/actions/new?question=tone"),
    ("POST", "/dashboard/actions/{action}/status"),
    ("GET", "/review/visits/{b_visit}"),
    ("POST", "/review/visits/{b_visit}/decision"),
    ("GET", "/visits/photos/{photo_token}"),
    ("GET", "/reports/visits/{b_visit}.pdf"),
    ("GET", "/reports/locations/{b1}.pdf"),
    ("GET", "/reports/regions/{south}.pdf"),
    ("GET", "/api/v1/visits/{b_visit}"),
]


def _fill(url, world):
    return url.format(b1=world["b1"].id, south=world["south"].id, b_visit=world["b_visit"].id,
                      b_failed=world["b_failed"].id, action=world["action"].id, photo_token=world["photo"].token)


@pytest.mark.parametrize(("method", "url"), B_URLS)
def test_manager_of_a_gets_404_for_region_b(app, client, login, world, method, url):
    login(world["manager_a"])
    url = _fill(url, world)
    prefix = url.split("/")[1]
    if prefix == "reports" and not any(r.rule.startswith("/reports") for r in app.url_map.iter_rules()):
        pytest.skip("PDF reports not installed")
    data = {"decision": "approve", "status": "done", "description": "x", "owner_name": "x",
            "owner_email": "x@example.com", "due_date": "2099-01-01"}
    response = client.open(url, method=method, data=data if method == "POST" else None)
    expected = (403, 404) if url.startswith("/api/") else (404,)  # the phone API is for shoppers only
    assert response.status_code in expected, (url, response.status_code)


def test_nothing_changed_by_refused_requests(client, login, world, db):
    login(world["manager_a"])
    client.post(_fill("/dashboard/actions/{action}/status", world), data={"status": "done"})
    client.post(_fill("/review/visits/{b_visit}/decision", world), data={"decision": "void", "comment": "x"})
    db.session.expire_all()
    assert world["action"].status == ActionStatus.open
    assert world["b_visit"].status.value == "approved"


def test_lists_and_exports_leave_region_b_out(client, login, world):
    login(world["manager_a"])
    bodies = []
    for url in (f"/dashboard/?{Q2}", f"/dashboard/visits?{Q2}", "/review/", "/dashboard/actions"):
        response = client.get(url)
        assert response.status_code == 200, url
        # Random tokens (CSRF, CSP nonce) could spell "B1" by chance: only words count.
        bodies.append(re.sub(r"[\w.-]{20,}", "", response.get_data(as_text=True)))
    for what in ("answers", "table"):
        bodies.append(export_file(client, what, "csv", Q2).decode("utf-8-sig"))
    for url, body in zip([*range(4), "answers", "table"], bodies, strict=True):
        assert "B1" not in body and "South" not in body and "Fix B" not in body, url
    assert "A1" in bodies[0] and "A1" in bodies[-1]


def test_manager_of_a_sees_region_a(client, login, world):
    login(world["manager_a"])
    assert client.get(_fill("/dashboard/locations/{b1}", world).replace(
        str(world["b1"].id), str(world["a1"].id))).status_code == 200
    assert client.get(f"/dashboard/regions/{world['north'].id}").status_code == 200


def test_library_comments_are_private(client, login, world, make_user, db):
    other = make_user("manager")
    comment = ReviewComment(user_id=other.id, text="secret")
    db.session.add(comment)
    db.session.commit()
    login(world["manager_a"])
    assert client.post(f"/review/comments/{comment.id}/delete").status_code == 404
    assert db.session.scalars(select(ReviewComment)).one().text == "secret"
