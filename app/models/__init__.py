"""Database models, one module per aggregate; import everything here so Alembic sees it."""
from app.models.audit import AuditLog
from app.models.checklists import ChecklistVersion
from app.models.jobs import ExportJob
from app.models.locations import Location, Region
from app.models.rollups import QuestionRollup, RegionQuestionRollup, ScoreRollup
from app.models.surveys import SurveyResponse
from app.models.users import Role, User, manager_regions
from app.models.visits import (
    HANDED_IN_STATES,
    OPEN_STATES,
    ActionStatus,
    Answer,
    CorrectiveAction,
    Photo,
    ReviewComment,
    Visit,
    VisitEvent,
    VisitSectionScore,
    VisitStatus,
)
from app.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "HANDED_IN_STATES", "OPEN_STATES", "ActionStatus", "Answer", "AuditLog", "ChecklistVersion", "CorrectiveAction",
    "ExportJob",
    "Location", "Photo", "QuestionRollup", "Region", "RegionQuestionRollup", "ReviewComment", "Role", "ScoreRollup",
    "SurveyResponse", "User", "Visit",
    "VisitEvent", "VisitSectionScore", "VisitStatus", "WebhookDelivery", "WebhookEndpoint", "manager_regions",
]
