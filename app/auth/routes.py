"""Sign-in and sign-out, language choice, password change, password reset by e-mail."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from app.access import public, roles_required
from app.auth import reset
from app.auth.forms import ForgotPasswordForm, LoginForm, PasswordForm, ResetPasswordForm
from app.extensions import db, limiter, login_manager
from app.mail import notifications
from app.mail.messages import external_url
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
            remember_language(user)
            db.session.commit()
            login_user(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


def remember_language(user: User) -> None:
    """Keep the language the user signs in with (chosen on this page, or else their browser's, if they never chose
    one): the language of their e-mail."""
    chosen = session.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        user.locale = chosen
    elif not user.locale:
        user.locale = str(get_locale())


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


@limiter.limit(
    login_rate_limit, methods=["POST"], error_message=_l("Too many attempts. Wait a minute and try again.")
)
@public
def forgot_password() -> ResponseReturnValue:
    """Ask for an e-mail address and send a reset link to it; the answer is the same whether an account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.active:
            link = external_url("auth.reset_password", token=reset.make_token(user))
            minutes = max(1, int(current_app.config["PASSWORD_RESET_MAX_AGE"]) // 60)
            notifications.password_reset(user, link, minutes)
        flash(_("If an account with this address exists, a link to set a new password is on its way to it. "
                "Check your mail, and the spam folder too."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@limiter.limit(
    login_rate_limit, methods=["POST"], error_message=_l("Too many attempts. Wait a minute and try again.")
)
@public
def reset_password(token: str) -> ResponseReturnValue:
    """Set a new password from a reset link; every session of the account ends. :raise 400: for a link that is
    wrong, expired or already used (the page says so and offers a new one)."""
    user = reset.user_for_token(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.new.data or "")  # a new hash and session token: this link and every session end
        user.record_sign_in(True, utcnow())  # whoever reads the mail may sign in at once, even after lockout
        record(user, "user.password_reset_email", user)
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your new password is set, and every device was signed out. Sign in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user), 400 if form.errors else 200
