"""The 24-hour customer-service window: free-form messages only within 24 h
of the customer's last message; templates at any time."""

from __future__ import annotations

from datetime import datetime, timedelta

from parley.inbox.models import Conversation

WINDOW = timedelta(hours=24)


def window_open(conversation: Conversation, now: datetime) -> bool:
    last = conversation.last_inbound_at
    return last is not None and now - last < WINDOW


def window_closes_at(conversation: Conversation) -> datetime | None:
    last = conversation.last_inbound_at
    return last + WINDOW if last is not None else None
