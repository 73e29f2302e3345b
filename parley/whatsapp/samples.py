"""Meta-shaped webhook bodies built in code, for tests and benchmarks (the
simulator builds the full variety; these are the minimal common cases)."""

from __future__ import annotations

import json
import time
from typing import Any


def envelope(phone_number_id: str, value: dict[str, Any], *, field: str = "messages") -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": field,
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550000000",
                                    "phone_number_id": phone_number_id,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def text_webhook(
    phone_number_id: str,
    *,
    wamid: str,
    wa_id: str,
    body: str = "hello",
    name: str = "Ann",
    sent_at: int | None = None,
) -> bytes:
    """One inbound text message from ``wa_id``."""
    return envelope(
        phone_number_id,
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(sent_at if sent_at is not None else int(time.time())),
                    "type": "text",
                    "text": {"body": body},
                }
            ],
        },
    )


def status_webhook(phone_number_id: str, *, wamid: str, status: str, at: int) -> bytes:
    return envelope(
        phone_number_id,
        {"statuses": [{"id": wamid, "status": status, "timestamp": str(at), "recipient_id": "1"}]},
    )
