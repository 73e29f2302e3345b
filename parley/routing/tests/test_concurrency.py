"""Two workers picking on the same channel at the same moment: the row lock
on the channel's round-robin cursor makes the second wait for the first and
take the next agent, never the same one."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from parley.core.tenant import workspace_context
from parley.routing import actions
from parley.routing.assignment import pick_agent
from parley.routing.models import ChannelRouting
from tests.factories import actor_for, make_channel, make_tenant


@pytest.mark.django_db(transaction=True)
def test_concurrent_round_robin_picks_differ() -> None:
    tenant = make_tenant("Lockco")
    channel = make_channel(tenant)
    owner = actor_for(tenant.workspace, tenant.owner)
    with workspace_context(tenant.workspace.pk):
        for user in (tenant.owner, tenant.agent):
            actions.do_set_availability(actor=owner, user_id=user.pk, available=True)
        actions.do_set_channel_routing(
            actor=owner, channel=channel, mode=ChannelRouting.Mode.ROUND_ROBIN, team_id=None
        )
    picks: list[int | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            with workspace_context(tenant.workspace.pk):
                picks.append(
                    pick_agent(
                        workspace_id=tenant.workspace.pk, channel_id=channel.pk, team_id=None
                    )
                )
                # Hold the transaction open: the other worker must wait, not read
                # the cursor as it was before this pick.
                time.sleep(0.3)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors, errors
    assert sorted(p for p in picks if p is not None) == sorted([tenant.owner.pk, tenant.agent.pk])
