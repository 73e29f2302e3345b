"""Internal notes on contacts: markdown written by the team, never shown to
the customer. The rendered HTML is stored so lists cost no rendering."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel

BODY_MAX = 10_000


class ContactNote(TenantModel):
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    # A departed colleague's notes stay: the knowledge outlives the account.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who wrote it when there is no person (an API token), or the person's
    # name at the time, shown if the account is gone.
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    body_html = models.TextField()
    pinned = models.BooleanField(default=False)
    # Users mentioned by the current body, for display; NoteMention holds the
    # same set as rows for the indexed "mentions me" lookup.
    mentioned_user_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Computed by PostgreSQL from the body. Under row-level security only
    # leakproof operators may drive an index scan, and @@ is not one, so a GIN
    # index would go unused: searches walk the workspace's notes newest first
    # (note_ws_recent_idx) and test this stored vector, never re-parsing text.
    search = models.GeneratedField(
        expression=SearchVector("body", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="note_ws_recent_idx"),
            models.Index(
                fields=["workspace", "contact", "-created_at"], name="note_ws_contact_idx"
            ),
            models.Index(fields=["workspace", "author", "-created_at"], name="note_ws_author_idx"),
            models.Index(
                fields=["workspace", "-created_at"],
                condition=models.Q(pinned=True),
                name="note_ws_pinned_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"note {self.pk} on contact {self.contact_id}"

    @property
    def author_name(self) -> str:
        if self.author is not None:
            return self.author.display_name
        return self.author_label or "Former member"


class NoteMention(TenantModel):
    """One member mentioned by one note. Rows rather than an array because
    "mentions me" must be an index lookup, and under row-level security only
    an equality (leakproof) can use an index."""

    note = models.ForeignKey(ContactNote, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "note", "user"], name="notemention_unique")
        ]
        indexes = [
            models.Index(fields=["workspace", "user", "-note"], name="notemention_ws_user_idx")
        ]
