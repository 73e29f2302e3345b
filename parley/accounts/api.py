"""The caller's own profile, their workspaces, and API tokens."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Status

from parley.accounts import access, actions
from parley.accounts.models import ApiToken
from parley.accounts.schemas import (
    MeOut,
    MeUpdateIn,
    TokenIn,
    TokenOut,
    TokenPage,
    TokenSecretOut,
    WorkspaceLinkOut,
)
from parley.core.pagination import paginate
from parley.tenancy.access import user_memberships
from parley.tenancy.actor import Actor, actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["account"])


def _me(actor: Actor) -> dict[str, Any]:
    return {
        "kind": "token" if actor.token else "user",
        "user_id": actor.user_id,
        "email": actor.user.email if actor.user else None,
        "name": actor.user.name if actor.user else None,
        "workspace_id": actor.workspace.pk,
        "workspace_slug": actor.workspace.slug,
        "role": actor.role,
        "token_name": actor.token.name if actor.token else None,
        "scopes": actor.token.scopes if actor.token else None,
    }


@router.get("/me", response=MeOut, summary="Who is calling, in which workspace")
def me(request: HttpRequest) -> Any:
    return _me(actor_of(request))


@router.patch("/me", response=MeOut, summary="Update your own profile (session only)")
def update_me(request: HttpRequest, payload: MeUpdateIn) -> Any:
    actor = actor_of(request)
    if actor.user is None:
        raise PermissionDenied("An API token has no profile; log in to change yours.")
    actions.do_update_profile(user=actor.user, name=payload.name)
    return _me(actor)


@router.get("/me/workspaces", response=list[WorkspaceLinkOut], summary="Your workspaces")
def my_workspaces(request: HttpRequest) -> Any:
    actor = actor_of(request)
    if actor.user is None:
        return [
            {
                "id": actor.workspace.pk,
                "name": actor.workspace.name,
                "slug": actor.workspace.slug,
                "role": actor.role,
            }
        ]
    return [
        {"id": m.workspace_id, "name": m.workspace.name, "slug": m.workspace.slug, "role": m.role}
        for m in user_memberships(actor.user)
    ]


def _token_out(token: ApiToken) -> dict[str, Any]:
    return TokenOut.model_validate(token).model_dump()


@router.get("/tokens", response=TokenPage, summary="List API tokens (admins)")
def list_tokens(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    actor = actor_of(request)
    actor.require(Cap.TOKENS_MANAGE)
    return paginate(ApiToken.objects.filter(workspace=actor.workspace), cursor=cursor, limit=limit)


@router.post(
    "/tokens",
    response={201: TokenSecretOut},
    summary="Create an API token",
    description="The token's secret is in this response only; it is stored hashed.",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    actor = actor_of(request)
    token, raw = actions.do_create_token(
        actor=actor, name=payload.name, scopes=payload.scopes, expires_at=payload.expires_at
    )
    return Status(201, {**_token_out(token), "token": raw})


@router.get("/tokens/{token_id}", response=TokenOut, summary="Get an API token")
def get_token(request: HttpRequest, token_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.TOKENS_MANAGE)
    return access.access_token(actor, token_id)


@router.post(
    "/tokens/{token_id}/rotate", response=TokenSecretOut, summary="Rotate a token's secret"
)
def rotate_token(request: HttpRequest, token_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.TOKENS_MANAGE)
    token, raw = actions.do_rotate_token(actor=actor, token=access.access_token(actor, token_id))
    return {**_token_out(token), "token": raw}


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.TOKENS_MANAGE)
    return actions.do_revoke_token(actor=actor, token=access.access_token(actor, token_id))
