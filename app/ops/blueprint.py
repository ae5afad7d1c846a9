"""Operations: the probes' URL map (metrics and logs are set up by app.ops.metrics and app.ops.logs)."""
from flask import Blueprint

from app.ops import routes

bp = Blueprint("ops", __name__)

bp.add_url_rule("/healthz", view_func=routes.healthz)
bp.add_url_rule("/readyz", view_func=routes.readyz)
