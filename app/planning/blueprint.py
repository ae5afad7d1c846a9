"""Planning: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint

from app.planning import routes

bp = Blueprint("planning", __name__, url_prefix="/planning", template_folder="templates")

bp.add_url_rule("/", view_func=routes.index)
bp.add_url_rule("/assign", view_func=routes.assign, methods=["GET", "POST"])
bp.add_url_rule("/visits/<int:visit_id>/edit", view_func=routes.edit, methods=["GET", "POST"])
bp.add_url_rule("/visits/<int:visit_id>/cancel", view_func=routes.cancel, methods=["GET", "POST"])
bp.add_url_rule("/import", view_func=routes.import_csv, methods=["GET", "POST"])
bp.add_url_rule("/import/example.csv", view_func=routes.example_csv)
