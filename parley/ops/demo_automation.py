"""The demo workspace's workflow: write "pricing" to the demo number and a
question with buttons comes back, so a newcomer sees automation at work."""

from __future__ import annotations

from parley.tenancy.actor import Actor
from parley.workflows.actions import do_create_workflow, do_publish, do_set_enabled
from parley.workflows.models import Workflow

DEMO_WORKFLOW = {
    "trigger": {"type": "message_received", "match": "keywords", "keywords": ["pricing", "price"]},
    "steps": [
        {"type": "add_tags", "tags": ["Lead"]},
        {
            "type": "ask_buttons",
            "text": "Hi {{contact.first_name}}! Our plans start at $19/month. Want a call?",
            "buttons": ["Yes, call me", "No thanks"],
            "timeout_minutes": 60,
            "branches": {
                "b1": [
                    {"type": "send_text", "text": "Great, an agent will call you today."},
                    {"type": "create_task", "title": "Call {{contact.name}} about pricing"},
                ],
                "b2": [{"type": "send_text", "text": "No problem. Write any time!"}],
                "timeout": [{"type": "add_tags", "tags": ["No answer"]}],
            },
        },
    ],
}


def seed_demo_automation(actor: Actor) -> None:
    if Workflow.objects.filter(workspace=actor.workspace).exists():
        return  # seeded already
    workflow = do_create_workflow(
        actor=actor,
        name="Pricing questions",
        description="Try it: write “pricing” from the simulated customer.",
        draft=DEMO_WORKFLOW,
    )
    do_publish(actor=actor, workflow=workflow)
    do_set_enabled(actor=actor, workflow=workflow, enabled=True)
