"""Segments: saved dynamic contact filters. Membership is never stored: it
is computed from the definition each time (see compiler.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from parley.core.models import TenantModel


class Segment(TenantModel):
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    # A definition.Definition as JSON, validated against the workspace on save.
    definition = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                models.F("workspace"), Lower("name"), name="segment_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name
