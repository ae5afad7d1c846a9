"""Immutable snapshots of the checklist versions that visits are filled with."""
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.checklists.bounds import ID_LENGTH, TITLE_LENGTH
from app.checklists.schema import Checklist
from app.extensions import Model
from app.models.types import JSONType, UTCDateTime, utcnow

#: Parsed checklists by (version id, source hash): the one cache of parsed definitions.
_PARSED: dict[tuple[int, str], Checklist] = {}
_PARSED_MAX = 500


class ChecklistVersion(Model):
    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("checklist_id", "version", name="uq_checklist_versions_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The checklist's slug from its YAML `id`, stable across versions.
    checklist_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    channel: Mapped[str | None] = mapped_column(String(20), index=True)
    #: The parsed definition, Checklist.model_dump(mode="json"). Deferred: lists of visits never need it,
    #: and `checklist` reads it only once per process.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    source_text: Mapped[str] = mapped_column(Text, deferred=True)
    #: sha256 of the YAML bytes, to notice edits made without bumping `version`.
    source_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def checklist(self) -> Checklist:
        """Return the parsed Checklist of this version, parsed once per process (versions are immutable)."""
        key = (self.id, self.source_hash)
        checklist = _PARSED.get(key)
        if checklist is None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            checklist = _PARSED[key] = Checklist.model_validate(self.definition)
        return checklist

    def __repr__(self) -> str:
        return f"<ChecklistVersion {self.checklist_id} v{self.version}>"
