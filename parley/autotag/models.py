"""Auto-tag rules, in order, and the per-workspace version that tells every
process its compiled copy is stale."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Rule(TenantModel):
    class Kind(models.TextChoices):
        KEYWORD = "keyword", "Keyword"
        PATTERN = "pattern", "Pattern (regular expression)"
        FIRST_MESSAGE = "first_message", "First message"
        ATTRIBUTE = "attribute", "Contact attribute"

    class Op(models.TextChoices):
        EQUALS = "equals", "equals"
        CONTAINS = "contains", "contains"

    name = models.CharField(max_length=120)
    # Rules run in ascending position; positions are kept 1..n without gaps.
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.KEYWORD)
    keywords = models.JSONField(default=list, blank=True)
    pattern = models.TextField(blank=True)
    attribute_key = models.CharField(max_length=64, blank=True)
    attribute_op = models.CharField(max_length=16, choices=Op.choices, default=Op.EQUALS)
    attribute_value = models.CharField(max_length=200, blank=True)
    # crm.Tag ids; a deleted tag is skipped when the rules are compiled.
    contact_tag_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    conversation_tag_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    stop_after = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "position"], name="autotag_ws_pos_idx")]

    def __str__(self) -> str:
        return self.name


class RuleStats(TenantModel):
    """How often a rule fired. Kept off the rule's row on purpose: the inbound
    path upserts these while admins may be reordering or editing rules, and
    the two then never wait on each other's row locks (no deadlock between an
    ingest batch and a reorder)."""

    rule = models.OneToOneField(
        Rule, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    hits = models.PositiveBigIntegerField(default=0)
    last_hit_at = models.DateTimeField(null=True, blank=True)
