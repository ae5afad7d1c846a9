"""E-mail end to end: a real SMTP server on loopback receives what the app sends, and the tests read it back."""
from app.mail import outbox
from tests.conftest import wait_for_mail_threads


def parts(message):
    """Return the plain-text and HTML parts of a message."""
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def subject_of(message) -> str:
    """Return the subject as a mail client shows it (a long encoded subject is folded right after "Subject:", and
    the parser keeps that fold's space)."""
    return message["Subject"].strip()


# -- sending -------------------------------------------------------------------------------------------------------


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
