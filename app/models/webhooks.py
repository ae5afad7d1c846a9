"""Webhooks: the endpoints an admin registers, and every attempt to deliver an event to one."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import JSONType, UTCDateTime, utcnow

#: The longest endpoint address accepted.
URL_LENGTH = 2000


class WebhookEndpoint(Model):
    """An address that receives the events it asked for, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    #: What the endpoint is for, in the admin's words (which system, who runs it).
    description: Mapped[str] = mapped_column(String(200), default="")
    #: The HMAC-SHA256 key of the signatures: kept in clear, the app must sign with it; shown to admins on demand.
    secret: Mapped[str] = mapped_column(String(128))
    #: Event names (app.webhooks.events.EVENTS) it receives.
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        "WebhookDelivery", back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True)


class WebhookDelivery(Model):
    """One attempt to deliver one event to one endpoint (a retry is a new row with the same delivery id)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The log page: one endpoint's attempts, newest first.
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    #: The X-Fieldaudit-Delivery header: the same on every attempt of one delivery, so receivers drop repeats.
    delivery_id: Mapped[str] = mapped_column(String(36), index=True)
    #: 1 for the first try, 2 for the first retry, ...
    attempt: Mapped[int] = mapped_column(default=1)
    #: The HTTP status answered, None when no answer came (then `error` says why).
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    #: The first kilobyte of the answer's body.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship("WebhookEndpoint", back_populates="deliveries")

    @property
    def delivered(self) -> bool:
        """Return True when the endpoint answered 2xx."""
        return self.status_code is not None and 200 <= self.status_code < 300
