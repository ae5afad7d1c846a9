"""Password-reset links: signed with SECRET_KEY, expiring, and bound to the password they replace.

A token carries the user's id and a fingerprint of their password hash and session token. Setting a new password
changes both, so a link works once; so does any other password change, and signing out everywhere (which rotates the
session token) kills links sent before. Expiry is PASSWORD_RESET_MAX_AGE seconds (itsdangerous' timestamp).
"""
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.extensions import db
from app.models import User

SALT = "fieldaudit.password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def fingerprint(user: User) -> str:
    """Return a short digest of what a reset changes (the password hash and the session token)."""
    return hashlib.sha256(f"{user.password_hash}\n{user.session_token}".encode()).hexdigest()[:32]


def make_token(user: User) -> str:
    """Return a reset token for `user`, valid until used or PASSWORD_RESET_MAX_AGE seconds have passed."""
    return _serializer().dumps({"u": user.id, "f": fingerprint(user)})


def user_for_token(token: str) -> User | None:
    """Return the active user a valid token was made for, or None (bad signature, expired, already used)."""
    try:
        data = _serializer().loads(token, max_age=int(current_app.config["PASSWORD_RESET_MAX_AGE"]))
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("f"), str):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or not hmac.compare_digest(fingerprint(user), data["f"]):
        return None
    return user
