"""Benchmark: page weight and time to interactive of the phone form for a 60-question checklist.

Serves the app on a local port (werkzeug, SQLite), signs a shopper in and opens /visits/<id>/fill in
headless Chromium at 360x740. Prints:
- every HTML/CSS/JS file the form loads, raw and gzip-compressed (level 6). The app itself does not
  compress (that is the reverse proxy's job: nginx `gzip on`), so the gzip figure is computed here
  from each transferred body, which is what a phone receives behind such a proxy;
- time to interactive: from navigation start to the moment fill.js has bound every control and
  restored the draft (<html data-ready="1">), median of N runs, on a cold profile (empty cache,
  no service worker), a warm one (service worker installed), and cold with the CPU slowed 4x
  (roughly a mid-range Android phone).

Usage: python bench/bench_form_page.py [RUNS]
"""
import gzip
import logging
import statistics
import sys
import tempfile
import threading
from datetime import date, timedelta
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.checklists.loader import parse_checklist  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ChecklistVersion, Location, Region, Role, User, Visit  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench password 123"
TYPES = ("yes_no", "scale", "choice", "duration", "number", "text", "photo", "yes_no", "scale", "choice")


def checklist_yaml(questions: int = 60) -> str:
    """Return a realistic checklist: 6 sections of 10 questions, every type, help texts and a show_if."""
    lines = ["id: bench-form", "version: 1", "title: Проверка магазина (benchmark)", "sections:"]
    for s in range(6):
        lines += [f"  - id: s{s}", f"    title: Раздел {s + 1} — обслуживание и зал", "    questions:"]
        for i in range(questions // 6):
            qid, kind = f"q{s}_{i}", TYPES[i % len(TYPES)]
            lines += [f"      - id: {qid}", f"        text: Продавец поздоровался и предложил помощь? ({qid})",
                      f"        type: {kind}", "        help: Считайте от момента, когда вы вошли в зал."]
            if kind == "yes_no" and i == 0:
                lines += ["        comment: required_on_fail"]
            if kind == "scale":
                lines += ["        labels: {1: Очень плохо, 5: Отлично}"]
            elif kind == "choice":
                lines += ["        options:", "          - {value: full, label: Предложил сам и упаковал, score: 1}",
                          "          - {value: asked, label: Только по просьбе, score: 0.5}",
                          "          - {value: none, label: Не предложил, score: 0}"]
            elif kind == "duration":
                lines += ["        target: 60", "        limit: 300"]
            elif kind == "number":
                lines += ["        unit: руб."]
            if i == 7:
                lines += ["        allow_na: true", f"        show_if: {{question: q{s}_0, equals: 'yes'}}"]
    return "\n".join(lines) + "\n"


def build(tmp: str):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
        "RATELIMIT_ENABLED": False, "UPLOAD_DIR": f"{tmp}/photos",
    })
    with app.app_context():
        db.create_all()
        source = checklist_yaml()
        checklist = parse_checklist(source, "bench.yaml")
        version = ChecklistVersion(checklist_id=checklist.id, version=1, title=checklist.title, channel="store",
                                   definition=checklist.model_dump(mode="json"), source_text=source,
                                   source_hash="bench", source_path="bench.yaml")
        region = Region(code="R", name="Region")
        location = Location(code="MSK-01", name="Магазин на Тверской", address="Тверская 1", region=region)
        shopper = User(email="shopper@example.com", name="Shopper", role=Role.shopper, shopper_code="MS-1")
        shopper.set_password(PASSWORD)
        today = date.today()
        visit = Visit(location=location, checklist_version=version, shopper=shopper, window_start=today,
                      window_end=today + timedelta(days=7), instructions="Купите кофе и попросите чек.")
        db.session.add_all([version, region, location, shopper, visit])
        db.session.commit()
        return app, visit.id, len(checklist.questions)


def session_cookie(app) -> dict:
    """Sign in through the login form with the test client and return the session cookie."""
    client = app.test_client()
    client.application.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "shopper@example.com", "password": PASSWORD})
    app.config["WTF_CSRF_ENABLED"] = True
    cookie = client.get_cookie("session")
    return {"name": "session", "value": cookie.value, "domain": "127.0.0.1", "path": "/"}


def load(browser, url, cookie, *, cpu=1, warm=False, bodies=None):
    """Open the form in a fresh profile; return ms from navigation start to interactive."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.add_cookies([cookie])
    page = context.new_page()
    try:
        if warm:  # first visit installs the service worker and fills its cache
            page.goto(url)
            page.wait_for_function("document.documentElement.dataset.offline === '1'", timeout=20_000)
        if bodies is not None:
            def keep(response):
                kind = response.request.resource_type
                if kind in ("document", "stylesheet", "script", "fetch") and response.status == 200:
                    bodies.append((kind, response.url, response.body()))
            page.on("response", keep)
        if cpu > 1:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
        page.goto(url)
        page.wait_for_selector("html[data-ready='1']", timeout=20_000)
        if bodies is not None:
            page.wait_for_load_state("networkidle")
        return page.evaluate("window.faReadyAt")
    finally:
        context.close()


def main(runs: int = 7) -> None:
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        app, visit_id, questions = build(tmp)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        url = f"{base}/visits/{visit_id}/fill"
        with app.app_context():
            cookie = session_cookie(app)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
                bodies: list = []
                load(browser, url, cookie, bodies=bodies)
                print(f"Phone form, {questions} questions, {url.replace(base, '')}")
                print(f"{'file':<44}{'raw B':>9}{'gzip B':>9}")
                seen, raw_total, gz_total, api = set(), 0, 0, None
                for kind, res_url, body in bodies:
                    path = res_url.replace(base, "")
                    if path in seen:
                        continue
                    seen.add(path)
                    zipped = len(gzip.compress(body, 6))
                    if kind == "fetch":
                        api = (path, len(body), zipped)
                        continue
                    raw_total += len(body)
                    gz_total += zipped
                    print(f"{path:<44}{len(body):>9}{zipped:>9}")
                print(f"{'HTML+CSS+JS total':<44}{raw_total:>9}{gz_total:>9}   "
                      f"({gz_total / 1024:.1f} KB gzip; target < 100 KB)")
                if api:
                    print(f"{'(data, not counted) ' + api[0]:<44}{api[1]:>9}{api[2]:>9}")
                for label, kwargs in (("cold", {}), ("warm (service worker)", {"warm": True}),
                                      ("cold, CPU 4x slower", {"cpu": 4})):
                    times = [load(browser, url, cookie, **kwargs) for _ in range(runs)]
                    print(f"time to interactive, {label:<24} median {statistics.median(times):6.0f} ms"
                          f"   max {max(times):6.0f} ms   (n={runs}; target < 1000 ms)")
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
