"""The dashboard blueprint with every view attached (what create_app registers)."""
from app.dashboard import actions, charts, routes  # noqa: F401  (the modules attach their views to bp)
from app.dashboard.blueprint import bp

__all__ = ["bp"]
