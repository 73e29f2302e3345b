"""Models of the search app: a person's saved searches."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class SavedSearch(TenantModel):
    """A search one member keeps: the words and the quick filters."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    q = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, default="all")
    since_days = models.PositiveIntegerField(null=True, blank=True)
    direction = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user", "name"], name="savedsearch_unique_name"
            )
        ]
