"""Merging two contacts moves everything that points at the duplicate to the
survivor. Rows with a plain foreign key to Contact are moved generically; an
app whose rows need care (a uniqueness that involves the contact, say) registers
a hook here, from its AppConfig.ready, and the generic move skips its model."""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

# hook(workspace_id=, loser_id=, survivor_id=) -> rows moved
MergeHook = Callable[..., int]
_HOOKS: dict[type[models.Model], MergeHook] = {}


def register(model: type[models.Model], hook: MergeHook) -> None:
    _HOOKS[model] = hook


def hooks() -> dict[type[models.Model], MergeHook]:
    return dict(_HOOKS)
