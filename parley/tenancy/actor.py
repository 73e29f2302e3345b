"""Who is acting, in which workspace, with which capabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from parley.tenancy.models import Workspace
from parley.tenancy.roles import HUMAN_ONLY, SCOPE_FOR_CAP, Cap, role_can

if TYPE_CHECKING:
    from parley.accounts.models import ApiToken, User


@dataclass(frozen=True)
class Actor:
    workspace: Workspace
    role: str
    user: User | None = None
    token: ApiToken | None = None

    def can(self, cap: Cap) -> bool:
        if not role_can(self.role, cap):
            return False
        if self.token is None:
            return True
        return cap not in HUMAN_ONLY and SCOPE_FOR_CAP[cap] in self.token.scopes

    def require(self, cap: Cap) -> None:
        if not self.can(cap):
            if self.token is not None and role_can(self.role, cap):
                raise PermissionDenied(
                    f"This API token lacks the scope {SCOPE_FOR_CAP[cap]!r} ({cap.value})."
                )
            raise PermissionDenied(f"Your role ({self.role}) does not allow {cap.value}.")

    @property
    def label(self) -> str:
        if self.token is not None:
            return f"API token {self.token.name}"
        return self.user.email if self.user is not None else "system"

    @property
    def display_name(self) -> str:
        """Who did it, as shown to people in histories and timelines."""
        if self.user is not None:
            return self.user.display_name
        return self.label

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


def actor_of(request: HttpRequest) -> Actor:
    """The Actor the API's authentication put on the request."""
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor
