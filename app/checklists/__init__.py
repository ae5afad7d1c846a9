"""The checklist engine: YAML checklists loaded into typed definitions (scoring lives in app.scoring)."""
from app.checklists.loader import (
    ChecklistError,
    ChecklistProblem,
    LoadedChecklist,
    load_checklist_dir,
    load_checklist_file,
    parse_checklist,
)
from app.checklists.schema import Checklist, Section

__all__ = [
    "Checklist", "ChecklistError", "ChecklistProblem", "LoadedChecklist", "Section",
    "load_checklist_dir", "load_checklist_file", "parse_checklist",
]
