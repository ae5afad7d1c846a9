"""Start page: sends each role to where its work is."""
from flask import current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.access import roles_required
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
