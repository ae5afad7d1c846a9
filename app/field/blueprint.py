"""The field app: its blueprints (pages under /visits, the phone's JSON under /api/v1) and their URL map."""
from flask import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from app.field import API_PREFIX, PAGES_PREFIX, form_page, pages, phone_api
from app.visits.errors import VisitError

bp = Blueprint(
    "field", __name__, url_prefix=PAGES_PREFIX,
    template_folder="templates", static_folder="static", static_url_path="/static",
)
api = Blueprint("api", __name__, url_prefix=API_PREFIX)

bp.add_url_rule("/", view_func=pages.my_visits)
bp.add_url_rule("/<int:visit_id>", view_func=pages.detail)
bp.add_url_rule("/photos/<token>", view_func=pages.photo)
api.register_error_handler(VisitError, phone_api.visit_error)
api.register_error_handler(RequestEntityTooLarge, phone_api.too_large)
api.add_url_rule("/csrf", view_func=phone_api.csrf_token)
api.add_url_rule("/visits", view_func=phone_api.visit_list)
api.add_url_rule("/visits/<int:visit_id>", view_func=phone_api.visit_definition)
api.add_url_rule("/visits/<int:visit_id>/start", view_func=phone_api.start, methods=["POST"])
api.add_url_rule("/visits/<int:visit_id>/draft", view_func=phone_api.save_draft, methods=["PUT"])
api.add_url_rule("/visits/<int:visit_id>/photos", view_func=phone_api.upload_photo, methods=["POST"])
api.add_url_rule("/visits/<int:visit_id>/photos/<token>", view_func=phone_api.delete_photo, methods=["DELETE"])
api.add_url_rule("/visits/<int:visit_id>/submit", view_func=phone_api.submit, methods=["POST"])
bp.add_url_rule("/<int:visit_id>/fill", view_func=form_page.fill)
bp.add_url_rule("/sw.js", view_func=form_page.service_worker)
