"""E-mail end to end: a real SMTP server on loopback receives what the app sends, and the tests read it back."""
import io
import re
import socket
import time
from datetime import date, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from app.auth import reset
from app.mail import outbox
from app.models import AuditLog, Visit, VisitStatus
from app.visits import lifecycle
from tests.conftest import PASSWORD, wait_for_mail_threads
from tests.live_servers import free_port as closed_port
from tests.test_ops import redis_or_skip

NEW_PASSWORD = "a brand new passphrase"
MAIL_REDIS = "redis://127.0.0.1:6379/13"  # a database number no other test uses


def parts(message):
    """Return the plain-text and HTML parts of a message."""
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def subject_of(message) -> str:
    """Return the subject as a mail client shows it (a long encoded subject is folded right after "Subject:", and
    the parser keeps that fold's space)."""
    return message["Subject"].strip()


def reset_link(message) -> str:
    text, _html = parts(message)
    return re.search(r"http://localhost(/password/reset/\S+)", text).group(1)


def forgot(client, email: str, **headers):
    return client.post("/password/forgot", data={"email": email}, headers=headers)


def sign_in(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password})


# -- notifications to shoppers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "subject", "words"), [
    ("en", "New visit: Store on Tverskaya", ["Hello, Sam Shopper.", "A new visit is assigned to you.",
                                            "Ask for a loyalty card", "Open the visit"]),
    ("ru", "Новый визит: Store on Tverskaya", ["Здравствуйте, Sam Shopper.", "Вам назначен новый визит.",
                                              "Ask for a loyalty card", "Открыть визит"]),
])
def test_an_assigned_visit_is_mailed_to_its_shopper_in_their_language(
        client, login, db, manager, make_user, make_location, make_checklist_version, mailbox, locale, subject, words):
    shopper = make_user("shopper", name="Sam Shopper", email="sam@example.com", locale=locale)
    location = make_location(name="Store on Tverskaya")
    make_checklist_version()
    login(manager)
    start, end = date.today() + timedelta(days=1), date.today() + timedelta(days=5)
    response = client.post("/planning/assign", data={
        "location": location.id, "checklist": "sample-visit", "shopper": shopper.id,
        "window_start": start.isoformat(), "window_end": end.isoformat(), "instructions": "Ask for a loyalty card"})
    assert response.status_code == 302
    (message,) = mailbox.wait(1)
    visit = db.session.scalar(select(Visit))
    assert mailbox.received[0][0] == ["sam@example.com"]
    assert subject_of(message) == subject and message["To"] == "sam@example.com"
    assert "noreply@fieldaudit.test" in message["From"]
    text, html = parts(message)
    for word in words:
        assert word in text and word in html
    assert f"http://localhost/visits/{visit.id}" in text and f'href="http://localhost/visits/{visit.id}"' in html
    assert f'lang="{locale}"' in html


@pytest.mark.parametrize(("locale", "subject", "intro"), [
    ("en", "Visit returned for correction: Store 1", "Your visit to Store 1 was returned for correction."),
    ("ru", "Визит возвращён на исправление: Store 1", "Ваш визит в Store 1 возвращён на исправление."),
])
def test_a_returned_visit_is_mailed_with_the_managers_comment_and_a_link(
        client, login, db, manager, make_user, make_visit, make_location, mailbox, locale, subject, intro):
    shopper = make_user("shopper", locale=locale)
    visit = make_visit(shopper=shopper, location=make_location(name="Store 1"), status=VisitStatus.submitted,
                       submitted_at=lifecycle.utcnow())
    login(manager)
    comment = "The photo of the shelf is missing <b>here</b>."
    response = client.post(f"/review/visits/{visit.id}/decision", data={"decision": "return", "comment": comment})
    assert response.status_code == 302
    (message,) = mailbox.wait(1)
    assert subject_of(message) == subject and message["To"] == shopper.email
    text, html = parts(message)
    assert intro in text and intro in html
    assert comment in text and "The photo of the shelf is missing &lt;b&gt;here&lt;/b&gt;." in html
    assert f"http://localhost/visits/{visit.id}" in text and f"http://localhost/visits/{visit.id}" in html


def test_a_change_that_rolls_back_sends_nothing(db, make_user, make_location, make_checklist_version, manager,
                                                mailbox):
    shopper = make_user("shopper")
    location, version = make_location(), make_checklist_version()
    lifecycle.assign_visit(location, version, shopper, date.today(), date.today() + timedelta(days=3),
                           manager=manager)
    db.session.rollback()
    lifecycle.assign_visit(location, version, shopper, date.today(), date.today() + timedelta(days=4),
                           manager=manager)
    db.session.commit()
    assert len(mailbox.wait(1)) == 1
    wait_for_mail_threads()
    assert len(mailbox.messages) == 1


def test_a_visit_moved_to_another_shopper_is_mailed_to_the_new_one(client, login, db, manager, make_user, make_visit,
                                                                   mailbox):
    visit = make_visit()
    other = make_user("shopper", email="new.shopper@example.com")
    login(manager)
    response = client.post(f"/planning/visits/{visit.id}/edit", data={
        "shopper": other.id, "window_start": visit.window_start.isoformat(),
        "window_end": visit.window_end.isoformat(), "instructions": ""})
    assert response.status_code == 302
    (message,) = mailbox.wait(1)
    assert message["To"] == "new.shopper@example.com"


def test_without_a_mail_server_nothing_is_sent_and_the_log_says_so(client, login, manager, make_user, make_visit,
                                                                   smtp_server, caplog):
    visit = make_visit(status=VisitStatus.submitted, submitted_at=lifecycle.utcnow())
    login(manager)
    with caplog.at_level("INFO", logger="app.mail"):
        response = client.post(f"/review/visits/{visit.id}/decision", data={"decision": "return", "comment": "Fix"})
    assert response.status_code == 302
    wait_for_mail_threads()
    assert smtp_server.messages == []
    assert "Mail not sent (MAIL_SERVER is not set): visit_returned" in caplog.text


def test_without_a_mail_server_no_reset_mail_is_sent_and_the_log_says_so(client, make_user, smtp_server, caplog):
    user = make_user("shopper")
    with caplog.at_level("INFO", logger="app.mail"):
        response = forgot(client, user.email)
    assert response.status_code == 302
    wait_for_mail_threads()
    assert smtp_server.messages == []
    assert f"Mail not sent (MAIL_SERVER is not set): password_reset to {user.email}" in caplog.text


def test_a_message_waits_for_the_commit_and_dies_with_a_rollback(app, db, make_user, mailbox):
    user = make_user("shopper")

    def message(n):
        return outbox.Message(kind="test", to=f"n{n}@example.com", subject=f"Test {n}", text="text", html="<p>html</p>")

    user.name = "Changed"
    outbox.send_after_commit(message(1))
    db.session.rollback()  # the change and its message go together
    with db.session.begin_nested():  # a savepoint released is not yet the commit
        user.name = "Changed again"
        outbox.send_after_commit(message(2))
    wait_for_mail_threads()
    assert mailbox.messages == []
    db.session.commit()
    assert [subject_of(m) for m in mailbox.wait(1)] == ["Test 2"]
    wait_for_mail_threads()
    assert len(mailbox.messages) == 1


def test_attachments_travel_with_the_message(app, mailbox):
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    outbox.deliver(outbox.Message(kind="test", to="someone@example.com", subject="Report", text="See the PDF.",
                                  html="<p>See the PDF.</p>",
                                  attachments=(outbox.Attachment("visit-12.pdf", pdf, "application/pdf"),)))
    (message,) = mailbox.wait(1)
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "visit-12.pdf" and attached.get_content_type() == "application/pdf"
    assert attached.get_content() == pdf
    text, html = parts(message)
    assert text.strip() == "See the PDF." and html.strip() == "<p>See the PDF.</p>"


# -- password reset ------------------------------------------------------------------------------------------------


def test_the_login_page_offers_a_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page
    assert client.get("/password/forgot").status_code == 200


def test_a_reset_link_sets_a_new_password_once_and_signs_out_every_session(app, db, make_user, mailbox):
    user = make_user("shopper", email="reset.me@example.com", locale="en")
    other_device, client = app.test_client(), app.test_client()
    assert sign_in(other_device, user.email, PASSWORD).status_code == 302
    assert other_device.get("/visits/").status_code == 200

    response = forgot(client, "Reset.Me@example.com ")
    assert response.status_code == 302 and response.location.endswith("/login")
    (message,) = mailbox.wait(1)
    assert message["To"] == "reset.me@example.com" and subject_of(message) == "Set a new password"
    text, html = parts(message)
    assert "reset.me@example.com" in text and "within 60 minutes" in text and "within 60 minutes" in html
    link = reset_link(message)
    assert f'href="http://localhost{link}"' in html

    form = client.get(link)
    assert form.status_code == 200 and "reset.me@example.com" in form.get_data(as_text=True)
    short = client.post(link, data={"new": "short", "confirm": "short"})
    assert short.status_code == 400
    differ = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert differ.status_code == 400 and "The passwords differ." in differ.get_data(as_text=True)
    done = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.location.endswith("/login")

    assert other_device.get("/visits/").status_code == 302  # signed out
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 200  # the old password is refused
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "user.password_reset_email")).one()
    assert (entry.user_id, entry.target_id) == (user.id, user.id)

    # The link worked once: neither its page nor its form takes it again.
    again = client.get(link)
    assert again.status_code == 400 and "This link no longer works" in again.get_data(as_text=True)
    assert client.post(link, data={"new": "yet another passphrase", "confirm": "yet another passphrase"}
                       ).status_code == 400
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302


def test_a_reset_link_expires(app, client, db, make_user, monkeypatch):
    user = make_user("shopper")
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 3601)
    with app.test_request_context():
        old = reset.make_token(user)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 3500)
    with app.test_request_context():
        recent = reset.make_token(user)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    assert client.get(f"/password/reset/{old}").status_code == 400
    assert client.post(f"/password/reset/{old}", data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
                       ).status_code == 400
    assert client.get(f"/password/reset/{recent}").status_code == 200
    app.config["PASSWORD_RESET_MAX_AGE"] = 60
    assert client.get(f"/password/reset/{recent}").status_code == 400


def test_a_link_dies_when_the_password_changes_otherwise_or_is_forged(app, client, db, make_user):
    user = make_user("shopper")
    with app.test_request_context():
        token = reset.make_token(user)
    assert client.get(f"/password/reset/{token}").status_code == 200
    assert client.get(f"/password/reset/{token[:-2]}xx").status_code == 400
    user.set_password("changed by an admin meanwhile")
    db.session.commit()
    assert client.get(f"/password/reset/{token}").status_code == 400


def test_an_unknown_or_deactivated_address_gets_the_same_answer_and_no_mail(app, make_user, mailbox):
    make_user("shopper", email="known@example.com")
    make_user("shopper", email="gone@example.com", active=False)
    answers = []
    for email in ("known@example.com", "nobody@example.com", "gone@example.com"):
        client = app.test_client()
        response = forgot(client, email)
        page = client.get(response.location).get_data(as_text=True)
        flash = re.search(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)
        answers.append((response.status_code, response.location, flash and flash.group(1).strip()))
    assert answers[0] == answers[1] == answers[2]
    assert "If an account with this address exists" in answers[0][2]
    mailbox.wait(1)
    wait_for_mail_threads()
    assert [to for to, _m in mailbox.received] == [["known@example.com"]]


@pytest.mark.parametrize(("how", "subject"), [
    ({"locale": "ru"}, "Задать новый пароль"),
    ({"headers": {"Accept-Language": "ru"}}, "Задать новый пароль"),
    ({"locale": "en", "headers": {"Accept-Language": "ru"}}, "Set a new password"),
])
def test_the_reset_mail_is_in_the_users_language_else_the_pages(client, make_user, mailbox, how, subject):
    user = make_user("shopper", locale=how.get("locale"))
    forgot(client, user.email, **how.get("headers", {}))
    (message,) = mailbox.wait(1)
    assert subject_of(message) == subject
    text, html = parts(message)
    if subject.startswith("Задать"):
        assert "минут" in text and "Ссылка действует один раз" in text and "Ссылка действует один раз" in html


def test_signing_in_remembers_the_language_for_mail(app, db, make_user):
    user = make_user("shopper")
    client = app.test_client()
    client.post("/language/ru", data={})
    sign_in(client, user.email, PASSWORD)
    db.session.refresh(user)
    assert user.locale == "ru"
    browser = make_user("shopper")
    app.test_client().post("/login", data={"email": browser.email, "password": PASSWORD},
                           headers={"Accept-Language": "ru,en;q=0.5"})
    db.session.refresh(browser)
    assert browser.locale == "ru"


def test_the_reset_form_is_rate_limited_like_sign_in(make_app, app_config, db):
    app = make_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    with app.app_context():
        db.create_all()  # the app's own database (SQLite in memory); PostgreSQL has its tables already
        assert [forgot(client, "nobody@example.com").status_code for _ in range(3)] == [302, 302, 429]


def test_the_reset_forms_need_a_csrf_token(make_app, app_config, db):
    app = make_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    with app.app_context():
        db.create_all()
        assert forgot(client, "nobody@example.com").status_code == 400


# -- a slow or unreachable SMTP server -----------------------------------------------------------------------------


def test_a_slow_mail_server_does_not_hold_up_the_request(app, client, make_user, caplog):
    user = make_user("shopper")
    silent = socket.socket()  # accepts connections and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=2)
    try:
        began = time.monotonic()
        response = forgot(client, user.email)
        assert response.status_code == 302 and time.monotonic() - began < 1.5
        with caplog.at_level("ERROR", logger="app.mail"):
            wait_for_mail_threads()
    finally:
        silent.close()
    assert "Mail password_reset to" in caplog.text and "failed and is not retried" in caplog.text


def test_a_mail_server_that_is_down_does_not_fail_the_request(app, client, login, manager, make_visit, caplog):
    visit = make_visit(status=VisitStatus.submitted, submitted_at=lifecycle.utcnow())
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port())
    login(manager)
    with caplog.at_level("ERROR", logger="app.mail"):
        response = client.post(f"/review/visits/{visit.id}/decision", data={"decision": "return", "comment": "Fix"})
        wait_for_mail_threads()
    assert response.status_code == 302 and client.get(response.location).status_code == 200
    assert "Mail visit_returned to" in caplog.text and "ConnectionRefusedError" in caplog.text


def test_with_redis_mail_is_an_rq_job_that_is_retried_until_the_server_answers(app, client, make_user, smtp_server):
    redis = pytest.importorskip("redis")
    from rq import Queue, SimpleWorker

    from app import worker

    url = redis_or_skip(MAIL_REDIS)
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    user = make_user("shopper", locale="ru")
    app.config.update(REDIS_URL=url, MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_RETRY_INTERVALS=[1])
    queue = Queue(worker.MAIL_QUEUE, connection=connection)
    try:
        assert forgot(client, user.email).status_code == 302
        (job,) = queue.get_jobs()
        assert job.retries_left == 3

        SimpleWorker([queue], connection=connection).work(burst=True)  # the server is down: the attempt fails
        job.refresh()
        assert job.get_status() == "scheduled" and job.retries_left == 2
        assert smtp_server.messages == []

        app.config["MAIL_PORT"] = smtp_server.port  # the server is back
        time.sleep(1.2)
        SimpleWorker([queue], connection=connection).work(burst=True, with_scheduler=True)
        (message,) = smtp_server.wait(1)
        assert subject_of(message) == "Задать новый пароль" and message["To"] == user.email
        job.refresh()
        assert job.get_status() == "finished"
        assert not [t for t in __import__("threading").enumerate() if t.name == "mail"]  # never the web process
    finally:
        connection.flushdb()


def test_with_redis_down_mail_still_leaves_from_a_thread(app, client, make_user, mailbox):
    user = make_user("shopper")
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    assert forgot(client, user.email).status_code == 302
    (message,) = mailbox.wait(1)
    assert message["To"] == user.email


def test_every_visit_assigned_from_a_csv_file_is_mailed_once_committed(client, login, db, manager, make_user,
                                                                       make_location, make_checklist_version,
                                                                       mailbox):
    first, second = make_user("shopper", email="a@example.com"), make_user("shopper", email="b@example.com")
    location = make_location(code="MSK-01")
    make_checklist_version()
    end = (date.today() + timedelta(days=5)).isoformat()
    data = ("location_code,checklist_id,shopper_email,from,to\n"
            f"MSK-01,sample-visit,a@example.com,{date.today()},{end}\n"
            f"MSK-01,sample-visit,b@example.com,{date.today()},{end}\n")
    login(manager)
    dry = client.post("/planning/import", data={"file": (io.BytesIO(data.encode()), "a.csv"), "dry_run": "y"},
                      content_type="multipart/form-data")
    assert dry.status_code == 200
    wait_for_mail_threads()
    assert mailbox.messages == []  # a dry run rolls back: nobody hears of visits that were never made
    done = client.post("/planning/import", data={"file": (io.BytesIO(data.encode()), "a.csv")},
                       content_type="multipart/form-data")
    assert done.status_code == 200
    mailbox.wait(2)
    assert sorted(to[0] for to, _m in mailbox.received) == sorted([first.email, second.email])
    assert {subject_of(m) for m in mailbox.messages} == {f"New visit: {location.name}"}
