"""Contact bitmaps: kept right by the triggers through every kind of change,
and counts from them equal to counts over the contacts."""

from __future__ import annotations

import threading
from itertools import combinations
from typing import Any

import pytest
from django.db import connection, transaction

from parley.core.tenant import workspace_context
from parley.crm.actions import (
    do_define_attribute,
    do_delete_attribute,
    do_delete_contact,
    do_set_attributes,
    do_set_consent,
    do_tag_contacts,
)
from parley.crm.merge import do_merge_contacts
from parley.crm.models import AttributeDefinition, Contact, ContactTag, Tag
from parley.inbox.actions import do_change_status
from parley.inbox.models import Conversation
from parley.segments.bitmaps import bitmap_count, flush_pending
from parley.segments.compiler import contacts_matching, count_matching
from parley.segments.definition import parse_definition
from parley.segments.models import ContactBitmap
from parley.segments.tests.world import World, build_world
from parley.tenancy.actions import do_delete_workspace
from parley.tenancy.models import Workspace
from tests.factories import Tenant, actor_for, make_channel

pytestmark = pytest.mark.django_db

Fact = tuple[int, int, str, int]  # workspace, kind, key, contact id

# What the bitmaps must hold, read from the rows they describe.
_EXPECTED_SQL = """
    SELECT workspace_id, 0, '', id FROM crm_contact
    UNION SELECT workspace_id, 2, consent, id FROM crm_contact
    UNION SELECT workspace_id, 1, tag_id::text, contact_id FROM crm_contacttag
    UNION SELECT workspace_id, 3, status, contact_id FROM inbox_conversation
    UNION SELECT c.workspace_id, 4, d.key || '=' || (c.attributes ->> d.key), c.id
            FROM crm_attributedefinition d
            JOIN crm_contact c ON c.workspace_id = d.workspace_id
           WHERE jsonb_typeof(c.attributes -> d.key)
                 = CASE d.type WHEN 'choice' THEN 'string' WHEN 'boolean' THEN 'boolean' END
"""
_HELD_SQL = """
    SELECT workspace_id, kind, key, chunk * 1024 + i FROM segments_contactbitmap,
           generate_series(0, 1023) AS i WHERE get_bit(bits, i) = 1
"""


def _facts(sql: str) -> set[Fact]:
    with connection.cursor() as cursor:
        flush_pending(cursor)
        cursor.execute("SELECT set_config('parley.cross_tenant', 'on', true)")
        cursor.execute(sql)
        facts = {(int(w), int(k), str(key), int(c)) for w, k, key, c in cursor.fetchall()}
        cursor.execute("SELECT set_config('parley.cross_tenant', 'off', true)")
    return facts


def assert_bitmaps_match_rows() -> None:
    with transaction.atomic():
        expected, held = _facts(_EXPECTED_SQL), _facts(_HELD_SQL)
    assert held - expected == set(), "bits set for facts that are not true"
    assert expected - held == set(), "true facts without their bit"


def _bitmap_definitions(world: World) -> list[dict[str, Any]]:
    tags = list(world.tags.values())
    conditions: list[dict[str, Any]] = []
    for op in ("has_any", "has_all", "has_none"):
        for n in (1, 2):
            for chosen in combinations(tags, n):
                conditions.append({"field": "tags", "op": op, "value": list(chosen)})
    for values in (["opted_in"], ["opted_out", "unknown"], ["unknown"]):
        conditions.append({"field": "consent", "op": "in", "value": values})
    for op in ("has_conversation_with_status", "has_no_conversation_with_status"):
        for statuses in (["open"], ["resolved", "pending"]):
            conditions.append({"field": "conversation_status", "op": op, "value": statuses})
    for op in ("in", "not_in"):
        for tiers in (["a"], ["b", "c"]):
            conditions.append({"field": "attribute", "key": "tier", "op": op, "value": tiers})
    for op in ("is_true", "is_false"):
        conditions.append({"field": "attribute", "key": "vip", "op": op})
    definitions = [{"match": "all", "conditions": [c]} for c in conditions]
    for match in ("all", "any"):
        definitions.append({"match": match, "conditions": []})
        for i in range(0, len(conditions) - 2, 5):
            definitions.append({"match": match, "conditions": conditions[i : i + 3]})
    return definitions


def assert_counts_agree(tenant: Tenant, world: World) -> None:
    ws = tenant.workspace.pk
    with workspace_context(ws):
        for definition in _bitmap_definitions(world):
            parsed = parse_definition(definition)
            from_bits = bitmap_count(ws, parsed)
            assert from_bits is not None
            assert from_bits == contacts_matching(ws, parsed).count(), definition


def test_counts_from_bitmaps_equal_counts_over_the_contacts(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    world = build_world(tenant_a)
    build_world(tenant_b)  # the same people in another workspace, never counted
    assert_bitmaps_match_rows()
    assert_counts_agree(tenant_a, world)
    ws = tenant_a.workspace.pk
    vip_opted_in = {
        "conditions": [
            {"field": "tags", "op": "has_any", "value": [world.tags["VIP"]]},
            {"field": "consent", "op": "in", "value": ["opted_in"]},
        ]
    }
    with workspace_context(ws):
        assert count_matching(ws, vip_opted_in) == 1  # Ann


def test_every_change_keeps_the_bitmaps_right(tenant_a: Tenant) -> None:
    world = build_world(tenant_a)
    ws = tenant_a.workspace
    actor = actor_for(ws, tenant_a.admin)
    owner = actor_for(ws, tenant_a.owner)
    channel = make_channel(tenant_a)
    with workspace_context(ws.pk):
        ann, bob, cat = (Contact.objects.get(pk=world.contacts[n]) for n in ("ann", "bob", "cat"))
        cold = Tag.objects.get(pk=world.tags["Cold"])
        lead = Tag.objects.get(pk=world.tags["Lead"])
        steps: list[tuple[str, Any]] = [
            (
                "tag in bulk",
                lambda: do_tag_contacts(
                    actor=actor, tag=cold, contact_ids=[ann.pk, bob.pk, cat.pk], add=True
                ),
            ),
            (
                "untag in bulk",
                lambda: do_tag_contacts(
                    actor=actor, tag=lead, contact_ids=[ann.pk, bob.pk], add=False
                ),
            ),
            ("consent", lambda: do_set_consent(actor=actor, contact=cat, consent="opted_in")),
            (
                "new conversation",
                lambda: Conversation.objects.create(
                    workspace=ws, contact=cat, channel=channel, status="pending"
                ),
            ),
            (
                "status",
                lambda: do_change_status(
                    actor=actor,
                    conversation=Conversation.objects.get(contact=ann),
                    status="resolved",
                ),
            ),
            (
                "tag row moved",
                lambda: ContactTag.objects.filter(contact=bob, tag=cold).update(
                    contact=ann, tag=lead
                ),
            ),
            (
                "attributes set",
                lambda: do_set_attributes(
                    actor=actor, contact=cat, values={"tier": "c", "vip": True}
                ),
            ),
            (
                "attribute changed",
                lambda: do_set_attributes(actor=actor, contact=ann, values={"tier": "b"}),
            ),
            (
                "attribute cleared",
                lambda: do_set_attributes(actor=actor, contact=bob, values={"vip": None}),
            ),
            (
                "attributes rewritten in bulk",
                lambda: Contact.objects.filter(pk__in=[ann.pk, bob.pk]).update(
                    attributes={"tier": "a", "vip": False, "plan": "x"}
                ),
            ),
            (
                "values written before their definition",
                lambda: Contact.objects.filter(pk=cat.pk).update(
                    attributes={"tier": "c", "vip": True, "region": "north"}
                ),
            ),
            (
                "definition created over them",
                lambda: do_define_attribute(
                    actor=owner, key="region", label="Region", type="choice", choices=["north"]
                ),
            ),
            (
                "definition's type changed",
                lambda: AttributeDefinition.objects.filter(key="region").update(type="text"),
            ),
            (
                "definition's type changed back",
                lambda: AttributeDefinition.objects.filter(key="region").update(type="choice"),
            ),
            (
                "definition deleted",
                lambda: do_delete_attribute(
                    actor=owner, definition=AttributeDefinition.objects.get(key="region")
                ),
            ),
            ("merge", lambda: do_merge_contacts(actor=actor, survivor=cat, duplicate=bob)),
            ("delete", lambda: do_delete_contact(actor=actor, contact=ann)),
            ("conversation deleted", lambda: Conversation.objects.filter(contact=cat).delete()),
        ]
        for label, step in steps:
            step()
            try:
                assert_bitmaps_match_rows()
            except AssertionError as failure:
                raise AssertionError(f"after {label}: {failure}") from None
        assert_counts_agree(tenant_a, world)


def test_a_rolled_back_change_leaves_no_bits(tenant_a: Tenant) -> None:
    world = build_world(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        try:
            with transaction.atomic():
                ContactTag.objects.create(
                    workspace=tenant_a.workspace,
                    contact_id=world.contacts["cat"],
                    tag_id=world.tags["Cold"],
                )
                assert_bitmaps_match_rows()
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert_bitmaps_match_rows()
    assert _facts(_HELD_SQL) >= {(tenant_a.workspace.pk, 0, "", world.contacts["cat"])}


def test_a_condition_that_is_not_a_set_is_counted_over_the_contacts(tenant_a: Tenant) -> None:
    world = build_world(tenant_a)
    ws = tenant_a.workspace.pk
    definition = parse_definition(
        {
            "conditions": [
                {"field": "tags", "op": "has_any", "value": [world.tags["Lead"]]},
                {"field": "last_inbound_at", "op": "never"},
            ]
        }
    )
    with workspace_context(ws):
        assert bitmap_count(ws, definition) is None
        assert count_matching(ws, definition) == 1  # Bob


def test_another_workspaces_bitmaps_cannot_be_read(tenant_a: Tenant, tenant_b: Tenant) -> None:
    world = build_world(tenant_a)
    everyone = parse_definition({"conditions": []})
    with workspace_context(tenant_a.workspace.pk):
        assert bitmap_count(tenant_a.workspace.pk, everyone) == len(world.contacts)
    with workspace_context(tenant_b.workspace.pk):
        # The query names workspace A, but row-level security shows B's rows only.
        assert bitmap_count(tenant_a.workspace.pk, everyone) == 0


@pytest.mark.django_db(transaction=True)
def test_writers_wait_for_each_others_bits_only_while_committing(tenant_a: Tenant) -> None:
    """Every new contact of a workspace lands in its newest bitmap rows. The
    bits are applied at commit, so a transaction still open after adding a
    contact does not hold those rows: another one adds and commits meanwhile
    (it would wait out its lock timeout if the rows were locked at the write)."""
    ws = tenant_a.workspace
    done: list[int] = []
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with workspace_context(ws.pk), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                done.append(Contact.objects.create(workspace=ws, wa_id="15550000002").pk)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    with workspace_context(ws.pk):
        first = Contact.objects.create(workspace=ws, wa_id="15550000001")
        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(20)
    assert not errors, errors
    assert done and done[0] >> 10 == first.pk >> 10  # the same bitmap rows
    assert_bitmaps_match_rows()
    everyone = parse_definition({"conditions": []})
    with workspace_context(ws.pk):
        assert bitmap_count(ws.pk, everyone) == 2


@pytest.mark.django_db(transaction=True)
def test_a_workspace_is_deleted_with_its_contacts_and_their_bits(tenant_a: Tenant) -> None:
    """Deleting a workspace clears its contacts' bits at commit; that must not
    recreate bitmap rows for the workspace being deleted."""
    build_world(tenant_a)
    # Search words and tag rows have no foreign key to the workspace in the
    # database (core 0003, crm 0007): the delete itself must take them.
    derived = ("segments_contactbitmap", "core_searchterm", "crm_contacttag")
    assert all(_rows_of(table, tenant_a.workspace.pk) > 0 for table in derived)
    with workspace_context(tenant_a.workspace.pk):
        do_delete_workspace(
            actor=actor_for(tenant_a.workspace, tenant_a.owner),
            confirm_name=tenant_a.workspace.name,
        )
    assert not Workspace.objects.filter(pk=tenant_a.workspace.pk).exists()
    assert {f for f in _facts(_HELD_SQL) if f[0] == tenant_a.workspace.pk} == set()
    assert {table: _rows_of(table, tenant_a.workspace.pk) for table in derived} == dict.fromkeys(
        derived, 0
    )


def _rows_of(table: str, workspace_id: int) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('parley.cross_tenant', 'on', true)")
        cursor.execute(f"SELECT count(*) FROM {table} WHERE workspace_id = %s", [workspace_id])
        row = cursor.fetchone()
    return int(row[0])


def test_only_a_new_key_or_type_rebuilds_an_attributes_bits(tenant_a: Tenant) -> None:
    """A rebuild reads every contact of the workspace: a definition saved with
    its key and type unchanged (a label edited) must not cause one."""
    build_world(tenant_a)

    def tier_rows() -> set[int]:
        with connection.cursor() as cursor:
            flush_pending(cursor)
        rows = ContactBitmap.objects.filter(kind=ContactBitmap.Kind.ATTRIBUTE_VALUE)
        return set(rows.filter(key__startswith="tier=").values_list("pk", flat=True))

    with workspace_context(tenant_a.workspace.pk):
        before = tier_rows()
        assert before
        tier = AttributeDefinition.objects.get(key="tier")
        tier.label = "Tier level"
        tier.save()
        assert tier_rows() == before
        tier.type = "text"
        tier.save()
        assert tier_rows() == set()
    assert_bitmaps_match_rows()
