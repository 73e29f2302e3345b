"""The drips pages: building a sequence in the browser's forms, and what
viewers may see and not do."""

from __future__ import annotations

from typing import Any

import pytest

from parley.core.tenant import workspace_context
from parley.drips.models import Sequence, Step
from parley.drips.tests.helpers import (
    approved_template,
    contact,
    enrolments,
    finish,
    items,
    make_sequence,
    tag,
)
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def test_an_admin_builds_and_runs_a_sequence_through_the_pages(
    tenant_a: Tenant, login: Any
) -> None:
    channel = make_channel(tenant_a)
    template = approved_template(tenant_a, channel)
    trial = tag(tenant_a, "trial")
    client = login(tenant_a.admin)
    base = f"/w/{tenant_a.workspace.slug}/drips/"

    assert "No drip sequences yet" in client.get(base).content.decode()
    form = client.get(f"{base}new/").content.decode()
    assert "is the baseline" in form
    response = client.post(
        f"{base}new/",
        {
            "name": "Trial nurture",
            "channel_id": channel.pk,
            "trigger": "tag_added",
            "trigger_tag_id": trial.pk,
            "exit_on_reply": "on",
        },
    )
    assert response.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        sequence = Sequence.objects.get(name="Trial nurture")
    assert response["Location"] == f"{base}{sequence.pk}/steps/new/"

    # The template's variable rows come from msgtemplates' include.
    rows = client.get(f"{base}{sequence.pk}/steps/mapping/?template_id={template.pk}")
    assert 'name="var-1-source"' in rows.content.decode()
    response = client.post(
        f"{base}{sequence.pk}/steps/new/",
        {
            "kind": "template",
            "template_id": template.pk,
            "var-1-source": "field:first_name",
            "var-1-fallback": "there",
            "delay_amount": 0,
            "delay_unit": "minutes",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # A text step with a window, and one the form refuses with the reason.
    response = client.post(
        f"{base}{sequence.pk}/steps/new/",
        {"kind": "text", "text": "", "delay_amount": 1, "delay_unit": "days"},
    )
    assert response.status_code == 200 and "Pick a template, or write a message" in (
        response.content.decode()
    )
    response = client.post(
        f"{base}{sequence.pk}/steps/new/",
        {
            "kind": "text",
            "text": "How is the trial going?",
            "delay_amount": 2,
            "delay_unit": "days",
            "window_days": ["0", "1", "2", "3", "4"],
            "window_start": "09:00",
            "window_end": "17:00",
        },
    )
    assert response.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        steps = list(Step.objects.filter(sequence=sequence).order_by("position"))
        assert steps[0].content.mapping == {
            "1": {"source": "field", "field": "first_name", "fallback": "there"}
        }
    page = client.get(f"{base}{sequence.pk}/").content.decode()
    assert "welcome" in page and "How is the trial going?" in page
    assert "2 days after the previous step" in page and "Mon\u2013Fri 09:00\u201317:00" in page

    # Edit step 2 (its form comes back filled), then move it up and back.
    edit = client.get(f"{base}{sequence.pk}/steps/{steps[1].pk}/").content.decode()
    assert "How is the trial going?" in edit
    client.post(f"{base}{sequence.pk}/steps/{steps[1].pk}/move/", {"by": "-1"})
    with workspace_context(tenant_a.workspace.pk):
        assert Step.objects.get(pk=steps[1].pk).position == 1
    client.post(f"{base}{sequence.pk}/steps/{steps[1].pk}/move/", {"by": "1"})

    client.post(f"{base}{sequence.pk}/toggle/", {"active": "1"})
    with workspace_context(tenant_a.workspace.pk):
        assert Sequence.objects.get(pk=sequence.pk).active

    ann = contact(tenant_a, "15550003001", name="Ann Trial")
    found = client.get(f"{base}{sequence.pk}/contacts/?q=Ann").content.decode()
    assert f'value="{ann.pk}"' in found
    client.post(f"{base}{sequence.pk}/enrol/", {"contact_ids": [ann.pk]})
    finish(tenant_a, items(tenant_a)[0], "sent")
    subscribers = client.get(f"{base}{sequence.pk}/subscribers/").content.decode()
    assert "Ann Trial" in subscribers and ">sent<" in subscribers and ">queued<" in subscribers
    stats = client.get(f"{base}{sequence.pk}/stats/").content.decode()
    assert "Delivered" in stats and "Replied" in stats
    log = client.get(f"{base}{sequence.pk}/log/").content.decode()
    assert "Ann Trial" in log and "Step 2" in log
    listing = client.get(base).content.decode()
    assert "Trial nurture" in listing and "Tag \u201ctrial\u201d added" in listing

    # The contact page shows the contact's sequences.
    contact_page = client.get(f"/w/{tenant_a.workspace.slug}/contacts/{ann.pk}/").content.decode()
    assert "Drip sequences" in contact_page and "Trial nurture" in contact_page

    [enrolment] = enrolments(tenant_a, sequence)
    client.post(f"{base}{sequence.pk}/subscribers/{enrolment.pk}/remove/")
    assert enrolments(tenant_a, sequence)[0].exit_reason == "removed"

    client.post(f"{base}{sequence.pk}/toggle/", {"active": "0"})
    response = client.post(f"{base}{sequence.pk}/delete/")
    assert response.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        assert not Sequence.objects.filter(pk=sequence.pk).exists()


def test_viewers_see_everything_and_change_nothing(tenant_a: Tenant, login: Any) -> None:
    sequence = make_sequence(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        step = Step.objects.get(sequence=sequence)
    ann = contact(tenant_a, "15550003011")
    client = login(tenant_a.viewer)
    base = f"/w/{tenant_a.workspace.slug}/drips/"
    for path in (
        "",
        f"{sequence.pk}/",
        f"{sequence.pk}/settings/",
        f"{sequence.pk}/steps/{step.pk}/",
        f"{sequence.pk}/subscribers/",
        f"{sequence.pk}/stats/",
        f"{sequence.pk}/log/",
    ):
        response = client.get(base + path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert "Deactivate" not in body and "Add a step" not in body, path
    for path, data in (
        (f"{sequence.pk}/toggle/", {"active": "0"}),
        (f"{sequence.pk}/settings/", {"name": "Mine now"}),
        (f"{sequence.pk}/steps/{step.pk}/", {"kind": "text", "text": "x"}),
        (f"{sequence.pk}/steps/{step.pk}/delete/", {}),
        (f"{sequence.pk}/enrol/", {"contact_ids": [ann.pk]}),
        (f"contact/{ann.pk}/enrol/", {"sequence_id": sequence.pk}),
        (f"{sequence.pk}/delete/", {}),
        ("new/", {"name": "x"}),
    ):
        assert client.post(base + path, data).status_code == 403, path
    assert client.get(base + "new/").status_code == 403
    with workspace_context(tenant_a.workspace.pk):
        fresh = Sequence.objects.get(pk=sequence.pk)
        assert fresh.active and fresh.name == "Welcome"
        assert Step.objects.filter(sequence=sequence).exists()
    assert enrolments(tenant_a, sequence) == []
