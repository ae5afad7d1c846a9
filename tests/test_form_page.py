"""The phone form page and its service worker: who gets them, what they contain, how they are cached."""
import json
import re
from pathlib import Path

import pytest

from app.field import form_page
from app.models import VisitStatus


@pytest.fixture
def own_visit(make_visit, shopper):
    return make_visit(shopper=shopper)


def test_owner_gets_the_form_with_every_question(client, login, shopper, own_visit):
    login(shopper)
    response = client.get(f"/visits/{own_visit.id}/fill")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for qid in ("greeted", "tone", "wait", "offer", "purchased", "receipt", "notes", "shelf"):
        assert f'data-q="{qid}"' in html
    # Each type gets its phone control.
    assert 'name="greeted" value="yes"' in html and 'name="greeted" value="no"' in html
    assert 'name="tone" value="5"' in html and "Warm" in html
    assert 'data-score="0.5"' in html  # choice options carry their score for required_on_fail
    assert 'class="sw-toggle"' in html  # stopwatch of the duration question
    assert 'capture="environment"' in html
    assert 'name="receipt" value="na"' in html  # allow_na
    show_if = re.search(r'data-q="receipt"[^>]*data-show-if="([^"]+)"', html.replace("\n", " "))
    assert json.loads(show_if.group(1).replace("&#34;", '"')) == {"question": "purchased", "equals": "yes"}
    assert 'data-editable="1"' in html
    assert f'data-api="/api/v1/visits/{own_visit.id}"' in html
    assert response.headers["Cache-Control"].startswith("no-cache")


def test_labels_and_sections_render_in_russian(client, login, shopper, make_visit, make_checklist_version):
    version = make_checklist_version(
        "id: ru\nversion: 1\ntitle: Визит\nsections:\n  - id: s\n    title: Приветствие\n    questions:\n"
        "      - {id: q, text: Поздоровались?, type: yes_no, help: Считайте от входа}\n"
    )
    visit = make_visit(shopper=shopper, checklist_version=version)
    login(shopper)
    html = client.get(f"/visits/{visit.id}/fill").get_data(as_text=True)
    assert "Приветствие" in html and "Поздоровались?" in html and "Считайте от входа" in html


def test_another_shopper_gets_404(client, login, make_user, own_visit):
    login(make_user("shopper"))
    assert client.get(f"/visits/{own_visit.id}/fill").status_code == 404


def test_missing_visit_is_404(client, login, shopper):
    login(shopper)
    assert client.get("/visits/9999/fill").status_code == 404


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_are_refused(client, login, make_user, own_visit, role):
    login(make_user(role))
    assert client.get(f"/visits/{own_visit.id}/fill").status_code == 403


def test_anonymous_is_sent_to_sign_in_and_back(client, own_visit):
    response = client.get(f"/visits/{own_visit.id}/fill")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert f"visits/{own_visit.id}/fill" in response.headers["Location"].replace("%2F", "/")


def test_submitted_visit_renders_read_only(client, login, shopper, make_visit):
    visit = make_visit(shopper=shopper, status=VisitStatus.submitted)
    login(shopper)
    html = client.get(f"/visits/{visit.id}/fill").get_data(as_text=True)
    assert 'data-editable="0"' in html
    assert 'data-step="closed"' in html


def test_returned_visit_shows_the_managers_comment(client, login, shopper, make_visit):
    visit = make_visit(shopper=shopper, status=VisitStatus.returned, review_comment="Add the shelf photo")
    login(shopper)
    html = client.get(f"/visits/{visit.id}/fill").get_data(as_text=True)
    assert "Add the shelf photo" in html and 'data-editable="1"' in html


def test_service_worker_headers_and_assets(client):
    response = client.get("/visits/sw.js")  # public: the browser re-checks it even after the session ended
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/visits/"
    body = response.get_data(as_text=True)
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", body).group(1))
    assert "/visits/static/fill.js" in assets and "/static/vendor/pico/pico.min.css" in assets
    for url in assets:  # every precached file exists, or the worker would fail to install
        asset = client.get(url)
        asset.close()
        assert asset.status_code == 200, url
    version = re.search(r'const VERSION = "([0-9a-f]+)"', body).group(1)
    assert len(version) == 12


def test_form_page_loads_only_precached_assets(client, login, shopper, own_visit):
    login(shopper)
    html = client.get(f"/visits/{own_visit.id}/fill").get_data(as_text=True)
    sw = client.get("/visits/sw.js").get_data(as_text=True)
    assets = set(json.loads(re.search(r"const ASSETS = (\[.*?\]);", sw).group(1)))
    used = set(re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', html))
    assert used and used <= assets  # otherwise the form would miss a file offline


def test_every_module_the_form_imports_is_precached():
    """A module missing from the service worker's list would only break the form offline."""
    static = Path(form_page.__file__).parent / "static"
    imported = {"fill.js"}
    for script in static.glob("*.js"):
        imported |= set(re.findall(r"""from\s+['"]\./([\w-]+\.js)['"]""", script.read_text()))
    assert imported <= set(form_page.FORM_MODULES)
    assert set(form_page.FORM_MODULES) <= {p.name for p in static.glob("*.js")}
