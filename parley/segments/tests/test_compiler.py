"""Every operator against real rows: Ann, Bob and Cat (see world.py) each
must or must not match, so a condition that matched everyone, or no one,
fails here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from parley.core.errors import ActionError
from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.segments.compiler import contacts_matching, count_matching
from parley.segments.tests.world import World, build_world
from parley.segments.validation import validate_definition
from tests.factories import Tenant

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _days(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


# (condition, who matches). Tag names in "@Name" are replaced by their ids.
CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"field": "tags", "op": "has_any", "value": ["@VIP", "@Cold"]}, {"ann"}),
    ({"field": "tags", "op": "has_any", "value": ["@Lead"]}, {"ann", "bob"}),
    ({"field": "tags", "op": "has_all", "value": ["@VIP", "@Lead"]}, {"ann"}),
    ({"field": "tags", "op": "has_all", "value": ["@Lead", "@Cold"]}, set()),
    ({"field": "tags", "op": "has_none", "value": ["@VIP"]}, {"bob", "cat"}),
    ({"field": "tags", "op": "has_none", "value": ["@VIP", "@Lead"]}, {"cat"}),
    # text attribute
    ({"field": "attribute", "key": "plan", "op": "eq", "value": "free"}, {"bob"}),
    ({"field": "attribute", "key": "plan", "op": "neq", "value": "free"}, {"ann", "cat"}),
    ({"field": "attribute", "key": "plan", "op": "contains", "value": "gold p"}, {"ann"}),
    ({"field": "attribute", "key": "plan", "op": "contains", "value": ".*"}, set()),
    ({"field": "attribute", "key": "plan", "op": "is_set"}, {"ann", "bob"}),
    ({"field": "attribute", "key": "plan", "op": "not_set"}, {"cat"}),
    # number attribute
    ({"field": "attribute", "key": "seats", "op": "eq", "value": 12}, {"ann"}),
    ({"field": "attribute", "key": "seats", "op": "eq", "value": "3.5"}, {"bob"}),
    ({"field": "attribute", "key": "seats", "op": "neq", "value": 12}, {"bob", "cat"}),
    ({"field": "attribute", "key": "seats", "op": "gt", "value": 3.5}, {"ann"}),
    ({"field": "attribute", "key": "seats", "op": "gte", "value": 3.5}, {"ann", "bob"}),
    ({"field": "attribute", "key": "seats", "op": "lt", "value": 12}, {"bob"}),
    ({"field": "attribute", "key": "seats", "op": "lte", "value": 12}, {"ann", "bob"}),
    ({"field": "attribute", "key": "seats", "op": "between", "value": [1, 4]}, {"bob"}),
    ({"field": "attribute", "key": "seats", "op": "between", "value": [4, 12]}, {"ann"}),
    ({"field": "attribute", "key": "seats", "op": "not_set"}, {"cat"}),
    # date attribute
    ({"field": "attribute", "key": "renewal", "op": "before", "value": _days(6)}, {"bob"}),
    ({"field": "attribute", "key": "renewal", "op": "after", "value": "2020-01-01"}, {"ann"}),
    ({"field": "attribute", "key": "renewal", "op": "on", "value": "2020-01-01"}, {"bob"}),
    ({"field": "attribute", "key": "renewal", "op": "within_last_days", "value": 7}, {"ann"}),
    ({"field": "attribute", "key": "renewal", "op": "within_last_days", "value": 4}, set()),
    ({"field": "attribute", "key": "renewal", "op": "more_than_days_ago", "value": 30}, {"bob"}),
    ({"field": "attribute", "key": "renewal", "op": "is_set"}, {"ann", "bob"}),
    # boolean attribute
    ({"field": "attribute", "key": "vip", "op": "is_true"}, {"ann"}),
    ({"field": "attribute", "key": "vip", "op": "is_false"}, {"bob"}),
    ({"field": "attribute", "key": "vip", "op": "not_set"}, {"cat"}),
    # choice attribute
    ({"field": "attribute", "key": "tier", "op": "in", "value": ["a", "c"]}, {"ann"}),
    ({"field": "attribute", "key": "tier", "op": "not_in", "value": ["a"]}, {"bob", "cat"}),
    ({"field": "attribute", "key": "tier", "op": "is_set"}, {"ann", "bob"}),
    # consent
    ({"field": "consent", "op": "in", "value": ["opted_in"]}, {"ann"}),
    ({"field": "consent", "op": "in", "value": ["unknown", "opted_out"]}, {"bob", "cat"}),
    # contact dates
    ({"field": "last_inbound_at", "op": "within_last_days", "value": 7}, {"ann"}),
    ({"field": "last_inbound_at", "op": "more_than_days_ago", "value": 1}, {"ann"}),
    ({"field": "last_inbound_at", "op": "more_than_days_ago", "value": 3}, set()),
    ({"field": "last_inbound_at", "op": "never"}, {"bob", "cat"}),
    ({"field": "last_inbound_at", "op": "ever"}, {"ann"}),
    ({"field": "last_outbound_at", "op": "within_last_days", "value": 30}, set()),
    ({"field": "last_outbound_at", "op": "more_than_days_ago", "value": 30}, {"ann"}),
    ({"field": "last_outbound_at", "op": "never"}, {"bob", "cat"}),
    ({"field": "created_at", "op": "within_last_days", "value": 30}, {"bob", "cat"}),
    ({"field": "created_at", "op": "more_than_days_ago", "value": 30}, {"ann"}),
    ({"field": "created_at", "op": "before", "value": _days(50)}, {"ann"}),
    ({"field": "created_at", "op": "after", "value": _days(50)}, {"bob", "cat"}),
    ({"field": "created_at", "op": "on", "value": _days(100)}, {"ann"}),
    ({"field": "last_inbound_at", "op": "before", "value": _days(50)}, set()),
    ({"field": "last_inbound_at", "op": "after", "value": _days(7)}, {"ann"}),
    # conversations
    (
        {"field": "conversation_status", "op": "has_conversation_with_status", "value": ["open"]},
        {"ann"},
    ),
    (
        {
            "field": "conversation_status",
            "op": "has_conversation_with_status",
            "value": ["pending", "resolved"],
        },
        {"bob"},
    ),
    (
        {
            "field": "conversation_status",
            "op": "has_no_conversation_with_status",
            "value": ["open"],
        },
        {"bob", "cat"},
    ),
    # name (saved or WhatsApp profile), phone, email
    ({"field": "name", "op": "contains", "value": "CUSTOM"}, {"ann"}),
    ({"field": "name", "op": "contains", "value": "bob"}, {"bob"}),
    ({"field": "name", "op": "eq", "value": "cat"}, {"cat"}),
    ({"field": "name", "op": "is_set"}, {"ann", "bob", "cat"}),
    ({"field": "name", "op": "not_set"}, set()),
    ({"field": "phone", "op": "contains", "value": "+44 7700"}, {"cat"}),
    ({"field": "phone", "op": "eq", "value": "+49 151 00000001"}, {"ann"}),
    ({"field": "phone", "op": "is_set"}, {"ann", "cat"}),
    ({"field": "phone", "op": "not_set"}, {"bob"}),
    ({"field": "email", "op": "contains", "value": "@EXAMPLE"}, {"ann"}),
    ({"field": "email", "op": "eq", "value": "Ann@example.com"}, {"ann"}),
    ({"field": "email", "op": "is_set"}, {"ann"}),
    ({"field": "email", "op": "not_set"}, {"bob", "cat"}),
]


@pytest.fixture
def world(tenant_a: Tenant) -> World:
    return build_world(tenant_a)


def _resolve(condition: dict[str, Any], world: World) -> dict[str, Any]:
    value = condition.get("value")
    if isinstance(value, list):
        value = [
            world.tags[v[1:]] if isinstance(v, str) and v.startswith("@") else v for v in value
        ]
        return {**condition, "value": value}
    return condition


def _match(tenant: Tenant, world: World, definition: dict[str, Any]) -> set[str]:
    with workspace_context(tenant.workspace.pk):
        checked = validate_definition(tenant.workspace.pk, definition)
        return world.names(
            set(contacts_matching(tenant.workspace.pk, checked).values_list("id", flat=True))
        )


@pytest.mark.parametrize(
    ("condition", "expected"),
    CASES,
    ids=[f"{c['field']}-{c['op']}-{i}" for i, (c, _) in enumerate(CASES)],
)
def test_operator(
    condition: dict[str, Any], expected: set[str], tenant_a: Tenant, world: World
) -> None:
    definition = {"match": "all", "conditions": [_resolve(condition, world)]}
    assert _match(tenant_a, world, definition) == expected


def test_all_and_any_combine_conditions(tenant_a: Tenant, world: World) -> None:
    lead = {"field": "tags", "op": "has_any", "value": [world.tags["Lead"]]}
    opted_out = {"field": "consent", "op": "in", "value": ["opted_out"]}
    never_wrote = {"field": "last_inbound_at", "op": "never"}
    assert _match(tenant_a, world, {"match": "all", "conditions": [lead, opted_out]}) == {"bob"}
    assert _match(tenant_a, world, {"match": "any", "conditions": [opted_out, never_wrote]}) == {
        "bob",
        "cat",
    }
    assert _match(tenant_a, world, {"match": "any", "conditions": []}) == {"ann", "bob", "cat"}


def test_other_workspaces_contacts_never_match(
    tenant_a: Tenant, tenant_b: Tenant, world: World
) -> None:
    with workspace_context(tenant_b.workspace.pk):
        Contact.objects.create(workspace=tenant_b.workspace, wa_id="4915100000001", name="Ann B")
    everyone = {"match": "all", "conditions": []}
    assert _match(tenant_a, world, everyone) == {"ann", "bob", "cat"}
    with workspace_context(tenant_b.workspace.pk):
        assert count_matching(tenant_b.workspace.pk, everyone) == 1


def test_a_count_is_one_query(
    tenant_a: Tenant, world: World, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    definition = {
        "match": "any",
        "conditions": [
            {"field": "tags", "op": "has_all", "value": [world.tags["VIP"], world.tags["Lead"]]},
            {"field": "tags", "op": "has_none", "value": [world.tags["Cold"]]},
            {"field": "attribute", "key": "renewal", "op": "within_last_days", "value": 30},
            {"field": "attribute", "key": "seats", "op": "between", "value": [1, 5]},
            {"field": "created_at", "op": "before", "value": "2030-01-01"},
            {
                "field": "conversation_status",
                "op": "has_conversation_with_status",
                "value": ["open"],
            },
            {"field": "consent", "op": "in", "value": ["opted_in"]},
            {"field": "name", "op": "contains", "value": "a"},
        ],
    }
    with workspace_context(tenant_a.workspace.pk):
        stored = validate_definition(tenant_a.workspace.pk, definition).as_json()
        with django_assert_num_queries(1):
            assert count_matching(tenant_a.workspace.pk, stored) == 3


def test_dates_are_the_workspaces_calendar_days(tenant_a: Tenant, world: World) -> None:
    # Ann was created 100 days ago in UTC; 14 hours east her day may differ,
    # and the answer must follow the workspace's clock, not the server's.
    with workspace_context(tenant_a.workspace.pk):
        created = Contact.objects.get(pk=world.contacts["ann"]).created_at
    tenant_a.workspace.timezone = "Pacific/Kiritimati"  # UTC+14
    tenant_a.workspace.save(update_fields=["timezone"])
    local_day = (created + timedelta(hours=14)).date().isoformat()
    on = {"field": "created_at", "op": "on", "value": local_day}
    assert _match(tenant_a, world, {"conditions": [on]}) == {"ann"}
    utc_day = created.date().isoformat()
    if utc_day != local_day:
        on_utc = {"field": "created_at", "op": "on", "value": utc_day}
        assert _match(tenant_a, world, {"conditions": [on_utc]}) == set()


def test_a_changed_attribute_type_matches_nothing_instead_of_failing(
    tenant_a: Tenant, world: World
) -> None:
    # Saved when "plan" held numbers; the stored text values must not break the query.
    # jsonb orders every string below every number, so "lt" would match them
    # all without the compiler's type test.
    for op, value in (("gt", 1), ("lt", 1000), ("between", [-1000, 1000])):
        stored = {"conditions": [{"field": "attribute", "key": "plan", "op": op, "value": value}]}
        with workspace_context(tenant_a.workspace.pk):
            assert count_matching(tenant_a.workspace.pk, stored) == 0, op
            assert Contact.objects.filter(attributes__has_key="plan").exists()


def test_a_definition_that_is_not_valid_json_shape_is_refused(tenant_a: Tenant) -> None:
    with pytest.raises(ActionError) as info:
        contacts_matching(tenant_a.workspace.pk, {"conditions": [{"field": "mood", "op": "eq"}]})
    assert info.value.field == "conditions[0].field"


def test_the_definitions_value_lists_follow_the_models() -> None:
    from typing import get_args

    from parley.crm.models import Consent
    from parley.inbox.models import Conversation
    from parley.segments.definition import ConsentValue, StatusValue

    assert set(get_args(ConsentValue)) == set(Consent.values)
    assert set(get_args(StatusValue)) == set(Conversation.Status.values)
