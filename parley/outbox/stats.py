"""Progress of a source's items (a broadcast, a drip step): counts by state,
with delivery and read from the messages and replies from the contacts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection


@dataclass
class Progress:
    total: int = 0
    queued: int = 0  # waiting for their time or turn
    paused: int = 0
    sending: int = 0
    sent: int = 0  # accepted by Meta (includes delivered and read)
    delivered: int = 0  # includes read
    read: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    replied: int = 0  # the contact wrote after the message went out

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped + self.cancelled

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 100

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done": self.done, "percent": self.percent}


def progress(*, workspace_id: int, source: str, source_ids: list[int]) -> dict[int, Progress]:
    """Progress per source id, in one query."""
    out = {source_id: Progress() for source_id in source_ids}
    if not source_ids:
        return out
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.source_id, i.state, m.status, count(*),
                      count(*) FILTER (WHERE c.last_inbound_at > i.finished_at)
                 FROM outbox_outbounditem i
                 LEFT JOIN inbox_message m
                   ON m.id = i.message_id AND m.workspace_id = i.workspace_id
                 LEFT JOIN crm_contact c ON c.id = i.contact_id AND c.workspace_id = i.workspace_id
                   AND i.state = 'sent'
                WHERE i.workspace_id = %s AND i.source = %s AND i.source_id = ANY(%s)
                GROUP BY 1, 2, 3""",
            [workspace_id, source, source_ids],
        )
        rows = cursor.fetchall()
    for source_id, state, status, count, replied in rows:
        p = out[int(source_id)]
        p.total += count
        if state == "pending":
            p.queued += count
        elif state == "held":
            p.paused += count
        elif state == "sending":
            p.sending += count
        elif state == "sent":
            if status == "failed":
                # Meta accepted it, then reported it undeliverable.
                p.failed += count
                continue
            p.sent += count
            p.replied += replied
            if status in ("delivered", "read"):
                p.delivered += count
            if status == "read":
                p.read += count
        elif state == "failed":
            p.failed += count
        elif state == "skipped":
            p.skipped += count
        elif state == "cancelled":
            p.cancelled += count
    return out
