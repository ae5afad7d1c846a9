"""Sign-in and sign-out, language choice, password change."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from app.access import public, roles_required
from app.auth.forms import LoginForm, PasswordForm
from app.extensions import db, limiter, login_manager
from app.models import Role, User
from app.models.audit import record
from app.models.types import utcnow
from app.web import safe_next


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the user of a session or remember cookie, or None if it was revoked."""
    pk, _sep, token = user_id.partition(":")
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 10 or not token:
        return None
    user = db.session.get(User, int(pk))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@limiter.limit(
    login_rate_limit, methods=["POST"], error_message=_l("Too many sign-in attempts. Wait a minute and try again.")
)
@public
def login() -> ResponseReturnValue:
    """Show the sign-in form; sign the user in on valid credentials."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        now = utcnow()
        blocked = user.sign_in_blocked(now) if user is not None else None
        if blocked is not None:
            # The same answer whatever the password: guessing goes no faster from many addresses.
            minutes = max(1, -(-int(blocked.total_seconds()) // 60))
            flash(ngettext("Too many wrong passwords for this account. Try again in %(num)d minute.",
                           "Too many wrong passwords for this account. Try again in %(num)d minutes.", minutes),
                  "error")
            return render_template("auth/login.html", form=form), 429
        if user is None or not user.check_password(form.password.data or ""):
            if user is not None:
                user.record_sign_in(False, now)
                db.session.commit()
            flash(_("Wrong email or password."), "error")
        elif not user.active:
            flash(_("This account is deactivated. Ask your administrator."), "error")
        else:
            # Without "keep me signed in" the session ends with the browser; with it, both the session
            # and the remember cookie last PERMANENT_SESSION_LIFETIME / REMEMBER_COOKIE_DURATION (30 days).
            session.permanent = bool(form.remember.data)
            user.record_sign_in(True, now)
            db.session.commit()
            login_user(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@roles_required(*Role)
def logout() -> ResponseReturnValue:
    """Sign out everywhere: this revokes every session and remember cookie of the user."""
    current_user.revoke_sessions()
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@roles_required(*Role)
def change_password() -> ResponseReturnValue:
    """Change one's own password; other devices are signed out."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors = [*form.current.errors, _("The current password is wrong.")]
        else:
            current_user.set_password(form.new.data)
            record(current_user, "user.password_change", current_user)
            db.session.commit()
            login_user(current_user._get_current_object())  # keep this device signed in with the new token
            flash(_("Password changed. Other devices were signed out."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@public
def set_language(code: str) -> ResponseReturnValue:
    """Remember the chosen page language."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.home"))
