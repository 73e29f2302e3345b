"""Every state change of people and API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from parley.accounts.models import ApiToken, User
from parley.accounts.tokens import new_token
from parley.core.errors import ActionError, Conflict
from parley.tenancy.actions import do_create_workspace, record
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.tenancy.roles import ALL_SCOPES, Cap


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages), code="weak_password", field="password") from exc


@transaction.atomic
def do_create_user(*, email: str, password: str, name: str = "") -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise ActionError("Enter a valid email address.", code="invalid_email", field="email")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            "An account with this email exists already: log in instead.",
            code="email_taken",
            field="email",
        )
    user = User(email=email, name=name.strip())
    _check_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def do_signup(
    *, email: str, password: str, name: str, workspace_name: str, timezone_name: str = "UTC"
) -> tuple[User, Workspace]:
    user = do_create_user(email=email, password=password, name=name)
    workspace = do_create_workspace(
        owner=user, name=workspace_name, timezone_name=timezone_name or "UTC"
    )
    user.last_workspace_id = workspace.pk
    user.save(update_fields=["last_workspace_id"])
    return user, workspace


@transaction.atomic
def do_update_profile(*, user: User, name: str) -> User:
    user.name = name.strip()[:120]
    user.save(update_fields=["name"])
    return user


def _validate_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ActionError(
            f"Unknown scope(s) {', '.join(unknown)}; choose from {', '.join(ALL_SCOPES)}.",
            code="invalid_scope",
            field="scopes",
        )
    if not scopes:
        raise ActionError("Pick at least one scope.", code="required", field="scopes")
    return sorted(set(scopes))


@transaction.atomic
def do_create_token(
    *, actor: Actor, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned here and never again."""
    actor.require(Cap.TOKENS_MANAGE)
    name = name.strip()
    if not name:
        raise ActionError("Name the token after what will use it.", code="required", field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise ActionError(
            "The expiry must be in the future.", code="invalid_expiry", field="expires_at"
        )
    raw, key_id, secret_hash = new_token()
    token = ApiToken.objects.create(
        workspace=actor.workspace,
        name=name[:100],
        key_id=key_id,
        secret_hash=secret_hash,
        scopes=_validate_scopes(scopes),
        created_by=actor.user,
        expires_at=expires_at,
    )
    record(actor, "token.created", token.name, scopes=token.scopes)
    return token, raw


@transaction.atomic
def do_revoke_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    actor.require(Cap.TOKENS_MANAGE)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, "token.revoked", token.name)
    return token


@transaction.atomic
def do_rotate_token(*, actor: Actor, token: ApiToken) -> tuple[ApiToken, str]:
    """Replace the token's secret; the old value stops working at once."""
    actor.require(Cap.TOKENS_MANAGE)
    if token.revoked_at is not None:
        raise Conflict("A revoked token cannot be rotated.", code="token_revoked")
    raw, key_id, secret_hash = new_token()
    token.key_id = key_id
    token.secret_hash = secret_hash
    token.rotated_at = timezone.now()
    token.save(update_fields=["key_id", "secret_hash", "rotated_at"])
    record(actor, "token.rotated", token.name)
    return token, raw
