"""The pages: list with filters, the schedule form (type-ahead, template
variables, DST messages), edit and cancel, the contact panel and timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.outbox.models import OutboundItem
from parley.scheduled.models import ScheduledMessage
from parley.scheduled.tests.helpers import (
    World,
    at,
    last_sunday,
    make_world,
    next_year,
    schedule,
)
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _url(world: World, tail: str = "") -> str:
    return f"/w/{world.tenant.workspace.slug}/scheduled/{tail}"


def _only(world: World) -> ScheduledMessage:
    with workspace_context(world.tenant.workspace.pk):
        return ScheduledMessage.objects.select_related("content").get()


def test_the_list_shows_local_times_and_filters(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    y = next_year()
    upcoming = schedule(world, datetime(y, 7, 1, 9, 0), text="Summer hello")
    for i in range(5):
        schedule(world, datetime(y, 8, 1 + i, 9, 0), text=f"More {i}")
    sent = schedule(world, datetime(y, 1, 15, 9, 0), text="Winter hello")
    failed = schedule(world, datetime(y, 1, 16, 9, 0), text="Never went")
    with workspace_context(tenant_a.workspace.pk):
        OutboundItem.objects.filter(source="scheduled", source_id=sent.pk).update(
            state="sent", finished_at=timezone.now()
        )
        OutboundItem.objects.filter(source="scheduled", source_id=failed.pk).update(
            state="failed", reason="The 24-hour window had closed by the send time."
        )
    agent: Client = login(tenant_a.agent)
    with django_assert_max_num_queries(16):
        html = agent.get(_url(world)).content.decode()
    assert "Summer hello" in html and f"Thu 1 Jul {y}, 09:00 CEST" in html
    assert "Winter hello" not in html and "Never went" not in html
    assert f'href="/w/{tenant_a.workspace.slug}/scheduled/{upcoming.pk}/"' in html
    assert "Cancel" in html and "Europe/Berlin" in html
    html = agent.get(_url(world, "?status=sent")).content.decode()
    assert "Winter hello" in html and f"Fri 15 Jan {y}, 09:00 CET" in html
    assert "Summer hello" not in html
    html = agent.get(_url(world, "?status=failed")).content.decode()
    assert "Never went" in html and "window had closed" in html
    html = agent.get(_url(world, "?status=all")).content.decode()
    assert html.index("Summer hello") < html.index("Winter hello")  # upcoming first
    viewer: Client = login(tenant_a.viewer)
    html = viewer.get(_url(world)).content.decode()
    assert "Summer hello" in html and "Schedule a message" not in html and ">Cancel<" not in html


def test_schedule_through_the_form(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a, "America/New_York")
    agent: Client = login(tenant_a.agent)
    page = agent.get(_url(world, f"new/?contact_id={world.contact.pk}"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ann Customer" in html and "America/New_York" in html and world.template.name in html
    # The type-ahead and the template's variables.
    found = agent.get(_url(world, "contacts/?contact_q=Ann")).content.decode()
    assert f'value="{world.contact.pk}"' in found and "Ann Customer" in found
    assert (
        "No contact matches" in agent.get(_url(world, "contacts/?contact_q=zzz")).content.decode()
    )
    rows = agent.get(_url(world, f"mapping/?template_id={world.template.pk}&prefix=var"))
    assert 'name="var-1-source"' in rows.content.decode()
    assert 'name="var-2-source"' in rows.content.decode()
    y = next_year()
    response = agent.post(
        _url(world, "new/"),
        {
            "contact_id": world.contact.pk,
            "channel_id": world.channel.pk,
            "send_at": f"{y}-07-04T08:45",
            "kind": "template",
            "template_id": world.template.pk,
            "var-1-source": "field:first_name",
            "var-1-fallback": "there",
            "var-2-source": "static",
            "var-2-value": "Monday",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    scheduled = _only(world)
    assert scheduled.send_at == datetime(y, 7, 4, 12, 45, tzinfo=UTC)  # EDT, -4
    assert scheduled.content.template_id == world.template.pk
    assert scheduled.content.mapping["2"] == {"source": "static", "value": "Monday"}
    shown = agent.get(response["Location"]).content.decode()
    assert f"Scheduled for Sun 4 Jul {y}, 08:45 EDT" in shown


def test_the_form_explains_dst_and_keeps_the_input(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    agent: Client = login(tenant_a.agent)
    y = next_year()
    base = {
        "contact_id": world.contact.pk,
        "channel_id": world.channel.pk,
        "kind": "text",
        "text": "Good morning",
    }
    gap = agent.post(
        _url(world, "new/"), {**base, "send_at": f"{at(last_sunday(y, 3), 2, 30):%Y-%m-%dT%H:%M}"}
    )
    assert gap.status_code == 200
    html = gap.content.decode()
    assert "does not exist" in html and "from 02:00 to 03:00 (CET to CEST)" in html
    assert "Good morning" in html  # kept
    past = agent.post(_url(world, "new/"), {**base, "send_at": "2001-01-01T10:00"})
    assert "That time has passed" in past.content.decode()
    assert agent.post(_url(world, "new/"), {**base, "send_at": "soon"}).status_code == 200
    fold = agent.post(
        _url(world, "new/"), {**base, "send_at": f"{at(last_sunday(y, 10), 2, 30):%Y-%m-%dT%H:%M}"}
    )
    assert fold.status_code == 302
    html = agent.get(fold["Location"]).content.decode()
    assert "happens twice" in html and "first time, 02:30 CEST" in html
    assert _only(world).send_at.hour == 0


def test_edit_and_cancel_pages(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    y = next_year()
    scheduled = schedule(world, datetime(y, 7, 1, 9, 0), text="First draft")
    agent: Client = login(tenant_a.agent)
    page = agent.get(_url(world, f"{scheduled.pk}/")).content.decode()
    assert f'value="{y}-07-01T09:00"' in page and "First draft" in page
    response = agent.post(
        _url(world, f"{scheduled.pk}/"),
        {
            "send_at": f"{y}-07-01T11:00",
            "kind": "text",
            "text": "Second draft",
            "fallback_template_id": world.template.pk,
            "fb-1-source": "field:first_name",
            "fb-1-fallback": "there",
            "fb-2-source": "static",
            "fb-2-value": "Friday",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    fresh = _only(world)
    assert fresh.send_at == datetime(y, 7, 1, 9, 0, tzinfo=UTC)
    assert fresh.content.text == "Second draft"
    assert fresh.content.fallback_mapping["2"] == {"source": "static", "value": "Friday"}

    viewer: Client = login(tenant_a.viewer)
    html = viewer.get(_url(world, f"{scheduled.pk}/")).content.decode()
    assert "Second draft" in html and "Change it" not in html
    assert viewer.post(_url(world, f"{scheduled.pk}/cancel/")).status_code == 403
    assert viewer.get(_url(world, "new/")).status_code == 403

    cancelled = agent.post(_url(world, f"{scheduled.pk}/cancel/"))
    assert cancelled.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        assert (
            OutboundItem.objects.get(source="scheduled", source_id=scheduled.pk).state
            == "cancelled"
        )
    html = agent.get(_url(world, f"{scheduled.pk}/")).content.decode()
    assert "Cancelled" in html and "Change it" not in html and "no longer be changed" in html


def test_editing_what_was_sent_says_so(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a)
    scheduled = schedule(world, timezone.now() + timedelta(hours=1))
    agent: Client = login(tenant_a.agent)
    page = agent.get(_url(world, f"{scheduled.pk}/"))
    assert "Change it" in page.content.decode()
    with workspace_context(tenant_a.workspace.pk):
        OutboundItem.objects.filter(source="scheduled", source_id=scheduled.pk).update(
            state="sent", finished_at=timezone.now()
        )
    response = agent.post(
        _url(world, f"{scheduled.pk}/"),
        {"send_at": "2099-01-01T10:00", "kind": "text", "text": "too late"},
    )
    assert response.status_code == 200 and "already sent" in response.content.decode()
    refused = agent.post(_url(world, f"{scheduled.pk}/cancel/"), follow=True)
    assert "already sent" in refused.content.decode()


def test_contact_panel_quick_form_and_timeline(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    agent: Client = login(tenant_a.agent)
    contact_url = f"/w/{tenant_a.workspace.slug}/contacts/{world.contact.pk}/"
    html = agent.get(contact_url).content.decode()
    assert "Scheduled messages" in html and "Schedule a message" in html
    y = next_year()
    response = agent.post(
        _url(world, "new/"),
        {
            "next": contact_url,
            "contact_id": world.contact.pk,
            "channel_id": world.channel.pk,
            "kind": "text",
            "text": "From the panel",
            "send_at": f"{y}-07-01T09:00",
        },
    )
    assert response.status_code == 302 and response["Location"] == contact_url
    scheduled = _only(world)
    html = agent.get(contact_url).content.decode()
    assert "From the panel" in html and f"Thu 1 Jul {y}, 09:00 CEST" in html
    assert f"Message scheduled for Thu 1 Jul {y}, 09:00 CEST" in html  # the timeline
    with workspace_context(tenant_a.workspace.pk):
        OutboundItem.objects.filter(source="scheduled", source_id=scheduled.pk).update(
            state="failed",
            reason="The 24-hour window had closed by the send time.",
            finished_at=timezone.now(),
        )
    html = agent.get(contact_url).content.decode()
    assert "Scheduled message failed" in html and "window had closed" in html
    viewer: Client = login(tenant_a.viewer)
    html = viewer.get(contact_url).content.decode()
    assert (
        "Scheduled messages" in html
        and 'name="text"' not in html.split("scheduled-panel")[1][:3000]
    )


def test_template_choice_without_javascript_shows_its_variables(
    tenant_a: Tenant, login: Any
) -> None:
    world = make_world(tenant_a)
    agent: Client = login(tenant_a.agent)
    response = agent.post(
        _url(world, "new/"),
        {
            "op": "refresh",
            "contact_id": world.contact.pk,
            "channel_id": world.channel.pk,
            "kind": "template",
            "template_id": world.template.pk,
            "send_at": "2099-01-01T10:00",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'name="var-1-source"' in html
    with workspace_context(tenant_a.workspace.pk):
        assert not ScheduledMessage.objects.exists()


def test_the_contacts_own_time_is_shown_when_their_number_tells_it(
    tenant_a: Tenant, login: Any
) -> None:
    world = make_world(tenant_a, "Europe/Berlin", wa_id="12125550123")  # New York
    y = next_year()
    schedule(world, datetime(y, 7, 1, 9, 0), text="Across the ocean")
    html = login(tenant_a.agent).get(_url(world)).content.decode()
    assert f"Thu 1 Jul {y}, 09:00 CEST" in html
    assert "03:00 EDT for them (America/New_York)" in html
