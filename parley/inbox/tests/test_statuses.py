"""Applying Meta's status objects to outbound messages: forward only, times
filled once, failures kept, and any string Meta sends matched exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation, Message
from parley.inbox.statuses import apply_statuses
from tests.factories import Tenant, seed_inbox


def _outbound(tenant: Tenant, wamid: str | None, **fields: Any) -> Message:
    with workspace_context(tenant.workspace.pk):
        conversation = Conversation.objects.first()
        if conversation is None:
            seeded = seed_inbox(tenant)
            conversation = Conversation.objects.get(pk=int(seeded["conversation_id"]))
        return Message.objects.create(
            workspace=tenant.workspace,
            conversation=conversation,
            direction="out",
            wamid=wamid,
            status=fields.pop("status", "sent"),
            text="hi",
            **fields,
        )


def _status(wamid: str, status: str, at: int, **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": status, "timestamp": str(at), "recipient_id": "1", **extra}


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _apply(tenant: Tenant, statuses: list[dict[str, Any]]) -> int:
    with workspace_context(tenant.workspace.pk):
        return apply_statuses(tenant.workspace.pk, statuses)


def test_each_step_in_one_batch_keeps_its_own_time(tenant_a: Tenant) -> None:
    message = _outbound(tenant_a, "wamid.steps", status="sending")
    changed = _apply(
        tenant_a,
        [
            _status("wamid.steps", "sent", 1_760_000_100),
            _status("wamid.steps", "delivered", 1_760_000_200),
            _status("wamid.steps", "read", 1_760_000_300),
            # Late and repeated: nothing moves back, no time is replaced.
            _status("wamid.steps", "sent", 1_760_000_400),
        ],
    )
    message.refresh_from_db()
    assert changed == 1
    assert message.status == "read"
    assert message.sent_at == _at(1_760_000_100)
    assert message.delivered_at == _at(1_760_000_200)
    assert message.read_at == _at(1_760_000_300)


def test_a_read_fills_the_skipped_steps_but_keeps_a_time_already_there(tenant_a: Tenant) -> None:
    message = _outbound(tenant_a, "wamid.skip", sent_at=_at(1_760_000_000))
    assert _apply(tenant_a, [_status("wamid.skip", "read", 1_760_000_500)]) == 1
    message.refresh_from_db()
    assert message.status == "read"
    assert message.sent_at == _at(1_760_000_000)
    assert message.delivered_at == _at(1_760_000_500) == message.read_at
    # A second batch saying the same changes nothing.
    assert _apply(tenant_a, [_status("wamid.skip", "delivered", 1_760_000_900)]) == 0


def test_a_failure_is_kept_before_delivery_and_ignored_after(tenant_a: Tenant) -> None:
    failing = _outbound(tenant_a, "wamid.fails")
    delivered = _outbound(tenant_a, "wamid.arrived", status="delivered")
    error = {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "x"}}
    changed = _apply(
        tenant_a,
        [
            _status("wamid.fails", "failed", 1_760_000_100, errors=[error]),
            _status("wamid.fails", "delivered", 1_760_000_200),
            _status("wamid.arrived", "failed", 1_760_000_100, errors=[error]),
        ],
    )
    failing.refresh_from_db()
    delivered.refresh_from_db()
    assert changed == 1
    assert failing.status == "failed" and failing.error_code == 131026
    assert failing.error_reason and failing.delivered_at is None
    assert delivered.status == "delivered"
    assert delivered.error_code is None and delivered.error_reason == ""


def test_a_message_without_its_wamid_is_found_by_its_key(tenant_a: Tenant) -> None:
    message = _outbound(tenant_a, None, status="sending")
    key = str(message.idempotency_key)
    changed = _apply(
        tenant_a,
        [_status("wamid.late", "delivered", 1_760_000_100, biz_opaque_callback_data=key)],
    )
    message.refresh_from_db()
    assert changed == 1
    assert message.wamid == "wamid.late" and message.status == "delivered"


def test_any_string_is_matched_exactly_and_never_breaks_the_batch(tenant_a: Tenant) -> None:
    odd = 'wamid."quoted",{braced}\\slash NULL'
    message = _outbound(tenant_a, odd)
    plain = _outbound(tenant_a, "wamid.plain")
    changed = _apply(
        tenant_a,
        [
            _status("wamid.nul\x00", "read", 1_760_000_100),
            _status("NULL", "read", 1_760_000_100),
            _status('wamid."quoted"', "read", 1_760_000_100),
            _status(odd, "delivered", 1_760_000_200),
            _status("wamid.plain", "failed", 1_760_000_200, errors=[{"title": 'bad "x"\x00'}]),
            _status("wamid.plain", "sent", 1_760_000_200, biz_opaque_callback_data="not-a-uuid"),
        ],
    )
    message.refresh_from_db()
    plain.refresh_from_db()
    assert changed == 2
    assert message.status == "delivered" and message.delivered_at == _at(1_760_000_200)
    assert plain.status == "failed"


def test_another_workspaces_message_is_never_touched(tenant_a: Tenant, tenant_b: Tenant) -> None:
    theirs = _outbound(tenant_b, "wamid.shared")
    ours = _outbound(tenant_a, "wamid.shared")
    assert _apply(tenant_a, [_status("wamid.shared", "read", 1_760_000_100)]) == 1
    with workspace_context(tenant_b.workspace.pk):
        theirs.refresh_from_db()
    with workspace_context(tenant_a.workspace.pk):
        ours.refresh_from_db()
    assert theirs.status == "sent" and theirs.read_at is None
    assert ours.status == "read"
