"""Administration: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint

from app.admin import routes, webhooks

bp = Blueprint(
    "admin", __name__, url_prefix="/admin",
    template_folder="templates", static_folder="static", static_url_path="/static",
)

bp.add_app_template_global(routes.role_label)
bp.add_app_template_filter(routes.admin_value, "admin_value")
bp.add_url_rule("/", view_func=routes.index)
bp.add_url_rule("/users", view_func=routes.users)
bp.add_url_rule("/users/new", view_func=routes.user_new, methods=["GET", "POST"])
bp.add_url_rule("/users/<int:user_id>", view_func=routes.user_edit, methods=["GET", "POST"])
bp.add_url_rule("/users/<int:user_id>/deactivate", view_func=routes.user_deactivate, methods=["POST"])
bp.add_url_rule("/users/<int:user_id>/reactivate", view_func=routes.user_reactivate, methods=["POST"])
bp.add_url_rule("/users/<int:user_id>/password", view_func=routes.user_password, methods=["GET", "POST"])
bp.add_url_rule("/regions", view_func=routes.regions)
bp.add_url_rule("/regions/new", view_func=routes.region_edit, methods=["GET", "POST"])
bp.add_url_rule("/regions/<int:region_id>", view_func=routes.region_edit, methods=["GET", "POST"])
bp.add_url_rule("/locations", view_func=routes.locations)
bp.add_url_rule("/locations/new", view_func=routes.location_edit, methods=["GET", "POST"])
bp.add_url_rule("/locations/import", view_func=routes.location_import, methods=["GET", "POST"])
bp.add_url_rule("/locations/import/example.csv", view_func=routes.location_import_example)
bp.add_url_rule("/locations/<int:location_id>", view_func=routes.location_edit, methods=["GET", "POST"])
bp.add_url_rule("/locations/<int:location_id>/deactivate", view_func=routes.location_deactivate, methods=["POST"])
bp.add_url_rule("/locations/<int:location_id>/reactivate", "location_reactivate", routes.location_deactivate,
                methods=["POST"])
bp.add_url_rule("/audit", view_func=routes.audit_log)
bp.add_url_rule("/webhooks", view_func=webhooks.webhooks)
bp.add_url_rule("/webhooks/new", view_func=webhooks.webhook_edit, methods=["GET", "POST"])
bp.add_url_rule("/webhooks/<int:endpoint_id>", view_func=webhooks.webhook_edit, methods=["GET", "POST"])
bp.add_url_rule("/webhooks/<int:endpoint_id>/secret", view_func=webhooks.webhook_secret, methods=["POST"])
bp.add_url_rule("/webhooks/<int:endpoint_id>/delete", view_func=webhooks.webhook_delete, methods=["POST"])
bp.add_url_rule("/webhooks/<int:endpoint_id>/deliveries", view_func=webhooks.webhook_log)
bp.add_url_rule("/webhooks/<int:endpoint_id>/ping", view_func=webhooks.webhook_ping, methods=["POST"])
