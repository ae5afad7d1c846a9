"""What the visit rules refuse, in domain terms: a machine code, a message for people, details.

No HTTP here: the JSON API maps codes to status codes (app/field/api.py), pages show the message.
"""
from __future__ import annotations

from typing import Any


class VisitError(Exception):
    """A request the visit rules refuse: machine code, message in the user's language, extra details."""

    code = "bad_request"

    def __init__(self, message: Any, *, code: str | None = None, **extra: Any):
        super().__init__(str(message))
        self.message = message
        self.code = code or self.code
        self.extra = extra

    @property
    def field(self) -> str | None:
        """Return the name of the input the refusal is about, if any."""
        return self.extra.get("field")


class SubmissionRace(Exception):
    """Another request changed the visit between our read and our write; roll back and try again."""
