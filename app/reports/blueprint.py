"""PDF reports: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint

from app.reports import routes

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates", static_folder="static")

bp.add_url_rule("/visits/<int:visit_id>.pdf", view_func=routes.visit_pdf)
bp.add_url_rule("/locations/<int:location_id>.pdf", view_func=routes.location_pdf)
bp.add_url_rule("/regions/<int:region_id>.pdf", view_func=routes.region_pdf)
bp.add_url_rule("/network.pdf", view_func=routes.network_pdf)
bp.add_url_rule("/batch", view_func=routes.batch, methods=["GET", "POST"])
bp.add_url_rule("/batch/<job_id>", view_func=routes.batch_status)
bp.add_url_rule("/batch/<job_id>.json", view_func=routes.batch_status_json)
bp.add_url_rule("/batch/<job_id>.zip", view_func=routes.batch_download)
