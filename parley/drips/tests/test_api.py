"""The drips API end to end, and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.drips.models import Sequence
from parley.drips.tests.helpers import (
    MAPPING,
    approved_template,
    contact,
    enrolments,
    finish,
    items,
    make_sequence,
    tag,
)
from tests.factories import Tenant, make_channel, make_token

pytestmark = pytest.mark.django_db


def _client(raw_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw_token}"})


def _json(client: Client, method: str, url: str, body: Any = None) -> Any:
    response = getattr(client, method)(f"/api/v1{url}", body, content_type="application/json")
    return response.status_code, (response.json() if response.content else None)


def test_build_activate_enrol_and_read_a_sequence(tenant_a: Tenant) -> None:
    api = _client(tenant_a.raw_token)
    channel = make_channel(tenant_a)
    template = approved_template(tenant_a, channel)
    trial = tag(tenant_a, "trial")

    status, seq = _json(
        api,
        "post",
        "/drips",
        {
            "name": "Trial onboarding",
            "channel_id": channel.pk,
            "trigger": "tag_added",
            "trigger_tag_id": trial.pk,
            "exit_on_reply": True,
        },
    )
    assert status == 201, seq
    assert (seq["active"], seq["trigger"], seq["trigger_tag_id"]) == (False, "tag_added", trial.pk)
    sid = seq["id"]

    status, err = _json(api, "post", f"/drips/{sid}/activate")
    assert status == 400 and "Add a step first" in err["message"]

    status, err = _json(api, "post", f"/drips/{sid}/steps", {"template_id": template.pk})
    assert status == 400 and err["field"] == "mapping"
    status, step1 = _json(
        api, "post", f"/drips/{sid}/steps", {"template_id": template.pk, "mapping": MAPPING}
    )
    assert status == 201, step1
    status, step2 = _json(
        api,
        "post",
        f"/drips/{sid}/steps",
        {
            "text": "Any questions? Just reply.",
            "delay_amount": 2,
            "delay_unit": "days",
            "window_days": [0, 1, 2, 3, 4],
            "window_start": "09:00",
            "window_end": "17:00",
        },
    )
    assert status == 201, step2
    assert (step2["position"], step2["window_start"], step2["template_id"]) == (2, "09:00:00", None)
    status, err = _json(api, "post", f"/drips/{sid}/steps", {"text": "x", "window_start": "09:00"})
    assert status == 400 and err["field"] == "window_days"

    # Reorder and edit through PATCH.
    status, moved = _json(api, "patch", f"/drips/{sid}/steps/{step2['id']}", {"position": 1})
    assert status == 200 and moved["position"] == 1
    status, edited = _json(api, "patch", f"/drips/{sid}/steps/{step2['id']}", {"delay_amount": 0})
    assert status == 200 and edited["delay_amount"] == 0 and edited["text"].startswith("Any")
    status, listed = _json(api, "get", f"/drips/{sid}/steps")
    assert [s["id"] for s in listed] == [step2["id"], step1["id"]]

    status, seq = _json(api, "post", f"/drips/{sid}/activate")
    assert status == 200 and seq["active"] is True

    ann = contact(tenant_a, "15550002001")
    bob = contact(tenant_a, "15550002002", consent="opted_out")
    status, many = _json(
        api, "post", f"/drips/{sid}/enrolments", {"contact_ids": [ann.pk, bob.pk, 987654]}
    )
    assert status == 200
    assert many == {"enrolled": 1, "already": 0, "opted_out": 1, "not_found": 1}
    status, err = _json(api, "post", f"/drips/{sid}/enrolments", {"contact_id": bob.pk})
    assert status == 400 and err["code"] == "opted_out"

    finish(tenant_a, items(tenant_a)[0], "sent")
    status, page = _json(api, "get", f"/drips/{sid}/enrolments?state=active")
    assert status == 200
    [row] = page["items"]
    assert row["contact_id"] == ann.pk and row["current_step_id"] == step1["id"]
    assert [(r["step_id"], r["state"]) for r in row["steps"]] == [
        (step2["id"], "sent"),
        (step1["id"], "queued"),
    ]

    status, stats = _json(api, "get", f"/drips/{sid}/stats")
    assert status == 200
    assert [(s["step_id"], s["sent"], s["queued"]) for s in stats] == [
        (step2["id"], 1, 0),
        (step1["id"], 0, 1),
    ]
    status, sends = _json(api, "get", f"/drips/{sid}/sends")
    assert [(s["step_id"], s["state"]) for s in sends] == [
        (step1["id"], "pending"),
        (step2["id"], "sent"),
    ]

    status, removed = _json(api, "delete", f"/drips/{sid}/enrolments/{row['id']}")
    assert status == 200 and (removed["state"], removed["exit_reason"]) == ("exited", "removed")
    assert items(tenant_a)[1].state == "cancelled"

    status, seq = _json(api, "post", f"/drips/{sid}/deactivate")
    assert status == 200 and seq["active"] is False
    status, seq = _json(api, "patch", f"/drips/{sid}", {"name": "Trial v2", "goal_tag_id": None})
    assert status == 200 and seq["name"] == "Trial v2" and seq["trigger_tag_id"] == trial.pk
    status, listed = _json(api, "get", "/drips")
    assert [(s["id"], s["enrolled_count"], s["active_count"]) for s in listed["items"]] == [
        (sid, 1, 0)
    ]
    status, _none = _json(api, "delete", f"/drips/{sid}/steps/{step1['id']}")
    assert status == 204
    status, _none = _json(api, "delete", f"/drips/{sid}")
    assert status == 204
    with workspace_context(tenant_a.workspace.pk):
        assert not Sequence.objects.exists()


def test_validation_names_the_field(tenant_a: Tenant) -> None:
    api = _client(tenant_a.raw_token)
    channel = make_channel(tenant_a)
    for body, field in [
        ({"name": "x", "channel_id": channel.pk, "trigger": "tag_added"}, "trigger_tag_id"),
        ({"name": "x", "channel_id": channel.pk, "trigger": "keyword"}, "keywords"),
        (
            {"name": "x", "channel_id": channel.pk, "trigger": "segment_entered"},
            "trigger_segment_id",
        ),
        ({"name": "x"}, "channel_id"),
        ({"name": " ", "channel_id": channel.pk}, "name"),
    ]:
        status, err = _json(api, "post", "/drips", body)
        assert (status, err["field"]) == (400, field), body


def test_roles_viewers_and_agents_read_only(tenant_a: Tenant, login: Any) -> None:
    sequence = make_sequence(tenant_a)
    ann = contact(tenant_a, "15550002011")
    for user in (tenant_a.viewer, tenant_a.agent):
        api = login(user)
        api.defaults["HTTP_X_PARLEY_WORKSPACE"] = tenant_a.workspace.slug
        assert _json(api, "get", "/drips")[0] == 200
        assert _json(api, "get", f"/drips/{sequence.pk}")[0] == 200
        assert _json(api, "get", f"/drips/{sequence.pk}/stats")[0] == 200
        assert _json(api, "get", f"/drips/{sequence.pk}/enrolments")[0] == 200
        assert _json(api, "post", f"/drips/{sequence.pk}/deactivate")[0] == 403
        assert _json(api, "patch", f"/drips/{sequence.pk}", {"name": "no"})[0] == 403
        assert _json(api, "post", f"/drips/{sequence.pk}/steps", {"text": "no"})[0] == 403
        status, _e = _json(api, "post", f"/drips/{sequence.pk}/enrolments", {"contact_id": ann.pk})
        assert status == 403
        assert _json(api, "delete", f"/drips/{sequence.pk}")[0] == 403
    assert enrolments(tenant_a, sequence) == []
    with workspace_context(tenant_a.workspace.pk):
        assert Sequence.objects.get(pk=sequence.pk).active
    # An admin's session may.
    admin = login(tenant_a.admin)
    admin.defaults["HTTP_X_PARLEY_WORKSPACE"] = tenant_a.workspace.slug
    assert _json(admin, "post", f"/drips/{sequence.pk}/deactivate")[0] == 200
    # A token without the campaigns scopes reads nothing, even the owner's.
    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("contacts:read",))
    assert _json(_client(raw), "get", "/drips")[0] == 403
    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("campaigns:read",))
    assert _json(_client(raw), "get", "/drips")[0] == 200
    assert _json(_client(raw), "post", f"/drips/{sequence.pk}/activate")[0] == 403


def test_openapi_documents_the_routes_with_examples(tenant_a: Tenant) -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/drips",
        "/api/v1/drips/{sequence_id}",
        "/api/v1/drips/{sequence_id}/activate",
        "/api/v1/drips/{sequence_id}/steps/{step_id}",
        "/api/v1/drips/{sequence_id}/enrolments",
        "/api/v1/drips/{sequence_id}/enrolments/{enrolment_id}",
        "/api/v1/drips/{sequence_id}/stats",
    ):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    assert schemas["SequenceIn"]["properties"]["name"]["examples"] == ["Trial onboarding"]
    assert schemas["StepIn"]["properties"]["window_days"]["examples"] == [[0, 1, 2, 3, 4]]
    assert schemas["EnrolIn"]["properties"]["contact_id"]["examples"] == [42]
