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


class SearchTerm(TenantModel):
    """One word of a searchable row (a contact, a message), kept by database
    triggers (see migration search.0002) so that search can use a btree.

    Why not a GIN trigram or tsvector index: under FORCE ROW LEVEL SECURITY,
    PostgreSQL only lets *leakproof* operators into index conditions ahead of
    the policy, and LIKE, @@ and @> are not leakproof; text comparisons are.
    So words live here and are found by equality and prefix ranges."""

    class Kind(models.IntegerChoices):
        CONTACT = 1, "Contact"
        MESSAGE = 2, "Message"

    # The primary key is the lookup index: one btree per word and nothing else
    # to maintain on each insert (words are many: see the ingest and import benches).
    pk = models.CompositePrimaryKey("workspace", "kind", "term", "object_id")
    # The key starts with the workspace, so its own index would be redundant.
    # No foreign key in the database: a word is derived from its contact or
    # message (whose own key holds the workspace), and the check cost more than
    # the word itself (a 1M-contact import writes 7M words: 44 s of checks at
    # commit). Deleting a workspace still deletes its words (Django's cascade).
    workspace = models.ForeignKey(
        "tenancy.Workspace",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.SmallIntegerField(choices=Kind.choices)
    # Collated "C" so that a prefix is a plain byte range of the btree.
    term = models.TextField(db_collation="C")
    object_id = models.BigIntegerField()

    def __str__(self) -> str:
        return self.term


class InterestVersion(TenantModel):
    """A workspace's version of "what its automation listens for" (see
    parley/core/interest.py): bumped by every change to it."""

    workspace = models.OneToOneField(
        "tenancy.Workspace", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"workspace {self.pk}: v{self.version}"
