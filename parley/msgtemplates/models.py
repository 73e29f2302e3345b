"""How often each template was sent, per sender (a broadcast, a drip, an agent ...)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class TemplateUsage(TenantModel):
    """One counter per template and sender: ``source`` is the kind of sender
    ('broadcast', 'drip', 'scheduled', 'workflow', 'agent') and ``source_id``
    its id (the agent's user id). Upserted by ``usage.record``."""

    template = models.ForeignKey(
        "whatsapp.MessageTemplate", on_delete=models.CASCADE, related_name="usages"
    )
    source = models.CharField(max_length=16)
    source_id = models.BigIntegerField()
    count = models.BigIntegerField(default=0)
    last_used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "template", "source", "source_id"],
                name="template_usage_unique_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.source_id}: {self.count}"
