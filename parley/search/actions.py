"""Every change to saved searches (each member keeps their own)."""

from __future__ import annotations

from django.db import transaction

from parley.core.errors import ActionError, Conflict
from parley.search.engine import Filters, validate
from parley.search.models import SavedSearch
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

MAX_SAVED = 50


def _require_person(actor: Actor) -> int:
    actor.require(Cap.CONTACTS_READ)
    if actor.user is None:
        raise ActionError(
            "Saved searches belong to a person; use a session, not an API token.",
            code="person_only",
        )
    return int(actor.user.pk)


@transaction.atomic
def do_save_search(*, actor: Actor, name: str, q: str, filters: Filters) -> SavedSearch:
    user_id = _require_person(actor)
    q = validate(q, filters)
    name = " ".join(name.split())[:80] or q[:80]
    mine = SavedSearch.objects.filter(workspace=actor.workspace, user_id=user_id)
    if mine.filter(name__iexact=name).exists():
        raise Conflict(f"You have a saved search {name!r} already.", code="duplicate", field="name")
    if mine.count() >= MAX_SAVED:
        raise ActionError(
            f"Keep at most {MAX_SAVED} saved searches; delete one first.", code="too_many"
        )
    return SavedSearch.objects.create(
        workspace=actor.workspace,
        user_id=user_id,
        name=name,
        q=q,
        kind=filters.kind,
        since_days=filters.since_days,
        direction=filters.direction,
    )


@transaction.atomic
def do_delete_saved_search(*, actor: Actor, saved: SavedSearch) -> None:
    _require_person(actor)
    saved.delete()
