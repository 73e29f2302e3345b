"""API authentication: a workspace API token, or the browser's session."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from parley.accounts.access import actor_for_raw_token
from parley.tenancy.access import enter_workspace, enter_workspace_by_id, user_memberships
from parley.tenancy.actor import Actor

WORKSPACE_HEADER = "X-Parley-Workspace"


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return actor_for_raw_token(token.strip())


class SessionActorAuth(APIKeyCookie):
    """The logged-in user, in the workspace named by the X-Parley-Workspace
    header (a slug), else the one they last worked in. CSRF is checked on
    unsafe methods, as for any session-authenticated form."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = request.user
        if not user.is_authenticated:
            return None
        slug = request.headers.get(WORKSPACE_HEADER)
        if slug:
            return enter_workspace(user, slug)
        last = getattr(user, "last_workspace_id", None)
        if last is not None:
            try:
                return enter_workspace_by_id(user, last)
            except Http404:
                pass
        memberships = user_memberships(user)
        if not memberships:
            raise Http404("You belong to no workspace.")
        return enter_workspace_by_id(user, memberships[0].workspace_id)
