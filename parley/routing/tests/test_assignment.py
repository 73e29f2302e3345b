"""Automatic assignment of new conversations, through the real inbound path:
round robin over available agents, least busy, team restriction, and the
inbox's team action."""

from __future__ import annotations

import pytest

from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation
from parley.routing import actions
from parley.routing.assignment import pick_agent
from parley.routing.models import ChannelRouting
from parley.routing.tests.helpers import inbound, queued, run_jobs
from parley.tenancy.actor import Actor
from parley.whatsapp.models import Channel
from tests.factories import Tenant, actor_for, make_channel

pytestmark = pytest.mark.django_db


def _owner(tenant: Tenant) -> Actor:
    return actor_for(tenant.workspace, tenant.owner)


def _available(tenant: Tenant, *users_and_flags: tuple[int, bool]) -> None:
    with workspace_context(tenant.workspace.pk):
        for user_id, flag in users_and_flags:
            actions.do_set_availability(actor=_owner(tenant), user_id=user_id, available=flag)


def _mode(tenant: Tenant, channel: Channel, mode: str, team_id: int | None = None) -> None:
    with workspace_context(tenant.workspace.pk):
        actions.do_set_channel_routing(
            actor=_owner(tenant), channel=channel, mode=mode, team_id=team_id
        )


def _assignees(tenant: Tenant) -> list[int | None]:
    with workspace_context(tenant.workspace.pk):
        return list(Conversation.objects.order_by("id").values_list("assignee_id", flat=True))


def test_round_robin_takes_available_agents_in_turn_and_skips_away_ones(
    tenant_a: Tenant,
) -> None:
    channel = make_channel(tenant_a)
    _mode(tenant_a, channel, ChannelRouting.Mode.ROUND_ROBIN)
    owner, admin, agent, viewer = (
        tenant_a.owner.pk,
        tenant_a.admin.pk,
        tenant_a.agent.pk,
        tenant_a.viewer.pk,
    )
    _available(tenant_a, (owner, True), (admin, False), (agent, True))
    for n in range(4):
        inbound(tenant_a, channel, wa_id=f"1555000100{n}", body="hi")
        assert run_jobs("routing.assign_new") == 1
    turn = sorted([owner, agent])
    assert _assignees(tenant_a) == [turn[0], turn[1], turn[0], turn[1]]
    assert admin not in _assignees(tenant_a) and viewer not in _assignees(tenant_a)

    # A second message on an assigned conversation changes nothing (idempotent).
    inbound(tenant_a, channel, wa_id="15550001000", body="again")
    run_jobs("routing.assign_new")
    assert _assignees(tenant_a) == [turn[0], turn[1], turn[0], turn[1]]


def test_nothing_is_queued_without_a_mode(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _available(tenant_a, (tenant_a.owner.pk, True))
    inbound(tenant_a, channel, wa_id="15550002000")
    assert queued("routing.") == 0
    assert _assignees(tenant_a) == [None]


def test_nobody_available_leaves_the_conversation_unassigned(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _mode(tenant_a, channel, ChannelRouting.Mode.ROUND_ROBIN)
    inbound(tenant_a, channel, wa_id="15550003000")
    run_jobs("routing.assign_new")
    assert _assignees(tenant_a) == [None]


def test_least_busy_picks_the_fewest_open_conversations(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    owner, admin, agent = tenant_a.owner.pk, tenant_a.admin.pk, tenant_a.agent.pk
    _available(tenant_a, (owner, True), (admin, True), (agent, True))
    # Existing load: owner 2 open, admin 1 open (+1 resolved, which does not count), agent 0.
    for n, (user, status) in enumerate(
        [(owner, "open"), (owner, "open"), (admin, "open"), (admin, "resolved")]
    ):
        inbound(tenant_a, channel, wa_id=f"1555000400{n}")
        with workspace_context(tenant_a.workspace.pk):
            Conversation.objects.filter(contact__wa_id=f"1555000400{n}").update(
                assignee_id=user, status=status
            )
    _mode(tenant_a, channel, ChannelRouting.Mode.LEAST_BUSY)
    inbound(tenant_a, channel, wa_id="15550004100")
    run_jobs("routing.assign_new")
    assert _assignees(tenant_a)[-1] == agent
    # Now admin and agent have one each: the tie goes round, past the last pick.
    inbound(tenant_a, channel, wa_id="15550004101")
    run_jobs("routing.assign_new")
    assert _assignees(tenant_a)[-1] == admin


def test_team_restriction(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _available(
        tenant_a, (tenant_a.owner.pk, True), (tenant_a.admin.pk, True), (tenant_a.agent.pk, True)
    )
    with workspace_context(tenant_a.workspace.pk):
        team = actions.do_create_team(
            actor=_owner(tenant_a), name="Billing", member_ids=[tenant_a.agent.pk]
        )
    _mode(tenant_a, channel, ChannelRouting.Mode.ROUND_ROBIN, team.pk)
    for n in range(3):
        inbound(tenant_a, channel, wa_id=f"1555000500{n}")
    run_jobs("routing.assign_new")
    assert _assignees(tenant_a) == [tenant_a.agent.pk] * 3
    with workspace_context(tenant_a.workspace.pk):
        assert set(Conversation.objects.values_list("team_id", flat=True)) == {team.pk}


def test_assign_team_picks_an_agent_of_the_team(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _available(tenant_a, (tenant_a.owner.pk, True), (tenant_a.admin.pk, True))
    inbound(tenant_a, channel, wa_id="15550006000")
    with workspace_context(tenant_a.workspace.pk):
        team = actions.do_create_team(
            actor=_owner(tenant_a), name="Sales", member_ids=[tenant_a.admin.pk, tenant_a.agent.pk]
        )
        conversation = Conversation.objects.get()
        actions.do_assign_team(
            actor=actor_for(tenant_a.workspace, tenant_a.agent),
            conversation=conversation,
            team_id=team.pk,
        )
        conversation.refresh_from_db()
        # The agent is in the team but away: only the admin is available.
        assert (conversation.team_id, conversation.assignee_id) == (team.pk, tenant_a.admin.pk)
        assert (
            pick_agent(workspace_id=tenant_a.workspace.pk, channel_id=channel.pk, team_id=team.pk)
            == tenant_a.admin.pk
        )
        from parley.core.errors import ActionError

        with pytest.raises(ActionError):
            actions.do_assign_team(
                actor=_owner(tenant_a), conversation=conversation, team_id=team.pk + 999
            )
