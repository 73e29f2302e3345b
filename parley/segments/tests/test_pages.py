"""The segment pages as a marketer uses them: list, editor, live count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from parley.core.tenant import workspace_context
from parley.segments.actions import do_create_segment
from parley.segments.models import Segment
from parley.segments.tests.world import World, build_world
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a: Tenant) -> World:
    return build_world(tenant_a)


def _url(tenant: Tenant, tail: str = "") -> str:
    return f"/w/{tenant.workspace.slug}/segments/{tail}"


def _segment(tenant: Tenant, name: str, definition: dict[str, Any]) -> Segment:
    with workspace_context(tenant.workspace.pk):
        return do_create_segment(
            actor=actor_for(tenant.workspace, tenant.agent), name=name, definition=definition
        )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_shows_segments_and_counts_each_lazily(
    tenant_a: Tenant,
    world: World,
    login: Any,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    vip = _segment(
        tenant_a,
        "VIP opted in",
        {
            "conditions": [
                {"field": "tags", "op": "has_all", "value": [world.tags["VIP"]]},
                {"field": "consent", "op": "in", "value": ["opted_in"]},
            ]
        },
    )
    viewer: Client = login(tenant_a.viewer)
    _queries(viewer, _url(tenant_a))  # the first visit also remembers the workspace
    one = _queries(viewer, _url(tenant_a))
    for i in range(5):
        _segment(
            tenant_a,
            f"Leads {i}",
            {"conditions": [{"field": "tags", "op": "has_any", "value": [world.tags["Lead"]]}]},
        )
    assert _queries(viewer, _url(tenant_a)) == one  # no query per segment
    with django_assert_max_num_queries(20):
        page = viewer.get(_url(tenant_a)).content.decode()
    assert "VIP opted in" in page and "Leads 4" in page
    assert "Tags include all of VIP and Marketing consent is any of Opted in" in page
    assert f'hx-get="{_url(tenant_a, f"{vip.pk}/count/")}"' in page
    assert "New segment" not in page  # viewers read only
    assert viewer.get(_url(tenant_a, f"{vip.pk}/count/")).content.decode() == "1"


def test_editor_builds_a_segment_with_live_counts(
    tenant_a: Tenant, world: World, login: Any
) -> None:
    agent: Client = login(tenant_a.agent)
    editor = agent.get(_url(tenant_a, "new/"))
    assert editor.status_code == 200 and 'id="segment-form"' in editor.content.decode()

    added = agent.get(_url(tenant_a, "condition/"), {"add": "1", "c-0-field": "tags"}).content
    assert b'name="c-1-field"' in added and b"include any of" in added
    switched = agent.get(
        _url(tenant_a, "condition/"), {"c-1-field": "attribute:seats", "c-1-op": "has_any"}
    ).content.decode()
    assert (
        'name="c-1-op"' in switched
        and "is between" in switched
        and "include any of" not in switched
    )
    between = agent.get(
        _url(tenant_a, "condition/"), {"c-1-field": "attribute:seats", "c-1-op": "between"}
    ).content.decode()
    assert 'name="c-1-value2"' in between

    form = {
        "match": "all",
        "c-0-field": "tags",
        "c-0-op": "has_any",
        "c-0-values": [str(world.tags["Lead"])],
        "c-3-field": "attribute:seats",
        "c-3-op": "gt",
        "c-3-value": "5",
    }
    preview = agent.post(_url(tenant_a, "preview/"), form).content.decode()
    assert 'data-count="1"' in preview and "Ann Customer" in preview and "Bobby" not in preview
    wider = agent.post(_url(tenant_a, "preview/"), {**form, "match": "any"}).content.decode()
    assert 'data-count="2"' in wider and "2</strong> contacts match" in wider

    broken = agent.post(_url(tenant_a, "preview/"), {**form, "c-3-value": "lots"}).content.decode()
    assert "Not counted yet" in broken
    assert 'id="cond-err-3"' in broken and "Condition 2: give a number" in broken
    assert (
        '<div class="errorlist cond-error" id="cond-err-0" role="alert" hx-swap-oob="true"></div>'
        in broken
    )

    saved = agent.post(_url(tenant_a, "new/"), {**form, "name": "Big leads"})
    assert saved.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        segment = Segment.objects.get(name="Big leads")
    assert segment.definition["conditions"][1] == {
        "field": "attribute",
        "key": "seats",
        "op": "gt",
        "value": 5,
    }
    reopened = agent.get(_url(tenant_a, f"{segment.pk}/")).content.decode()
    assert 'value="Big leads"' in reopened and 'name="c-1-value" value="5"' in reopened


def test_saving_an_invalid_segment_shows_the_error_on_its_row(
    tenant_a: Tenant, world: World, login: Any
) -> None:
    agent: Client = login(tenant_a.agent)
    response = agent.post(
        _url(tenant_a, "new/"),
        {
            "name": "Broken",
            "c-0-field": "last_inbound_at",
            "c-0-op": "within_last_days",
            "c-0-value": "",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Condition 1: give a number of days" in page
    assert 'value="Broken"' in page  # what was typed survives
    no_name = agent.post(_url(tenant_a, "new/"), {"name": " "}).content.decode()
    assert "Name the segment." in no_name
    with workspace_context(tenant_a.workspace.pk):
        assert not Segment.objects.exists()


def test_viewer_sees_but_cannot_change(tenant_a: Tenant, world: World, login: Any) -> None:
    segment = _segment(tenant_a, "Everyone", {"conditions": []})
    viewer: Client = login(tenant_a.viewer)
    page = viewer.get(_url(tenant_a, f"{segment.pk}/")).content.decode()
    assert "<fieldset disabled" in page and "Save segment" not in page
    assert viewer.post(_url(tenant_a, f"{segment.pk}/"), {"name": "Mine"}).status_code == 403
    assert viewer.post(_url(tenant_a, f"{segment.pk}/delete/")).status_code == 403
    preview = viewer.post(_url(tenant_a, "preview/"), {"match": "all"}).content.decode()
    assert 'data-count="3"' in preview


def test_delete(tenant_a: Tenant, world: World, login: Any) -> None:
    segment = _segment(tenant_a, "Everyone", {"conditions": []})
    agent: Client = login(tenant_a.agent)
    response = agent.post(_url(tenant_a, f"{segment.pk}/delete/"), follow=True)
    assert "Segment &#x27;Everyone&#x27; deleted." in response.content.decode()
    with workspace_context(tenant_a.workspace.pk):
        assert not Segment.objects.exists()
