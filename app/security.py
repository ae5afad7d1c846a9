"""Access control: every route declares who may use it, and undeclared routes are refused."""
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

from app.models import Role

PUBLIC = "public"


def roles_required(*roles: Role | str):
    """Allow the decorated view only to signed-in users with one of `roles`.

    :raise 401: (redirect to login) when anonymous; :raise 403: for other roles.
    """
    allowed = frozenset(Role(r) for r in roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = allowed
        return wrapped

    return decorator


def public(view):
    """Mark a view as open to anonymous visitors (login, public survey pages)."""
    view.access = PUBLIC
    return view


def refuse_undeclared_routes() -> None:
    """before_request hook: refuse any endpoint that forgot to declare its access rule."""
    if request.endpoint is None or request.endpoint == "static" or request.endpoint.endswith(".static"):
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "access", None) is None:
        abort(403)


def region_scope(user) -> set[int] | None:
    """Return the region ids `user` may see, or None for the whole network."""
    if user.role == Role.shopper:
        return set()
    return user.region_ids
