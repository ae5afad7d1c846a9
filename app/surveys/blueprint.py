"""Customer surveys: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint
from flask_wtf.csrf import CSRFError

from app.surveys import routes

bp = Blueprint("surveys", __name__, template_folder="templates")

bp.add_url_rule("/s/<token>", view_func=routes.respond, methods=["GET", "POST"])
bp.add_url_rule("/s/<token>/thanks", view_func=routes.thanks)
bp.register_error_handler(429, routes.too_many)
bp.register_error_handler(CSRFError, routes.form_expired)
bp.register_error_handler(404, routes.unknown_link)
bp.register_error_handler(503, routes.no_survey)
bp.add_url_rule("/surveys/", view_func=routes.index)
bp.add_url_rule("/surveys/locations/<int:location_id>/poster.pdf", view_func=routes.poster)
bp.add_url_rule("/surveys/import", view_func=routes.import_csv, methods=["GET", "POST"])
