"""Who changed what, for every decision that matters."""
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.types import JSONType, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.users import User


class AuditLog(Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: What happened, e.g. "visit.approve", "user.deactivate".
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    user: Mapped["User | None"] = relationship("User")


def record(user: "User | None", action: str, target: Model, **details: object) -> AuditLog:
    """Add an audit entry for `user` doing `action` to `target` (not committed)."""
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=getattr(target, "id", None),
        details=details,
    )
    db.session.add(entry)
    return entry
