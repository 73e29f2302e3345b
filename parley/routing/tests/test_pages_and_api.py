"""The routing page and API: who may change what (agents toggle their own
availability, only admins change settings), and that each form works."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation
from parley.routing.models import Availability, ChannelRouting, Holiday, Team
from parley.routing.tests.helpers import inbound
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def _url(tenant: Tenant, tail: str = "") -> str:
    return f"/w/{tenant.workspace.slug}/automation/routing/{tail}"


def _api(client: Client, method: str, path: str, tenant: Tenant, body: Any = None) -> Any:
    return getattr(client, method)(
        f"/api/v1{path}",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {tenant.raw_token}"},
    )


def test_page_renders_for_every_role(tenant_a: Tenant, login: Any) -> None:
    make_channel(tenant_a)
    for user in (tenant_a.owner, tenant_a.agent, tenant_a.viewer):
        response = login(user).get(_url(tenant_a))
        assert response.status_code == 200
        assert b"Business hours" in response.content
    admin_page = login(tenant_a.owner).get(_url(tenant_a)).content.decode()
    agent_page = login(tenant_a.agent).get(_url(tenant_a)).content.decode()
    assert "Save hours" in admin_page and "Save hours" not in agent_page
    # Admins see everyone's availability; an agent only their own toggle.
    assert tenant_a.admin.email in admin_page and tenant_a.admin.email not in agent_page


def test_agent_toggles_own_availability_but_no_settings(tenant_a: Tenant, login: Any) -> None:
    channel = make_channel(tenant_a)
    agent = login(tenant_a.agent)
    assert agent.post(_url(tenant_a, "availability/"), {"available": "1"}).status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        assert Availability.objects.get(user=tenant_a.agent).available
    # Someone else's availability, channel modes, hours, teams, holidays: refused.
    assert (
        agent.post(
            _url(tenant_a, "availability/"), {"available": "1", "user_id": tenant_a.admin.pk}
        ).status_code
        == 403
    )
    assert (
        agent.post(_url(tenant_a, f"channels/{channel.pk}/"), {"mode": "round_robin"}).status_code
        == 403
    )
    assert agent.post(_url(tenant_a, "hours/"), {"enabled": "on"}).status_code == 403
    assert agent.post(_url(tenant_a, "teams/new/"), {"name": "X"}).status_code == 403
    assert agent.post(_url(tenant_a, "holidays/new/"), {"date": "2030-01-01"}).status_code == 403
    # A viewer takes no conversations: not even their own toggle.
    assert (
        login(tenant_a.viewer).post(_url(tenant_a, "availability/"), {"available": "1"}).status_code
        == 403
    )
    with workspace_context(tenant_a.workspace.pk):
        assert not ChannelRouting.objects.exists() and not Team.objects.exists()
        assert not Holiday.objects.exists()


def test_admin_forms(tenant_a: Tenant, login: Any) -> None:
    channel = make_channel(tenant_a)
    owner = login(tenant_a.owner)
    response = owner.post(
        _url(tenant_a, "teams/new/"), {"name": "Support", "member_ids": [tenant_a.agent.pk]}
    )
    assert response.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        team = Team.objects.get()
    assert (
        owner.post(
            _url(tenant_a, f"channels/{channel.pk}/"), {"mode": "least_busy", "team_id": team.pk}
        ).status_code
        == 302
    )
    response = owner.post(
        _url(tenant_a, "hours/"),
        {
            "enabled": "on",
            "day_0": "09:00-12:00, 13:00-17:30",
            "away_enabled": "on",
            "away_text": "Closed",
        },
    )
    assert response.status_code == 302
    # A bad day comes back as a form error on that day, not a 500.
    bad = owner.post(_url(tenant_a, "hours/"), {"enabled": "on", "day_2": "nine to five"})
    assert bad.status_code == 400 and b"09:00-17:00" in bad.content
    assert (
        owner.post(
            _url(tenant_a, "holidays/new/"), {"date": "2030-05-01", "name": "May Day"}
        ).status_code
        == 302
    )
    dup = owner.post(_url(tenant_a, "holidays/new/"), {"date": "2030-05-01"})
    assert dup.status_code == 400 and b"already a holiday" in dup.content
    with workspace_context(tenant_a.workspace.pk):
        routing = ChannelRouting.objects.get()
        assert (routing.mode, routing.team_id) == ("least_busy", team.pk)
    page = owner.get(_url(tenant_a)).content.decode()
    assert "09:00-12:00, 13:00-17:30" in page and "May Day" in page


def test_inbox_team_picker_and_badge(tenant_a: Tenant, login: Any) -> None:
    channel = make_channel(tenant_a)
    inbound(tenant_a, channel, wa_id="15550010000")
    with workspace_context(tenant_a.workspace.pk):
        conversation = Conversation.objects.get()
    owner = login(tenant_a.owner)
    owner.post(_url(tenant_a, "teams/new/"), {"name": "Tier 2", "member_ids": [tenant_a.admin.pk]})
    with workspace_context(tenant_a.workspace.pk):
        team = Team.objects.get()
    thread = owner.get(f"/w/{tenant_a.workspace.slug}/inbox/{conversation.pk}/").content.decode()
    assert "Team: Tier 2" in thread and "Away" in thread
    response = owner.post(
        _url(tenant_a, f"conversations/{conversation.pk}/team/"),
        {"team_id": team.pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and response.headers["HX-Trigger"] == "refresh"
    listing = owner.get(f"/w/{tenant_a.workspace.slug}/inbox/list/?view=all").content.decode()
    assert "Tier 2" in listing


def test_api_round_trip(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    client = Client()
    created = _api(
        client, "post", "/teams", tenant_a, {"name": "API team", "member_ids": [tenant_a.agent.pk]}
    )
    assert created.status_code == 201, created.content
    team_id = created.json()["id"]
    assert _api(client, "get", f"/teams/{team_id}", tenant_a).json()["member_ids"] == [
        tenant_a.agent.pk
    ]
    routed = _api(
        client,
        "put",
        f"/routing/channels/{channel.pk}",
        tenant_a,
        {"mode": "round_robin", "team_id": team_id},
    )
    assert routed.status_code == 200 and routed.json()["mode"] == "round_robin"
    bad = _api(client, "put", f"/routing/channels/{channel.pk}", tenant_a, {"mode": "random"})
    assert bad.status_code == 422
    hours = _api(
        client,
        "put",
        "/routing/hours",
        tenant_a,
        {
            "enabled": True,
            "intervals": [{"weekday": 0, "start": "10:00", "end": "09:00"}],
        },
    )
    assert hours.status_code == 400 and hours.json()["code"] == "invalid_hours"
    hours = _api(
        client,
        "put",
        "/routing/hours",
        tenant_a,
        {"enabled": True, "intervals": [{"weekday": 0, "start": "09:00", "end": "17:00"}]},
    )
    assert hours.status_code == 200 and hours.json()["intervals"][0]["start"] == "09:00:00"
    opened = _api(client, "get", "/routing/hours/open?at=2026-11-30T10:00:00%2B00:00", tenant_a)
    assert opened.json()["open"] is True
    holiday = _api(client, "post", "/routing/holidays", tenant_a, {"date": "2026-11-30"})
    assert holiday.status_code == 201
    opened = _api(client, "get", "/routing/hours/open?at=2026-11-30T10:00:00%2B00:00", tenant_a)
    assert opened.json()["open"] is False
    assert (
        _api(
            client,
            "put",
            "/routing/availability",
            tenant_a,
            {"available": True, "user_id": tenant_a.agent.pk},
        ).json()["available"]
        is True
    )
    assert _api(client, "delete", f"/teams/{team_id}", tenant_a).status_code == 204
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/routing/hours" in spec["paths"]
