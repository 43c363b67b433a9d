"""Business-rule errors. Each carries a Chinese message meant for the user."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation; ``message`` is shown to the user as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    """The acting user may not do this."""
