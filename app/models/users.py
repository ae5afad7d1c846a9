"""People who use the app and what they may see."""
import enum
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Column, Enum, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import Model, db
from app.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.locations import Region


class Role(str, enum.Enum):
    admin = "admin"
    manager = "manager"
    shopper = "shopper"


#: Wrong passwords in a row an account accepts before it makes the next attempt wait.
FREE_SIGN_IN_ATTEMPTS = 5
MAX_SIGN_IN_BLOCK = timedelta(hours=1)

manager_regions = Table(
    "manager_regions",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True, index=True),
)


def new_session_token() -> str:
    """Return a fresh random token that identifies the current generation of a user's logins."""
    return secrets.token_urlsafe(16)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    #: False once an admin deactivates the account: no login, every session ends.
    active: Mapped[bool] = mapped_column(default=True)
    #: Shown on reports instead of the shopper's name, e.g. "MS-014".
    shopper_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    #: Rotated on logout, password change and deactivation so that every session and
    #: remember-me cookie issued before stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Wrong passwords in a row, and until when this account refuses sign-ins (see check_sign_in).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    login_blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: Regions a manager is limited to; a manager with none sees the whole network (see app/access.py).
    regions: Mapped[list["Region"]] = relationship("Region", secondary=manager_regions, lazy="selectin")

    def set_password(self, password: str) -> None:
        """Hash and store the password; ends every existing login of this user."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.revoke_sessions()

    def check_password(self, password: str) -> bool:
        """Return True when the password matches."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def sign_in_blocked(self, now: datetime) -> timedelta | None:
        """Return how long sign-ins stay refused after too many wrong passwords, or None."""
        if self.login_blocked_until is None or self.login_blocked_until <= now:
            return None
        return self.login_blocked_until - now

    def record_sign_in(self, succeeded: bool, now: datetime) -> None:
        """Count a wrong password (blocking for 30 s, then twice as long each time, up to an hour), or reset."""
        if succeeded:
            self.failed_logins, self.login_blocked_until = 0, None
            return
        self.failed_logins = (self.failed_logins or 0) + 1
        over = self.failed_logins - FREE_SIGN_IN_ATTEMPTS
        if over >= 0:
            self.login_blocked_until = now + min(timedelta(seconds=30 * 2**min(over, 10)), MAX_SIGN_IN_BLOCK)

    def revoke_sessions(self) -> None:
        """Invalidate every session and remember cookie issued so far."""
        self.session_token = new_session_token()

    def get_id(self) -> str:
        # Flask-Login stores this in the session and the remember cookie; the token part lets
        # the loader refuse cookies from before a logout, password change or deactivation.
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"
