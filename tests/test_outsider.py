"""The application wall: someone from workspace B walks every route of the
project with workspace A's ids and gets 403/404 (405 for a method the route
does not have), never A's data.

Routes are discovered from the URL resolver. A new route with a parameter
this test does not know fails it, so isolation is decided for every route.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from parley.autotag.tests.seed import seed as seed_autotag
from parley.broadcasts.tests.seed import seed as seed_broadcasts
from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition
from parley.drips.tests.seed import seed as seed_drips
from parley.executions.tests.seed import seed as seed_executions
from parley.integrations.tests.seed import seed as seed_webhooks
from parley.msgtemplates.tests.seed import seed as seed_templates
from parley.routing.tests.seed import seed as seed_routing
from parley.scheduled.tests.seed import seed as seed_scheduled
from parley.search.models import SavedSearch
from parley.segments.tests.world import seed_segment
from parley.tenancy.actions import do_invite
from parley.transfer.tests.helpers import make_transfers
from parley.workflows.tests.seed import seed as seed_workflows
from tests.factories import Tenant, actor_for, seed_deal_and_task, seed_inbox, seed_note
from tests.urlwalk import all_routes

# Routes anybody may reach, by design (they reveal no tenant data).
PUBLIC = {
    "healthz",
    "readyz",
    "signup",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    # Holding the link is the credential; covered in test_invitations.
    "accept_invitation",
    # Meta's webhook: authenticated by channel signature (tests/test_webhook_isolation).
    "whatsapp_webhook",
    # The API's own documentation.
    "openapi-json",
    "openapi-view",
}
ALLOWED = {403, 404, 405}
METHODS = ("get", "post", "patch", "put", "delete")


def _param_values(a: Tenant) -> dict[str, str]:
    with workspace_context(a.workspace.pk):
        invitation, _raw = do_invite(
            actor=actor_for(a.workspace, a.owner), email="x@alpha.test", role="agent"
        )
        seeded = seed_inbox(a)
        saved_search = SavedSearch.objects.create(
            workspace=a.workspace, user=a.owner, name="Mine", q="hello"
        )
        attribute = AttributeDefinition.objects.create(
            workspace=a.workspace, key="plan", label="Plan", type="text"
        )
        contact_import, contact_export = make_transfers(a.workspace)
    return {
        **seeded,
        "slug": a.workspace.slug,
        "member_id": str(a.member(a.agent).pk),
        "invitation_id": str(invitation.pk),
        "token_id": str(a.token.pk),
        # Operator-only routes: any id; the outsider is not an operator.
        "job_id": "1",
        "workspace_id": str(a.workspace.pk),
        "attribute_id": str(attribute.pk),
        "segment_id": seed_segment(a),
        "saved_search_id": str(saved_search.pk),
        "import_id": str(contact_import.pk),
        "export_id": str(contact_export.pk),
        **seed_note(a, seeded["contact_id"]),
        **seed_deal_and_task(a, seeded["contact_id"]),
        **seed_templates(a),
        **seed_broadcasts(a),
        **seed_scheduled(a),
        **seed_drips(a),
        **seed_webhooks(a),
        **seed_executions(a),
        **seed_routing(a),
        **seed_autotag(a),
        **seed_workflows(a),
    }


def _markers(a: Tenant) -> list[str]:
    return [a.workspace.name, a.workspace.slug, a.owner.email, a.agent.email, a.token.key_id]


# A body valid for any of the API's inputs, so that a request reaches the
# handler's ownership check instead of stopping at input validation.
PLAUSIBLE_BODY = {
    "type": "text",
    "text": "hello",
    "body": "hello",
    "shortcut": "hello",
    "status": "open",
    "assignee_id": None,
    "active": True,
    "confirm": "x",
    "phone": "+15550009999",
    "key": "probe",
    "label": "Probe",
    "consent": "opted_in",
    "contact_ids": [1, 2, 3],
    "conversation_ids": [1, 2, 3],
    "duplicate_id": 1,
    "stage_id": 1,
    "stage_ids": [1, 2],
    "reason": "probe",
    "color": "#112233",
    "role": "agent",
    "name": "Outsider",
    "email": "outsider@example.test",
    "scopes": ["workspace:read"],
    "timezone": "UTC",
    "default_country": "US",
    "mode": "none",
    "team_id": None,
    "by": 1,
}


def _call(client: Client, method: str, url: str, **extra: str) -> tuple[int, str]:
    data = PLAUSIBLE_BODY if method in ("post", "patch", "put") else None
    response = getattr(client, method)(url, data=data, content_type="application/json", **extra)
    if response.status_code == 422 and method == "post":
        # A multipart endpoint (file upload): send it a file, so the request
        # reaches the ownership check too.
        upload = SimpleUploadedFile("probe.txt", b"probe", content_type="text/plain")
        fields = {k: v for k, v in PLAUSIBLE_BODY.items() if v is not None}
        response = getattr(client, "post")(url, data={**fields, "file": upload}, **extra)  # noqa: B009  (extra: WSGI headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body.decode(errors="replace")


@pytest.fixture(params=["both walls", "application wall alone"])
def walls(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the walk twice: the second time with row-level security switched
    off for the test's connection, so the application wall must hold alone."""
    if request.param == "application wall alone":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        yield request.param
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('parley.cross_tenant', 'off', false)")
    else:
        yield request.param


@pytest.mark.django_db
def test_every_route_is_closed_to_an_outsider(
    walls: str, tenant_a: Tenant, tenant_b: Tenant, login: object
) -> None:
    values = _param_values(tenant_a)
    markers = _markers(tenant_a)
    session = login(tenant_b.owner)  # type: ignore[operator]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tenant_b.raw_token}"}
    routes = list({r.template: r for r in all_routes() if r.name not in PUBLIC}.values())
    unknown = sorted({p for r in routes for p in r.params} - values.keys())
    assert not unknown, f"register outsider values for route parameters: {unknown}"

    failures: list[str] = []
    checked = 0
    for route in routes:
        url = route.fill(values)
        is_api = route.template.startswith("api/")
        callers: list[tuple[str, dict[str, str]]] = [("session", {})] + (
            [("token", bearer)] if is_api else []
        )
        for caller, extra in callers:
            for method in METHODS:
                status, body = _call(session, method, url, **extra)
                checked += 1
                leaked = [m for m in markers if m in body]
                if route.params and status not in ALLOWED:
                    failures.append(f"{method.upper()} {url} as {caller}: {status}")
                elif leaked:
                    failures.append(f"{method.upper()} {url} as {caller}: leaks {leaked}")
                elif status >= 500:
                    failures.append(f"{method.upper()} {url} as {caller}: {status}")
    assert not failures, "\n".join(failures)
    # The walk really walked: every API and workspace route was tried.
    assert checked > 100


@pytest.mark.django_db
def test_walk_finds_the_routes_it_must_cover() -> None:
    names = {r.name for r in all_routes()}
    # A sample from each family; if discovery broke, the walk above would be empty.
    for expected in ("members", "tokens", "member_role", "ops_console", "list_members"):
        assert expected in names, expected
