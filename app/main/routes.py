"""Start page: sends each role to where its work is; the JSON API's description."""
from functools import cache
from typing import Any

import yaml
from flask import current_app, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.access import public, roles_required
from app.config import REPO_ROOT
from app.models import Role

HOME_BY_ROLE = {
    Role.shopper: "field.my_visits",
    Role.manager: "dashboard.index",
    Role.admin: "dashboard.index",
}


@roles_required(*Role)
def home() -> ResponseReturnValue:
    """Redirect to the role's main page, or show the role's overview."""
    endpoint = HOME_BY_ROLE[current_user.role]
    if endpoint in current_app.view_functions:
        return redirect(url_for(endpoint))
    return render_template("main/home.html")


@public
def favicon() -> ResponseReturnValue:
    """Send browsers that ask for /favicon.ico on their own (PDF viewers, JSON pages) to the site's icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@public
def openapi() -> ResponseReturnValue:
    """Return docs/openapi.yaml, the description of the JSON API, as JSON."""
    return jsonify(openapi_description())


@cache
def openapi_description() -> dict[str, Any]:
    """Return the OpenAPI description of the JSON API (read once per process)."""
    return yaml.safe_load((REPO_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
