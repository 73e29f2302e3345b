"""The shared kernel's base model for everything a workspace owns."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class TenantModel(models.Model):
    """A row that belongs to one workspace.

    Subclasses get a row-level-security policy automatically (see rls.py).
    ``rls_extra_condition`` widens the policy in SQL for the rare table that a
    user must see across workspaces (their own memberships).
    """

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")

    rls_extra_condition: ClassVar[str] = ""

    class Meta:
        abstract = True
