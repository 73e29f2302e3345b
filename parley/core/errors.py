"""Errors a person can act on. Views show them as form errors or messages,
the API as JSON ``{"code", "message", "field"}``."""

from __future__ import annotations


class ActionError(Exception):
    """A state change refused for a reason the caller can fix."""

    status = 400

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class Conflict(ActionError):  # noqa: N818
    status = 409
