"""Template filters for amounts and deal history lines."""

from __future__ import annotations

from decimal import Decimal

from django import template

from parley.deals.history import describe
from parley.deals.models import DealEvent
from parley.deals.money import format_money

register = template.Library()


@register.filter
def money(deal: object) -> str:
    """{{ deal|money }}: "USD 12,500"."""
    value = getattr(deal, "value", Decimal("0"))
    return format_money(value, str(getattr(deal, "currency", "")))


@register.filter
def event_line(event: DealEvent) -> str:
    return describe(event)
