"""Sign-in: the blueprint and its URL map (every view, error handler and template helper)."""
from flask import Blueprint

from app.auth import routes

bp = Blueprint("auth", __name__, template_folder="templates")

bp.add_url_rule("/login", view_func=routes.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", view_func=routes.logout, methods=["POST"])
bp.add_url_rule("/account/password", view_func=routes.change_password, methods=["GET", "POST"])
bp.add_url_rule("/password/forgot", view_func=routes.forgot_password, methods=["GET", "POST"])
bp.add_url_rule("/password/reset/<token>", view_func=routes.reset_password, methods=["GET", "POST"])
bp.add_url_rule("/language/<code>", view_func=routes.set_language, methods=["POST"])
