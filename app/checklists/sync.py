"""Store checklist files as immutable versions in the database.

`sync_checklists` adds to `db.session` and never commits: the caller commits once (the CLI does),
so a sync is all-or-nothing and tests can roll it back.
"""
import os
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select

from app.checklists.loader import ChecklistError, LoadedChecklist, load_checklist_dir
from app.extensions import db
from app.models.checklists import ChecklistVersion
from app.models.visits import Visit


@dataclass
class SyncReport:
    """What a sync did, file by file; refused and errors hold messages for the author."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[ChecklistError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when every file was synced."""
        return not self.refused and not self.errors

    def done_lines(self) -> list[str]:
        """Return one line per synced file, for people."""
        out = [f"{name}: added" for name in self.added]
        out += [f"{name}: updated in place (no visit used this version yet)" for name in self.updated]
        return out + [f"{name}: unchanged" for name in self.unchanged]

    def problem_lines(self) -> list[str]:
        """Return one line per refused file and per problem in a rejected file."""
        return self.refused + [str(problem) for error in self.errors for problem in error.problems]


def _label(item: LoadedChecklist) -> str:
    return f"{item.path} ({item.checklist.id} v{item.checklist.version})"


def _snapshot_fields(item: LoadedChecklist) -> dict[str, object]:
    checklist = item.checklist
    return {
        "title": checklist.title,
        "channel": checklist.channel,
        "definition": checklist.model_dump(mode="json"),
        "source_text": item.source_text,
        "source_hash": item.source_hash,
        "source_path": item.path,
    }


def sync_checklists(directory: str | os.PathLike[str]) -> SyncReport:
    """Add new checklist versions from `directory` to the session (not committed); return a report."""
    loaded, errors = load_checklist_dir(directory)
    report = SyncReport(errors=errors)
    for item in loaded:
        checklist = item.checklist
        stored = db.session.execute(
            select(ChecklistVersion).filter_by(checklist_id=checklist.id, version=checklist.version)
        ).scalar_one_or_none()
        if stored is None:
            db.session.add(ChecklistVersion(
                checklist_id=checklist.id, version=checklist.version, **_snapshot_fields(item)
            ))
            report.added.append(_label(item))
        elif stored.source_hash == item.source_hash:
            report.unchanged.append(_label(item))
        elif db.session.scalar(select(exists().where(Visit.checklist_version_id == stored.id))):
            report.refused.append(
                f"{item.path}: content changed but version {checklist.version} was not bumped;"
                f" visits already use it — bump `version`"
            )
        else:
            # The parsed definition is cached by (id, source_hash), so the new hash parses afresh.
            for name, value in _snapshot_fields(item).items():
                setattr(stored, name, value)
            report.updated.append(_label(item))
    db.session.flush()
    return report


def latest_versions() -> list[ChecklistVersion]:
    """Return the newest stored version of every checklist, ordered by title."""
    newest = (
        select(ChecklistVersion.checklist_id, func.max(ChecklistVersion.version).label("version"))
        .group_by(ChecklistVersion.checklist_id)
        .subquery()
    )
    query = (
        select(ChecklistVersion)
        .join(newest, (ChecklistVersion.checklist_id == newest.c.checklist_id)
              & (ChecklistVersion.version == newest.c.version))
        .order_by(ChecklistVersion.title, ChecklistVersion.checklist_id)
    )
    return list(db.session.execute(query).scalars())
