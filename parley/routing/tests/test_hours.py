"""Business hours (time zones, holidays) and the away reply: once per
conversation per closed window, whatever retries or batches do."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation, Message
from parley.routing import actions
from parley.routing.hours import is_open, schedule
from parley.routing.models import AwayReply
from parley.routing.tests.helpers import drain, inbound, post_inbound, queued, run_jobs
from parley.tenancy.models import Workspace
from tests.factories import Tenant, actor_for, make_channel

pytestmark = pytest.mark.django_db

WEEKDAYS_9_TO_17 = [(d, time(9), time(17)) for d in range(5)]
AWAY = "We are closed; back at 9."


def _hours(
    tenant: Tenant,
    intervals: list[tuple[int, time, time]],
    *,
    away: bool = True,
    tz: str | None = None,
) -> None:
    if tz is not None:
        Workspace.objects.filter(pk=tenant.workspace.pk).update(timezone=tz)
        tenant.workspace.refresh_from_db()
    with workspace_context(tenant.workspace.pk):
        actions.do_save_hours(
            actor=actor_for(tenant.workspace, tenant.owner),
            fields=actions.HoursFields(
                enabled=True, intervals=intervals, away_enabled=away, away_text=AWAY
            ),
        )


def _open(tenant: Tenant, at: datetime) -> bool:
    with workspace_context(tenant.workspace.pk):
        return is_open(workspace_id=tenant.workspace.pk, at=at)


def _away_messages(tenant: Tenant) -> list[str]:
    with workspace_context(tenant.workspace.pk):
        return list(
            Message.objects.filter(direction="out", text=AWAY)
            .order_by("id")
            .values_list("text", flat=True)
        )


def test_always_open_without_business_hours(tenant_a: Tenant) -> None:
    assert _open(tenant_a, datetime(2026, 12, 27, 3, 0, tzinfo=UTC))  # a Sunday night


def test_weekday_hours_in_the_workspace_time_zone(tenant_a: Tenant) -> None:
    _hours(tenant_a, [(0, time(9), time(17))], tz="Asia/Tokyo")  # Mondays, Tokyo time
    # Sunday 23:30 UTC is Monday 08:30 in Tokyo: not yet.
    assert not _open(tenant_a, datetime(2026, 11, 29, 23, 30, tzinfo=UTC))
    # Monday 00:30 UTC is Monday 09:30 in Tokyo: open, though it is Monday 00:30 in UTC too.
    assert _open(tenant_a, datetime(2026, 11, 30, 0, 30, tzinfo=UTC))
    # 17:00 sharp closes (the end is exclusive).
    assert _open(tenant_a, datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    assert not _open(tenant_a, datetime(2026, 11, 30, 8, 0, tzinfo=UTC))


def test_daylight_saving_change_keeps_local_opening_hours(tenant_a: Tenant) -> None:
    _hours(tenant_a, WEEKDAYS_9_TO_17, tz="America/New_York")
    # Friday before the switch (EST, UTC-5): 9:30 local is 14:30 UTC.
    assert _open(tenant_a, datetime(2027, 3, 12, 14, 30, tzinfo=UTC))
    assert not _open(tenant_a, datetime(2027, 3, 12, 13, 30, tzinfo=UTC))
    # Monday after it (EDT, UTC-4): 9:30 local is 13:30 UTC.
    assert _open(tenant_a, datetime(2027, 3, 15, 13, 30, tzinfo=UTC))


def test_holidays_close_the_whole_day(tenant_a: Tenant) -> None:
    _hours(tenant_a, WEEKDAYS_9_TO_17)
    christmas = date(2026, 12, 25)  # a Friday
    noon = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    assert _open(tenant_a, noon)
    with workspace_context(tenant_a.workspace.pk):
        holiday = actions.do_add_holiday(
            actor=actor_for(tenant_a.workspace, tenant_a.owner), day=christmas, name="Christmas"
        )
    assert not _open(tenant_a, noon)
    with workspace_context(tenant_a.workspace.pk):
        plan = schedule(tenant_a.workspace.pk)
        # The closed window that holds Christmas noon began on Thursday at 17:00.
        assert plan.window_start(noon) == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
        actions.do_delete_holiday(
            actor=actor_for(tenant_a.workspace, tenant_a.owner), holiday=holiday
        )
    assert _open(tenant_a, noon)


def test_invalid_hours_are_refused_with_a_reason(tenant_a: Tenant) -> None:
    from parley.core.errors import ActionError

    with pytest.raises(ActionError, match="end after it starts"):
        _hours(tenant_a, [(0, time(17), time(9))])
    with pytest.raises(ActionError, match="overlap"):
        _hours(tenant_a, [(0, time(9), time(12)), (0, time(11), time(14))])
    with pytest.raises(ActionError, match="09:00-17:00"):
        actions.parse_day("9 to 5", 0)


def test_away_reply_once_per_closed_window_through_ingest(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    # Business hours on with no opening at all: closed right now.
    _hours(tenant_a, [])
    inbound(tenant_a, channel, wa_id="15550007000", body="hello?")
    assert run_jobs("routing.away_reply") == 1
    assert _away_messages(tenant_a) == [AWAY]
    # Two more in the same window, one of them in a batch of two: no second reply.
    post_inbound(channel, wa_id="15550007000", body="anyone?")
    post_inbound(channel, wa_id="15550007000", body="hello??")
    drain(tenant_a)
    run_jobs("routing.away_reply")
    assert _away_messages(tenant_a) == [AWAY]
    # A retried job (same ids, same window) sends nothing either.
    with workspace_context(tenant_a.workspace.pk):
        conversation = Conversation.objects.get()
        sent = actions.send_away_replies(
            workspace_id=tenant_a.workspace.pk,
            conversation_ids=[conversation.pk],
            at=datetime.now(UTC),
        )
    assert sent == 0 and _away_messages(tenant_a) == [AWAY]
    # Another customer gets their own.
    inbound(tenant_a, channel, wa_id="15550007001", body="hi")
    run_jobs("routing.away_reply")
    assert _away_messages(tenant_a) == [AWAY, AWAY]


def test_away_reply_again_in_the_next_closed_window(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _hours(tenant_a, WEEKDAYS_9_TO_17)
    inbound(tenant_a, channel, wa_id="15550008000", body="hi")
    run_jobs("routing.away_reply")  # whatever "now" is, start from a clean slate
    with workspace_context(tenant_a.workspace.pk):
        conversation = Conversation.objects.get()
        AwayReply.objects.all().delete()
    before = len(_away_messages(tenant_a))

    def send(at: datetime) -> int:
        with workspace_context(tenant_a.workspace.pk):
            return actions.send_away_replies(
                workspace_id=tenant_a.workspace.pk, conversation_ids=[conversation.pk], at=at
            )

    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert send(saturday) == 1
    assert send(saturday + timedelta(hours=5)) == 0  # same weekend window
    assert send(datetime(2026, 12, 7, 10, 0, tzinfo=UTC)) == 0  # Monday 10:00: open
    assert send(datetime(2026, 12, 7, 20, 0, tzinfo=UTC)) == 1  # Monday night: a new window
    assert send(datetime(2026, 12, 8, 7, 0, tzinfo=UTC)) == 0  # still Monday night's
    assert len(_away_messages(tenant_a)) == before + 2


def test_no_away_reply_when_open_or_switched_off(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _hours(tenant_a, [], away=False)
    inbound(tenant_a, channel, wa_id="15550009000")
    assert queued("routing.away_reply") == 0
    _hours(tenant_a, [(d, time(0), time(23, 59, 59, 999999)) for d in range(7)])
    inbound(tenant_a, channel, wa_id="15550009000", body="again")
    assert queued("routing.away_reply") == 0
