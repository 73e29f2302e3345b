"""The demo workspace a newcomer lands in has a CRM to look at, seeded once."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from parley.accounts.models import User
from parley.core.tenant import workspace_context
from parley.crm.models import Contact, ContactTag
from parley.deals.models import Deal
from parley.notes.models import ContactNote
from parley.ops.management.commands.seed_demo import DEMO_EMAIL
from parley.segments.compiler import count_matching
from parley.segments.models import Segment
from parley.todos.models import Task
from parley.workflows.models import Workflow

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_seeds_the_crm_once() -> None:
    call_command("seed_demo")
    call_command("seed_demo")
    workspace_id = User.objects.get(email=DEMO_EMAIL).last_workspace_id
    assert workspace_id is not None
    with workspace_context(workspace_id):
        assert Contact.objects.count() == 5
        assert ContactTag.objects.count() == 5
        assert Deal.objects.count() == 4
        assert Task.objects.count() == 4
        assert ContactNote.objects.get().pinned
        segment = Segment.objects.get()
        # Grace is VIP and opted in; Aiko is VIP but gave no consent.
        assert count_matching(workspace_id, segment.definition) == 1
        workflow = Workflow.objects.get()
        assert workflow.enabled and workflow.trigger_type == "message_received"
