"""Immutable snapshots of the checklist versions that visits are filled with."""
from datetime import datetime
from functools import cached_property

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import JSONType, UTCDateTime, utcnow


class ChecklistVersion(db.Model):
    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("checklist_id", "version", name="uq_checklist_versions_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The checklist's slug from its YAML `id`, stable across versions.
    checklist_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str | None] = mapped_column(String(20), index=True)
    #: The parsed definition, Checklist.model_dump(mode="json").
    definition: Mapped[dict] = mapped_column(JSONType)
    source_text: Mapped[str] = mapped_column(Text)
    #: sha256 of the YAML bytes, to notice edits made without bumping `version`.
    source_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @cached_property
    def checklist(self):
        """Return the parsed Checklist of this version."""
        from app.checklists.schema import Checklist

        return Checklist.model_validate(self.definition)

    def __repr__(self) -> str:
        return f"<ChecklistVersion {self.checklist_id} v{self.version}>"
