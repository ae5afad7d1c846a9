"""The start page: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint

from app.main import routes

bp = Blueprint("main", __name__, template_folder="templates")

bp.add_url_rule("/", view_func=routes.home)
bp.add_url_rule("/api/v1/openapi.json", view_func=routes.openapi)
bp.add_url_rule("/favicon.ico", view_func=routes.favicon)
