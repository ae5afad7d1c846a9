"""Review: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint

from app.review import routes
from app.visits.photos import evidence, problem_message
from app.visits.risk import RiskSettings, level

bp = Blueprint("review", __name__, url_prefix="/review", template_folder="templates", static_folder="static",
               static_url_path="/static")

bp.add_url_rule("/", view_func=routes.queue)
bp.add_url_rule("/visits/<int:visit_id>", view_func=routes.visit)
bp.add_url_rule("/approve", view_func=routes.approve_selected, methods=["POST"])
bp.add_url_rule("/visits/<int:visit_id>/reviewer", view_func=routes.assign_reviewer, methods=["POST"])
bp.add_url_rule("/visits/<int:visit_id>/decision", view_func=routes.decide, methods=["POST"])
bp.add_url_rule("/comments", view_func=routes.add_comment, methods=["POST"])
bp.add_url_rule("/comments/<int:comment_id>/delete", view_func=routes.delete_comment, methods=["POST"])
bp.add_app_template_global(problem_message, "photo_problem")
bp.add_app_template_global(evidence, "photo_evidence")


@bp.app_template_global("risk_level")
def risk_level(score: int | None) -> str | None:
    """Return the risk level of a score ("high", "medium", "low", "none"; None when not computed)."""
    return level(score, RiskSettings.current())
