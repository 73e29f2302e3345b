"""Fetches of account objects: API tokens by id, and by their raw value."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import Http404
from django.utils import timezone

from parley.accounts.models import ApiToken
from parley.accounts.tokens import secret_matches, split_token
from parley.core.tenant import activate_workspace, dangerously_cross_tenant
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Role


def access_token(actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(workspace=actor.workspace, id=token_id).first()
    if token is None:
        raise Http404("No such API token.")
    return token


def actor_for_raw_token(raw: str) -> Actor | None:
    """Authenticate a bearer token; on success the transaction sees its workspace."""
    parts = split_token(raw)
    if parts is None:
        return None
    key_id, secret = parts
    # The workspace is unknown until the token is found: a global lookup.
    with dangerously_cross_tenant(reason="API token authentication"):
        token = ApiToken.objects.select_related("workspace").filter(key_id=key_id).first()
    if token is None or not secret_matches(secret, token.secret_hash) or not token.is_usable:
        return None
    activate_workspace(token.workspace_id)
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PARLEY_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is None or token.last_used_at < stale:
        # Throttled so a busy integration does not write on every request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    # Tokens are created by admins and act with an admin's reach, cut down
    # to their scopes (see Actor.can).
    return Actor(workspace=token.workspace, role=Role.ADMIN, token=token)
