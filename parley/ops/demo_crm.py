"""The demo workspace's CRM: a few contacts with fields and tags, deals on the
board, tasks (one overdue), a pinned note and a segment, so a newcomer sees
every CRM page with something on it. Created once, by seed_demo."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from parley.crm.actions import (
    do_create_contact,
    do_define_attribute,
    do_save_tag,
    do_set_attributes,
    do_set_consent,
    do_tag_contacts,
)
from parley.crm.models import AttributeDefinition
from parley.deals.actions import do_create_deal
from parley.deals.models import Stage
from parley.deals.pipelines import ensure_pipeline
from parley.notes.actions import do_create_note
from parley.segments.actions import do_create_segment
from parley.tenancy.actor import Actor
from parley.todos.actions import do_create_task

PEOPLE = [
    # name, number, email, plan, city, tags, consent
    ("Grace Okafor", "+447911123456", "grace@bakehouse.example", "pro", "London", ["VIP"], True),
    ("Mateo Rossi", "+393471234567", "mateo@trattoria.example", "free", "Milan", ["Lead"], True),
    ("Aiko Tanaka", "+819012345678", "", "pro", "Osaka", ["VIP", "Lead"], False),
    ("Lena Vogel", "+4915123456789", "lena@vogel.example", "enterprise", "Berlin", [], True),
    ("Ravi Mehta", "+919812345678", "ravi@chai.example", "free", "Pune", ["Lead"], False),
]


def seed_demo_crm(actor: Actor) -> None:
    if AttributeDefinition.objects.filter(workspace=actor.workspace).exists():
        return  # seeded already
    do_define_attribute(
        actor=actor, key="plan", label="Plan", type="choice", choices=["free", "pro", "enterprise"]
    )
    do_define_attribute(actor=actor, key="city", label="City", type="text")
    tags = {name: do_save_tag(actor=actor, tag=None, name=name) for name in ("VIP", "Lead")}
    tags["VIP"].color = "#b54708"
    tags["VIP"].save(update_fields=["color"])
    contacts = []
    for name, phone, email, plan, city, tag_names, opted_in in PEOPLE:
        contact = do_create_contact(actor=actor, phone=phone, name=name, email=email)
        do_set_attributes(actor=actor, contact=contact, values={"plan": plan, "city": city})
        for tag_name in tag_names:
            do_tag_contacts(actor=actor, tag=tags[tag_name], contact_ids=[contact.pk], add=True)
        if opted_in:
            do_set_consent(actor=actor, contact=contact, consent="opted_in", source="demo")
        contacts.append(contact)
    stages = list(Stage.objects.filter(pipeline=ensure_pipeline(actor.workspace.pk)))
    now = timezone.now()
    for i, (title, value) in enumerate(
        [
            ("Wedding cake order", 1200),
            ("Weekly bread supply", 5400),
            ("Franchise enquiry", 25000),
            ("Office catering", 3100),
        ]
    ):
        deal = do_create_deal(
            actor=actor,
            title=title,
            stage=stages[i % len(stages)],
            contact=contacts[i],
            value=Decimal(value),
            expected_close_date=(now + timedelta(days=14 * (i + 1))).date(),
        )
        do_create_task(
            actor=actor,
            title=f"Follow up: {title.lower()}",
            deal=deal,
            contact=contacts[i],
            due_at=now + timedelta(hours=30 * i - 20),
        )
    do_create_note(
        actor=actor,
        contact=contacts[0],
        body="**Allergies:** no nuts in any order.\n\nPrefers WhatsApp over calls.",
        pinned=True,
    )
    do_create_segment(
        actor=actor,
        name="VIPs who opted in",
        definition={
            "match": "all",
            "conditions": [
                {"field": "tags", "op": "has_any", "value": [tags["VIP"].pk]},
                {"field": "consent", "op": "in", "value": ["opted_in"]},
            ],
        },
    )
