"""WeasyPrint fetches nothing it was not given; user text is escaped; rendering has a time limit."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.models import Photo
from app.pdf import FetchRoots, RenderPool, RenderTimeout, StrictFetcher, photo_url, render, roots_for
from app.storage import storage_of
from tests.factories_scored import PERFECT, build_network, make_scored_visit
from tests.reports_helpers import add_photo, pdf_images, pdf_reader, pdf_text


class Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        Recorder.hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def trap():
    """A local web server that records every request made to it; returns its base URL."""
    Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def hostile(base: str) -> str:
    """Markup that tries every way of making WeasyPrint fetch something."""
    return (
        f'<img src="file:///etc/passwd"><img src="{base}/img.png"><img src="/etc/passwd">'
        f'<img src="data:image/svg+xml;base64,PHN2Zy8+">'
        f'<link rel="stylesheet" href="{base}/link.css"><style>@import url("{base}/import.css");'
        f'@font-face {{ font-family: x; src: url("{base}/font.woff") }}'
        f'body {{ background: url("{base}/bg.png") }}</style>'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<image href="{base}/svg.png" width="9" height="9"/><image xlink:href="file:///etc/hostname" width="9" '
        f'height="9"/><use href="{base}/sprite.svg#a"/></svg>'
        f'<a rel="attachment" href="file:///etc/passwd">passwd</a><a rel="attachment" href="{base}/att.bin">a</a>'
        f'<img src="{base}/redirect"><object data="{base}/object.svg"></object><embed src="{base}/embed.svg">'
        f'<img src="fa-photo:../../../etc/passwd"><img src="fa-static:../../../../etc/passwd">'
        f'<img src="fa-photo:/etc/passwd"><img src="fa-static:%2e%2e/%2e%2e/config.py">'
    )


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


def test_hostile_comment_is_printed_as_text_and_fetches_nothing(app, db, client, login, make_user, network, trap):
    markup = hostile(trap)
    answers = {**PERFECT, "notes": markup, "tone": {"value": 5, "comment": markup}}
    location = network["a1"]
    location.name = f'<b>Bold</b> <img src="{trap}/name.png">'
    visit = make_scored_visit(db, location, network["version"], network["shopper"], answers)
    login(make_user("admin"))

    response = client.get(f"/reports/visits/{visit.id}.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert Recorder.hits == []
    assert 'src="file:///etc/passwd"' in text.replace("\n", "")  # shown as the text the shopper typed
    assert '<b>Bold</b>' in text
    assert "root:" not in text and b"root:x:0:0" not in response.data
    assert pdf_images(response.data) == []
    reader = pdf_reader(response.data)
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get("/Names", {}))


def test_fetcher_refuses_everything_but_our_files_even_in_raw_markup(app, trap, tmp_path):
    """Defence in depth: even markup that escaped escaping can reach nothing outside our folders."""
    roots = roots_for(app)
    fetcher = StrictFetcher(roots)
    from weasyprint import HTML

    pdf = HTML(string=f"<html><head><base href='file:///etc/'></head><body><p>x</p>{hostile(trap)}"
                      "<img src='passwd'></body></html>",
               base_url="fa-static:/", url_fetcher=fetcher).write_pdf()
    assert Recorder.hits == []
    assert fetcher.served == []
    refused = " ".join(fetcher.refused)
    for url in ("file:///etc/passwd", f"{trap}/img.png", f"{trap}/import.css", f"{trap}/svg.png",
                f"{trap}/att.bin", f"{trap}/redirect", "data:image/svg+xml", "fa-photo:../../../etc/passwd",
                "fa-static:../../../../etc/passwd", f"{trap}/font.woff"):
        assert url in refused, url
    assert b"root:x:0:0" not in pdf and pdf_images(pdf) == []


def test_fetcher_serves_static_files_and_photos_only_from_their_folders(app, db, network):
    visit = network["visits"]["a1_q2_perfect"]
    photo = add_photo(db, visit, "shelf", storage_of(app), 1)
    fetcher = StrictFetcher(roots_for(app))
    css = fetcher.fetch("fa-static:app.css")
    assert b"score-excellent" in css.read() and css.content_type == "text/css"
    thumb = fetcher.fetch(photo_url(photo.stored_name))
    assert thumb.content_type == "image/jpeg"
    from io import BytesIO

    from PIL import Image

    assert max(Image.open(BytesIO(thumb.read())).size) == 600
    for url in ("fa-static:../config.py", "fa-static:/etc/passwd", "fa-photo:x/../../secret.jpg",
                "fa-static:vendor/pico/LICENSE.md", "fa-photo:" + photo.stored_name + "x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert db.session.query(Photo).count() == 1


def slow_html() -> str:
    """A document that takes WeasyPrint many seconds to lay out."""
    return "<table>" + "".join(f"<tr><td>{i}</td><td>{'word ' * 40}</td></tr>" for i in range(20000)) + "</table>"


def test_render_in_process_stops_at_the_time_limit(app):
    started = time.monotonic()
    with pytest.raises(RenderTimeout):
        render(slow_html(), timeout=0.5, isolate=False)
    assert time.monotonic() - started < 5
    assert render("<p>fine</p>", timeout=10, isolate=False).startswith(b"%PDF")


def test_render_pool_kills_a_hung_worker_and_recovers(app):
    roots: FetchRoots = roots_for(app)
    pool = RenderPool(workers=1)
    try:
        started = time.monotonic()
        with pytest.raises(RenderTimeout):
            pool.wait_render(pool.submit_render(slow_html(), roots, 0.5), 0.5)  # the worker's own alarm stops it
        assert time.monotonic() - started < 8
        generation = pool.generation
        # A worker stuck where no alarm can reach it is killed from outside, with its pool.
        stuck = pool.pool().apply_async(time.sleep, (60,))
        with pytest.raises(Exception):  # noqa: B017 (multiprocessing.TimeoutError)
            stuck.get(0.2)
        with pytest.raises(RenderTimeout):
            pool.wait_render(stuck, 0.1)
        assert pool.generation == generation + 1
        assert pool.wait_render(pool.submit_render("<p>again</p>", roots, 10), 10).startswith(b"%PDF")
    finally:
        pool.close()
