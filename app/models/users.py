"""People who use the app and what they may see."""
import enum
import secrets
from datetime import datetime
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

    #: Regions a manager is limited to; a manager with none sees the whole network (see app/access.py).
    regions: Mapped[list["Region"]] = relationship("Region", secondary=manager_regions, lazy="selectin")

    def set_password(self, password: str) -> None:
        """Hash and store the password; ends every existing login of this user."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.revoke_sessions()

    def check_password(self, password: str) -> bool:
        """Return True when the password matches."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

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
