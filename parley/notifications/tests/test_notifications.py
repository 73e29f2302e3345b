"""A person's notifications: only ever their own; the bell, the page, the
click-through and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.notifications.actions import do_notify
from parley.notifications.models import Notification
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _notify(tenant: Tenant, user: Any, n: int, url: str = "") -> list[int]:
    with workspace_context(tenant.workspace.pk):
        for i in range(n):
            do_notify(
                workspace_id=tenant.workspace.pk,
                user_id=user.pk,
                kind="mention",
                title=f"Ping {i}",
                body=f"body {i}",
                url=url or f"/w/{tenant.workspace.slug}/notes/#n{i}",
                dedupe_key=f"test:{user.pk}:{i}",
            )
        return list(
            Notification.objects.filter(user=user).order_by("-id").values_list("id", flat=True)
        )


def _api(client: Client, method: str, url: str, **extra: Any) -> Any:
    return getattr(client, method)(f"/api/v1{url}", content_type="application/json", **extra)


def test_api_lists_marks_and_counts_only_my_own(tenant_a: Tenant, login: Any) -> None:
    mine = _notify(tenant_a, tenant_a.agent, 3)
    theirs = _notify(tenant_a, tenant_a.admin, 2)
    agent = login(tenant_a.agent)
    listed = _api(agent, "get", "/notifications")
    assert [n["id"] for n in listed.json()["items"]] == mine
    assert _api(agent, "get", "/notifications/unread-count").json() == {
        "unread": 3,
        "capped": False,
    }
    page = _api(agent, "get", "/notifications?limit=2")
    rest = _api(agent, "get", f"/notifications?limit=2&cursor={page.json()['next_cursor']}")
    assert [n["id"] for n in page.json()["items"] + rest.json()["items"]] == mine

    read = _api(agent, "post", f"/notifications/{mine[0]}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = _api(agent, "get", "/notifications?unread=true").json()["items"]
    assert [n["id"] for n in unread] == mine[1:]
    # Another member's notification, in the same workspace: 404, untouched.
    other = _api(agent, "post", f"/notifications/{theirs[0]}/read")
    assert other.status_code == 404
    assert (
        agent.post(f"/w/{tenant_a.workspace.slug}/notifications/{theirs[0]}/open/").status_code
        == 404
    )
    assert _api(agent, "post", "/notifications/read-all").json() == {"marked": 2}
    assert _api(agent, "get", "/notifications/unread-count").json()["unread"] == 0
    with workspace_context(tenant_a.workspace.pk):
        assert Notification.objects.filter(user=tenant_a.admin, read_at=None).count() == 2


def test_api_tokens_have_no_notifications(tenant_a: Tenant, client: Client) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tenant_a.raw_token}"}
    refused = _api(client, "get", "/notifications", **auth)
    assert refused.status_code == 403
    assert "belong to a person" in refused.json()["message"]
    assert _api(client, "post", "/notifications/read-all", **auth).status_code == 403


def test_unread_count_is_capped(tenant_a: Tenant, login: Any) -> None:
    _notify(tenant_a, tenant_a.agent, 101)
    agent = login(tenant_a.agent)
    assert _api(agent, "get", "/notifications/unread-count").json() == {
        "unread": 100,
        "capped": True,
    }
    html = agent.get(f"/w/{tenant_a.workspace.slug}/notifications/bell/").content.decode()
    assert "99+" in html


def test_bell_shows_the_unread_count_on_every_workspace_page(tenant_a: Tenant, login: Any) -> None:
    agent = login(tenant_a.agent)
    home = agent.get(f"/w/{tenant_a.workspace.slug}/").content.decode()
    assert 'id="notification-bell"' in home and "bell-count" not in home
    _notify(tenant_a, tenant_a.agent, 2)
    home = agent.get(f"/w/{tenant_a.workspace.slug}/").content.decode()
    assert 'data-unread="2"' in home
    assert 'hx-trigger="every 30s' in home  # the count refreshes without a reload
    # The admin has none.
    assert (
        "bell-count"
        not in login(tenant_a.admin).get(f"/w/{tenant_a.workspace.slug}/").content.decode()
    )
    # Outside a workspace (the profile page) there is no bell.
    assert 'id="notification-bell"' not in agent.get("/me/").content.decode()


def test_page_lists_newest_first_and_click_through_marks_read(tenant_a: Tenant, login: Any) -> None:
    slug = tenant_a.workspace.slug
    ids = _notify(tenant_a, tenant_a.agent, 3, url=f"/w/{slug}/notes/?contact=1#note-9")
    agent = login(tenant_a.agent)
    html = agent.get(f"/w/{slug}/notifications/").content.decode()
    assert html.index("Ping 2") < html.index("Ping 1") < html.index("Ping 0")
    assert html.count('class="notification unread"') == 3
    opened = agent.post(f"/w/{slug}/notifications/{ids[0]}/open/")
    assert opened.status_code == 302 and opened["Location"] == f"/w/{slug}/notes/?contact=1#note-9"
    html = agent.get(f"/w/{slug}/notifications/").content.decode()
    assert html.count('class="notification unread"') == 2
    unread_only = agent.get(f"/w/{slug}/notifications/?show=unread").content.decode()
    assert "Ping 2" not in unread_only and "Ping 1" in unread_only
    done = agent.post(f"/w/{slug}/notifications/read-all/")
    assert done.status_code == 302
    assert "caught up" in agent.get(f"/w/{slug}/notifications/?show=unread").content.decode()
    assert agent.get(f"/w/{slug}/notifications/{ids[0]}/open/").status_code == 405


def test_click_through_never_leaves_the_site(tenant_a: Tenant, login: Any) -> None:
    ids = _notify(tenant_a, tenant_a.agent, 1, url="https://evil.example/phish")
    agent = login(tenant_a.agent)
    opened = agent.post(f"/w/{tenant_a.workspace.slug}/notifications/{ids[0]}/open/")
    assert opened.status_code == 302
    assert opened["Location"] == f"/w/{tenant_a.workspace.slug}/notifications/"


def test_list_query_counts_do_not_grow(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    _notify(tenant_a, tenant_a.agent, 60)
    agent = login(tenant_a.agent)
    slug = tenant_a.workspace.slug
    agent.get(f"/w/{slug}/notifications/")
    # Fixed part (session, membership, switcher, RLS settings), the page of
    # notifications and the bell's count.
    with django_assert_max_num_queries(13):
        html = agent.get(f"/w/{slug}/notifications/").content.decode()
    assert html.count('<li class="notification') == 50 and "Older" in html
    with django_assert_max_num_queries(11):
        listed = _api(agent, "get", "/notifications?limit=50")
    assert len(listed.json()["items"]) == 50
    with django_assert_max_num_queries(11):
        _api(agent, "get", "/notifications/unread-count")
    with django_assert_max_num_queries(11):
        agent.get(f"/w/{slug}/notifications/bell/")
