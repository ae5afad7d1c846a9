"""E-mail: messages composed in the recipient's language, sent after the commit and outside the request.

`messages.compose` renders a message (plain text plus an HTML alternative, from `templates/mail/`) for one user in
their language; `outbox.send_after_commit` keeps it until the database transaction that caused it commits (a rolled
back change sends nothing) and then hands it to RQ (`REDIS_URL`: the mail queue, retried) or to a thread of the web
process; `outbox.deliver` talks SMTP through Flask-Mailman. Without MAIL_SERVER nothing is sent and the log says so.
`notifications` holds the messages the app sends: visit assigned, visit returned, password reset.
"""
