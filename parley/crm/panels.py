"""Side panels on the contact page (notes, tasks, deals...), contributed by the
apps that own them, registered in their AppConfig.ready so crm imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.crm.models import Contact
    from parley.tenancy.actor import Actor


@dataclass(frozen=True)
class ContactPanel:
    name: str
    order: int  # lower first
    template: str  # rendered with the context below plus "actor" and "contact"
    context: Callable[[Actor, Contact], dict[str, Any]]


_PANELS: dict[str, ContactPanel] = {}


def register(panel: ContactPanel) -> None:
    _PANELS[panel.name] = panel


def panels() -> list[ContactPanel]:
    return sorted(_PANELS.values(), key=lambda p: p.order)
