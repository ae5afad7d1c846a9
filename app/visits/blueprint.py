"""Blueprints of the field app: pages under /visits, JSON under /api/v1."""
from flask import Blueprint

bp = Blueprint(
    "visits", __name__, url_prefix="/visits",
    template_folder="templates", static_folder="static", static_url_path="/static",
)
api = Blueprint("api", __name__, url_prefix="/api/v1")
