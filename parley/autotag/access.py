"""Fetching auto-tag rules, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from parley.autotag.models import Rule
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def _with_stats(qs: QuerySet[Rule]) -> QuerySet[Rule]:
    return qs.annotate(
        hit_count=Coalesce(F("stats__hits"), Value(0)), last_hit=F("stats__last_hit_at")
    )


def access_rule(actor: Actor, rule_id: int) -> Rule:
    actor.require(Cap.WORKSPACE_READ)
    rule = _with_stats(Rule.objects.filter(workspace=actor.workspace, id=rule_id)).first()
    if rule is None:
        raise Http404("No such auto-tag rule.")
    return rule


def rule_list(actor: Actor) -> QuerySet[Rule]:
    actor.require(Cap.WORKSPACE_READ)
    return _with_stats(Rule.objects.filter(workspace=actor.workspace)).order_by("position", "id")
