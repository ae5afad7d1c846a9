"""Browser fixtures: the app served on a real port, and Chromium at a phone's size.

Browser tests skip (with the reason) where Debian's Chromium is missing, except in CI
where REQUIRE_BROWSER=1 turns the missing browser into a failure.
"""
import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}


def _browser_missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _browser_missing()
    for item in items:
        if "tests/browser" not in str(item.fspath).replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.browser)
        if reason:
            if os.environ.get("REQUIRE_BROWSER"):
                raise pytest.UsageError(f"REQUIRE_BROWSER is set but {reason}")
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def app_config(app_config, tmp_path):
    """A database file instead of memory, so the server thread sees the test's data."""
    if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'live.db'}"
    app_config.pop("SERVER_NAME", None)
    return app_config


class DrainingServer:
    """WSGI wrapper that counts the requests being served and, once closing, refuses new ones.

    A phone page keeps syncing in the background after a test's last assertion; the database must
    not be wiped under a request still writing to it (on PostgreSQL the wipe's TRUNCATE and the
    request's locks deadlock), and a keep-alive connection could start another after the server stopped.
    """

    def __init__(self, app):
        self.app = app
        self.serving = 0
        self.closing = False
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            if self.closing:
                start_response("503 Service Unavailable", [("Content-Length", "0"), ("Connection", "close")])
                return
            self.serving += 1
        body = None
        try:
            body = self.app(environ, start_response)
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()  # what the server would have done for the app's own iterable (files, streams)
            with self.changed:
                self.serving -= 1
                self.changed.notify_all()

    def drain(self, timeout: float) -> bool:
        with self.changed:
            self.closing = True
            return self.changed.wait_for(lambda: self.serving == 0, timeout)


@pytest.fixture
def live_server(app):
    """Serve `app` on 127.0.0.1 on a free port; yields the base URL, and drains the requests after the test."""
    served = DrainingServer(app)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    drained = served.drain(timeout=60)
    server.shutdown()
    thread.join(timeout=5)
    assert drained, "a request to the live server was still running 60 s after the test"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser, tmp_path):
    """A fresh browser profile at a phone's viewport, with touch."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A script or style the Content-Security-Policy blocks is reported on the console, not thrown.
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def browser_login(page, live_server):
    """Return a function that signs `user` in through the real login form."""
    from tests.conftest import PASSWORD

    def do_login(user, password: str = PASSWORD):
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return do_login


def screenshot_dir():
    """Where browser tests may leave screenshots for a person to look at."""
    path = os.environ.get("SCREENSHOT_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
    return path


