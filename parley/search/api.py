"""Search over the API. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.search import access, actions
from parley.search.engine import Filters, search
from parley.search.schemas import SavedSearchIn, SavedSearchOut, SearchOut
from parley.tenancy.actor import actor_of

router = Router(tags=["search"])


@router.get(
    "/search",
    response=SearchOut,
    summary="Search contacts, messages, notes and deals",
    description="Contacts by name, number, email or attribute value; messages by full text "
    "(every word, the last as a prefix); notes and deals by their words. The newest `limit` "
    "hits of each kind, grouped.",
)
def search_all(
    request: HttpRequest,
    q: str,
    kind: str = "all",
    since_days: int | None = None,
    direction: str = "",
    limit: int = 5,
) -> Any:
    filters = Filters(kind=kind, since_days=since_days, direction=direction)
    groups = search(actor_of(request), q, filters, limit=max(1, min(limit, 50)))
    return {"q": q, **groups}


@router.get("/saved-searches", response=list[SavedSearchOut], summary="My saved searches")
def list_saved(request: HttpRequest) -> Any:
    return list(access.saved_searches(actor_of(request)))


@router.post("/saved-searches", response={201: SavedSearchOut}, summary="Save a search")
def create_saved(request: HttpRequest, payload: SavedSearchIn) -> Any:
    saved = actions.do_save_search(
        actor=actor_of(request),
        name=payload.name,
        q=payload.q,
        filters=Filters(
            kind=payload.kind, since_days=payload.since_days, direction=payload.direction
        ),
    )
    return Status(201, saved)


@router.delete(
    "/saved-searches/{saved_search_id}", response={204: None}, summary="Delete a saved search"
)
def delete_saved(request: HttpRequest, saved_search_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_saved_search(
        actor=actor, saved=access.access_saved_search(actor, saved_search_id)
    )
    return Status(204, None)
