"""Contacts: the customers a workspace talks to. The CRM grows around them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Consent(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


class Contact(TenantModel):
    # Every index here starts with the workspace: its own would only slow inserts
    # (a 1M-row import writes each index once per row).
    workspace = models.ForeignKey(
        "tenancy.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # WhatsApp's id for the customer: their number in digits, as Meta sends it.
    wa_id = models.CharField(max_length=64)
    phone_e164 = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=200, blank=True)
    profile_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    # Marketing consent; a customer's "STOP" opts them out (inbox.ingest).
    consent = models.CharField(max_length=16, choices=Consent.choices, default=Consent.UNKNOWN)
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=40, blank=True)
    # Custom attributes, validated against the workspace's AttributeDefinitions.
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "wa_id"], name="contact_unique_wa_id")
        ]
        indexes = [
            models.Index(fields=["workspace", "name"], name="contact_ws_name_idx"),
            # Segments filter on these (see segments.compiler); btree comparisons are
            # leakproof, so they work as index conditions under row-level security,
            # and the trailing id lets a count join them without visiting the rows.
            models.Index(fields=["workspace", "consent", "id"], name="contact_ws_consent_idx"),
            # With the attributes included, "wrote in the last N days" plus
            # attribute conditions is answered from this index alone: visiting
            # the rows was most of such a count (1M contacts: 140 ms, to 70).
            models.Index(
                fields=["workspace", "last_inbound_at", "id"],
                include=["attributes"],
                name="contact_ws_inbound_idx",
            ),
            models.Index(
                fields=["workspace", "last_outbound_at", "id"], name="contact_ws_outbound_idx"
            ),
            models.Index(fields=["workspace", "created_at", "id"], name="contact_ws_created_idx"),
            # A segment condition on tags or conversations finds contact ids first;
            # checking those contacts here stays index-only (the policy reads
            # workspace_id from the index), where the primary key visits the rows.
            models.Index(fields=["workspace", "id"], name="contact_ws_id_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.profile_name or self.phone_e164 or self.wa_id


class Tag(TenantModel):
    name = models.CharField(max_length=60)
    color = models.CharField(max_length=7, default="#128c7e")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ContactTag(TenantModel):
    # No foreign key in the database on the workspace: the row cannot outlive
    # its contact (checked), whose own key holds the workspace, and a check per
    # row is what bulk tagging pays for (an import of 1M contacts with three
    # tags each made 3M of these at commit). Django's cascade still deletes.
    workspace = models.ForeignKey(
        "tenancy.Workspace",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="contact_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="contact_tags")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "contact", "tag"], name="contacttag_unique"
            )
        ]
        # With contact_id last, "has tag X" is an index-only scan.
        indexes = [
            models.Index(
                fields=["workspace", "tag", "contact"], name="contacttag_ws_tag_contact_idx"
            )
        ]


class AttributeDefinition(TenantModel):
    """A custom contact attribute the workspace defines, with its type."""

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes/no"
        CHOICE = "choice", "Choice"

    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=80)
    type = models.CharField(max_length=16, choices=Type.choices)
    choices = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="attribute_unique_key")
        ]


class ContactEvent(TenantModel):
    """Something that happened to a contact (tags, attributes, consent, edits,
    merges), kept for its timeline: who did what and when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        TAGGED = "tagged", "Tag added"
        UNTAGGED = "untagged", "Tag removed"
        ATTRIBUTES = "attributes", "Attributes changed"
        CONSENT = "consent", "Consent changed"
        MERGED = "merged", "Merged"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Null when the customer (a STOP keyword) or the system did it.
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "contact", "-at"], name="contactevent_timeline_idx")
        ]
