"""Auto-tag rules on inbound messages through the real ingest path: kinds,
order and stop-after, validation, the compiled-rules cache, the hit counts,
and the work done per batch."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.autotag import actions, engine
from parley.autotag.models import Rule, RuleStats
from parley.core import domain_events
from parley.core.errors import ActionError
from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition, Contact, ContactEvent, ContactTag, Tag
from parley.inbox.models import ConversationTag
from parley.routing.tests.helpers import inbound
from parley.whatsapp.models import Channel
from tests.factories import Tenant, actor_for, make_channel

pytestmark = pytest.mark.django_db


def _tag(tenant: Tenant, name: str) -> Tag:
    with workspace_context(tenant.workspace.pk):
        return Tag.objects.get_or_create(workspace=tenant.workspace, name=name)[0]


def _rule(tenant: Tenant, **fields: Any) -> Rule:
    with workspace_context(tenant.workspace.pk):
        return actions.do_create_rule(
            actor=actor_for(tenant.workspace, tenant.owner),
            fields=actions.RuleFields(**{"name": "Rule", **fields}),
        )


def _contact_tags(tenant: Tenant, wa_id: str) -> set[str]:
    with workspace_context(tenant.workspace.pk):
        return set(
            ContactTag.objects.filter(contact__wa_id=wa_id).values_list("tag__name", flat=True)
        )


def _conversation_tags(tenant: Tenant, wa_id: str) -> set[str]:
    with workspace_context(tenant.workspace.pk):
        return set(
            ConversationTag.objects.filter(conversation__contact__wa_id=wa_id).values_list(
                "tag__name", flat=True
            )
        )


@pytest.fixture
def channel(tenant_a: Tenant) -> Channel:
    engine.clear_cache()
    made: Channel = make_channel(tenant_a)
    return made


def test_keyword_rule_whole_word_any_case(tenant_a: Tenant, channel: Channel) -> None:
    pricing = _tag(tenant_a, "pricing")
    _rule(tenant_a, keywords=["price", "how much"], contact_tag_ids=[pricing.pk])
    inbound(tenant_a, channel, wa_id="15550020001", body="What's the PRICE?")
    inbound(tenant_a, channel, wa_id="15550020002", body="that looks pricey")
    inbound(tenant_a, channel, wa_id="15550020003", body="How   much is it")
    assert _contact_tags(tenant_a, "15550020001") == {"pricing"}
    assert _contact_tags(tenant_a, "15550020002") == set()
    assert _contact_tags(tenant_a, "15550020003") == {"pricing"}
    with workspace_context(tenant_a.workspace.pk):
        stats = RuleStats.objects.get(rule=Rule.objects.get())
        assert stats.hits == 2 and stats.last_hit_at is not None
        # The contact's history says who tagged.
        assert (
            ContactEvent.objects.filter(kind="tagged", summary__icontains="auto-tag").count() == 2
        )


def test_order_and_stop_after(tenant_a: Tenant, channel: Channel) -> None:
    a, b = _tag(tenant_a, "refund-first"), _tag(tenant_a, "refund-second")
    first = _rule(
        tenant_a, name="First", keywords=["refund"], contact_tag_ids=[a.pk], stop_after=True
    )
    second = _rule(tenant_a, name="Second", keywords=["refund"], conversation_tag_ids=[b.pk])
    inbound(tenant_a, channel, wa_id="15550021001", body="I want a refund")
    assert _contact_tags(tenant_a, "15550021001") == {"refund-first"}
    assert _conversation_tags(tenant_a, "15550021001") == set()
    # Second moves first: it runs, then First runs and stops (nothing after it).
    with workspace_context(tenant_a.workspace.pk):
        actions.do_move_rule(
            actor=actor_for(tenant_a.workspace, tenant_a.owner), rule=second, offset=-1
        )
        assert list(Rule.objects.order_by("position").values_list("id", flat=True)) == [
            second.pk,
            first.pk,
        ]
    inbound(tenant_a, channel, wa_id="15550021002", body="refund please")
    assert _contact_tags(tenant_a, "15550021002") == {"refund-first"}
    assert _conversation_tags(tenant_a, "15550021002") == {"refund-second"}
    # A disabled rule does not run.
    with workspace_context(tenant_a.workspace.pk):
        actions.do_set_enabled(
            actor=actor_for(tenant_a.workspace, tenant_a.owner), rule=first, enabled=False
        )
    inbound(tenant_a, channel, wa_id="15550021003", body="refund!")
    assert _contact_tags(tenant_a, "15550021003") == set()
    assert _conversation_tags(tenant_a, "15550021003") == {"refund-second"}


def test_pattern_first_message_and_attribute_rules(tenant_a: Tenant, channel: Channel) -> None:
    order, new, vip = _tag(tenant_a, "order"), _tag(tenant_a, "new"), _tag(tenant_a, "vip")
    _rule(
        tenant_a, kind="pattern", pattern=r"(?i)order\s*#?\d{5,}", conversation_tag_ids=[order.pk]
    )
    first = _rule(tenant_a, kind="first_message", contact_tag_ids=[new.pk])
    with workspace_context(tenant_a.workspace.pk):
        AttributeDefinition.objects.create(
            workspace=tenant_a.workspace, key="plan", label="Plan", type="text"
        )
    _rule(
        tenant_a,
        kind="attribute",
        attribute_key="plan",
        attribute_op="contains",
        attribute_value="enterprise",
        contact_tag_ids=[vip.pk],
    )
    inbound(tenant_a, channel, wa_id="15550022001", body="where is Order #123456")
    inbound(tenant_a, channel, wa_id="15550022001", body="order 12")
    assert _conversation_tags(tenant_a, "15550022001") == {"order"}
    assert _contact_tags(tenant_a, "15550022001") == {"new"}
    with workspace_context(tenant_a.workspace.pk):
        # only the first message of the conversation
        assert RuleStats.objects.get(rule=first).hits == 1
        Contact.objects.filter(wa_id="15550022001").update(attributes={"plan": "Enterprise Plus"})
    inbound(tenant_a, channel, wa_id="15550022001", body="hi again")
    assert _contact_tags(tenant_a, "15550022001") == {"new", "vip"}


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        ("(unclosed", "invalid_pattern"),
        ("(a+)+$", "pattern_too_complex"),
        ("(?:x|y*)*z", "pattern_too_complex"),
        ("a" * 301, "too_long"),
        ("", "required"),
    ],
)
def test_pattern_validation(tenant_a: Tenant, pattern: str, code: str) -> None:
    tag = _tag(tenant_a, "t")
    with pytest.raises(ActionError) as caught:
        _rule(tenant_a, kind="pattern", pattern=pattern, contact_tag_ids=[tag.pk])
    assert caught.value.code == code and caught.value.field == "pattern"


def test_other_validation(tenant_a: Tenant) -> None:
    tag = _tag(tenant_a, "t")
    with pytest.raises(ActionError, match="at least one tag"):
        _rule(tenant_a, keywords=["x"])
    with pytest.raises(ActionError, match="keyword"):
        _rule(tenant_a, keywords=[" ", ""], contact_tag_ids=[tag.pk])
    with pytest.raises(ActionError, match="no contact attribute"):
        _rule(
            tenant_a,
            kind="attribute",
            attribute_key="nope",
            attribute_value="x",
            contact_tag_ids=[tag.pk],
        )
    with pytest.raises(ActionError, match="tags of this workspace"):
        _rule(tenant_a, keywords=["x"], contact_tag_ids=[tag.pk + 10_000])
    agent = actor_for(tenant_a.workspace, tenant_a.agent)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied), workspace_context(tenant_a.workspace.pk):
        actions.do_create_rule(
            actor=agent,
            fields=actions.RuleFields(name="x", keywords=["x"], contact_tag_ids=[tag.pk]),
        )


def test_rule_changes_reach_the_cached_rules(tenant_a: Tenant, channel: Channel) -> None:
    tag = _tag(tenant_a, "hello")
    rule = _rule(tenant_a, keywords=["hello"], contact_tag_ids=[tag.pk])
    inbound(tenant_a, channel, wa_id="15550023001", body="hello")
    assert _contact_tags(tenant_a, "15550023001") == {"hello"}
    with workspace_context(tenant_a.workspace.pk):
        fields = actions.RuleFields.of(rule)
        fields.keywords = ["bonjour"]
        actions.do_update_rule(
            actor=actor_for(tenant_a.workspace, tenant_a.owner), rule=rule, fields=fields
        )
    inbound(tenant_a, channel, wa_id="15550023002", body="hello")
    inbound(tenant_a, channel, wa_id="15550023003", body="bonjour")
    assert _contact_tags(tenant_a, "15550023002") == set()
    assert _contact_tags(tenant_a, "15550023003") == {"hello"}


def test_a_deleted_tag_leaves_the_cached_rules(tenant_a: Tenant, channel: Channel) -> None:
    """The compiled rules are cached per process; deleting a tag one of them
    adds must recompile them, or the next match would write a contact tag
    pointing at no tag (a deferred key failing the whole ingest commit)."""
    kept, doomed = _tag(tenant_a, "kept"), _tag(tenant_a, "doomed")
    _rule(tenant_a, keywords=["hello"], contact_tag_ids=[kept.pk, doomed.pk])
    inbound(tenant_a, channel, wa_id="15550023101", body="hello")
    assert _contact_tags(tenant_a, "15550023101") == {"kept", "doomed"}
    with workspace_context(tenant_a.workspace.pk):
        from parley.crm.actions import do_delete_tag

        do_delete_tag(actor=actor_for(tenant_a.workspace, tenant_a.owner), tag=doomed)
    inbound(tenant_a, channel, wa_id="15550023102", body="hello")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the keys a commit would check
    assert _contact_tags(tenant_a, "15550023102") == {"kept"}


def test_queries_per_batch_with_200_rules(
    tenant_a: Tenant, channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags = [_tag(tenant_a, f"t{i}") for i in range(20)]
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.owner)
        for i in range(200):
            actions.do_create_rule(
                actor=actor,
                fields=actions.RuleFields(
                    name=f"r{i}",
                    keywords=[f"word{i}", f"two words{i}"],
                    contact_tag_ids=[tags[i % 20].pk],
                ),
            )
    inbound(tenant_a, channel, wa_id="15550024001", body="warm the cache")
    from datetime import UTC, datetime

    from parley.core.domain_events import ReceivedMessage

    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.get(wa_id="15550024001")
        conversation_id = contact.conversations.get().pk

        def message(text: str, attributes: dict[str, str] | None = None) -> ReceivedMessage:
            return ReceivedMessage(
                message_id=1,
                contact_id=contact.pk,
                conversation_id=conversation_id,
                text=text,
                received_at=datetime.now(UTC),
                contact_attributes=attributes,
            )

        with CaptureQueriesContext(connection) as nothing:
            engine.apply(tenant_a.workspace.pk, [message("no match here")] * 50)
        assert len(nothing.captured_queries) == 1  # the interest version only
        # Our own writes only: the subscribers of contact.tagged (drips,
        # workflows) are measured by their owners.
        monkeypatch.setattr(domain_events, "_handlers", {})
        with CaptureQueriesContext(connection) as matched:
            engine.apply(tenant_a.workspace.pk, [message("word7 and word8")])
        # one read (the version), one write (tags, history, hit counts at once)
        assert len(matched.captured_queries) == 2, [q["sql"][:60] for q in matched.captured_queries]
        # With an attribute rule, the contacts' attributes come with the
        # message (ingest read them), or are read when a caller left them out.
        AttributeDefinition.objects.create(
            workspace=tenant_a.workspace, key="tier", label="Tier", type="text"
        )
        actions.do_create_rule(
            actor=actor,
            fields=actions.RuleFields(
                name="gold",
                kind="attribute",
                attribute_key="tier",
                attribute_value="gold",
                conversation_tag_ids=[tags[0].pk],
            ),
        )
        engine.apply(tenant_a.workspace.pk, [message("recompile")])
        Contact.objects.filter(pk=contact.pk).update(attributes={"tier": "Gold"})
        with CaptureQueriesContext(connection) as carried:
            outcome = engine.apply(
                tenant_a.workspace.pk, [message("nothing else", {"tier": "Gold"})] * 10
            )
        assert outcome is not None and len(outcome.hits) == 1
        assert len(carried.captured_queries) == 2  # the version, the write
        with CaptureQueriesContext(connection) as attribute_read:
            outcome = engine.apply(tenant_a.workspace.pk, [message("nothing else")] * 10)
        assert outcome is not None and len(outcome.hits) == 1
        assert len(attribute_read.captured_queries) == 3  # the version, the read, the write
    assert _contact_tags(tenant_a, "15550024001") == {"t7", "t8"}
