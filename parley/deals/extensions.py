"""What other apps add to deal pages and the CRM dashboard (tasks, say),
registered from their AppConfig.ready, so deals imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.deals.models import Deal
    from parley.tenancy.actor import Actor


@dataclass(frozen=True)
class DealPanel:
    name: str
    order: int  # lower first
    template: str  # rendered with the context below plus "actor" and "deal"
    context: Callable[[Actor, Deal], dict[str, Any]]


@dataclass(frozen=True)
class DashboardTile:
    name: str
    order: int
    template: str  # rendered with {"figures": figures(actor)} plus "actor"
    # JSON-able numbers: the dashboard page and GET /crm/dashboard show the same.
    figures: Callable[[Actor], dict[str, Any]]


_PANELS: dict[str, DealPanel] = {}
_TILES: dict[str, DashboardTile] = {}


def register_panel(panel: DealPanel) -> None:
    _PANELS[panel.name] = panel


def register_tile(tile: DashboardTile) -> None:
    _TILES[tile.name] = tile


def deal_panels() -> list[DealPanel]:
    return sorted(_PANELS.values(), key=lambda p: p.order)


def dashboard_tiles() -> list[DashboardTile]:
    return sorted(_TILES.values(), key=lambda t: t.order)
