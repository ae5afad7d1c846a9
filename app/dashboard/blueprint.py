"""The dashboard: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint

from app.dashboard import actions, charts, downloads, links, routes, shoppers
from app.dashboard import figures_api as figures_api_views

bp = Blueprint(
    "dashboard", __name__, url_prefix="/dashboard",
    template_folder="templates", static_folder="static", static_url_path="/static",
)

bp.add_app_template_global(routes.heat_cells)
bp.add_url_rule("/", view_func=routes.index)
bp.add_url_rule("/locations/<int:location_id>", view_func=routes.location)
bp.add_url_rule("/regions/<int:region_id>", view_func=routes.region)
bp.add_url_rule("/visits", view_func=routes.visits)
bp.add_url_rule("/shoppers", view_func=shoppers.shoppers)
bp.add_url_rule("/actions", view_func=actions.actions)
bp.add_url_rule("/visits/<int:visit_id>/actions/new", view_func=actions.new_action, methods=["GET", "POST"])
bp.add_url_rule("/actions/<int:action_id>/status", view_func=actions.action_status, methods=["POST"])
bp.add_url_rule("/export/<any(table, answers):what>.<any(csv, xlsx):fmt>", view_func=downloads.export,
                methods=["GET", "POST"])
bp.add_url_rule("/exports/<job_id>", view_func=downloads.export_status)
bp.add_url_rule("/exports/<job_id>.json", view_func=downloads.export_status_json)
bp.add_url_rule("/exports/<job_id>/download", view_func=downloads.export_download)
bp.add_app_template_global(charts.sparkline_svg)
bp.add_app_template_global(links.link_prefixes)

figures_api = Blueprint("figures_api", __name__, url_prefix="/api/v1/figures")
figures_api.add_url_rule("/locations/<code>", view_func=figures_api_views.location_figures)
figures_api.add_url_rule("/regions/<code>", view_func=figures_api_views.region_figures)
figures_api.add_url_rule("/network", view_func=figures_api_views.network_figures)
