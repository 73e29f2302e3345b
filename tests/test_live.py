"""Live updates: a change committed anywhere reaches the browsers' event
streams (PostgreSQL NOTIFY → the process's LISTEN → Server-Sent Events),
served by the real ASGI application on loopback."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from parley.core.tenant import workspace_context
from parley.inbox.actions import do_assign
from parley.inbox.models import Conversation
from parley.whatsapp.simulator.server import BackgroundServer
from tests.factories import Tenant, actor_for, make_tenant, seed_inbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _session_cookie(tenant: Tenant) -> dict[str, str]:
    client = Client()
    client.force_login(tenant.agent, backend="django.contrib.auth.backends.ModelBackend")
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def _listen(
    url: str, cookies: dict[str, str], events: queue.Queue[dict[str, Any]], stop: threading.Event
) -> None:
    with (
        httpx.Client(cookies=cookies, timeout=httpx.Timeout(10.0, read=20.0)) as client,
        client.stream("GET", url) as response,
    ):
        events.put({"status": response.status_code})
        name = ""
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.put({"event": name, "data": json.loads(line[6:]), "at": time.perf_counter()})


def test_a_change_reaches_open_browsers_within_a_second(asgi_server: BackgroundServer) -> None:
    tenant = make_tenant("Alpha")
    seeded = seed_inbox(tenant)
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    stop = threading.Event()
    url = f"{asgi_server.url}/w/{tenant.workspace.slug}/inbox/events"
    thread = threading.Thread(
        target=_listen, args=(url, _session_cookie(tenant), events, stop), daemon=True
    )
    thread.start()
    try:
        assert events.get(timeout=10) == {"status": 200}
        assert events.get(timeout=10)["event"] == "ready"
        with workspace_context(tenant.workspace.pk):
            conversation = Conversation.objects.get(pk=int(seeded["conversation_id"]))
            committed = time.perf_counter()
            do_assign(
                actor=actor_for(tenant.workspace, tenant.owner),
                conversation=conversation,
                user_id=tenant.agent.pk,
            )
        event = events.get(timeout=5)
        assert event["event"] == "conversation"
        assert event["data"]["id"] == conversation.pk
        assert event["at"] - committed < 1.0
    finally:
        stop.set()


def test_the_stream_is_closed_to_outsiders(asgi_server: BackgroundServer) -> None:
    tenant, outsider = make_tenant("Alpha"), make_tenant("Bravo")
    url = f"{asgi_server.url}/w/{tenant.workspace.slug}/inbox/events"
    response = httpx.get(url, cookies=_session_cookie(outsider), timeout=10)
    assert response.status_code == 404
    assert httpx.get(url, timeout=10).status_code == 404
