"""Probes and structured request logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from parley.core.logs import formatter_factory

pytestmark = pytest.mark.django_db


def test_healthz_is_alive(client: Client) -> None:
    assert client.get("/healthz").json() == {"alive": True}


def test_readyz_reports_each_check(client: Client) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_workers")
    down = client.get("/readyz")
    assert down.status_code == 503
    body = down.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert body["checks"]["worker"] == {"ok": False, "detail": "no worker has reported"}
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (NOW())")
    up = client.get("/readyz")
    assert up.status_code == 200 and up.json()["ready"] is True


def test_logs_carry_request_id_and_workspace(client: Client, caplog: Any) -> None:
    response = client.get("/api/v1/me", HTTP_X_REQUEST_ID="req-abc-123")
    assert response["X-Request-ID"] == "req-abc-123"
    record = next(r for r in caplog.records if r.name == "django.request")
    line = formatter_factory("json").format(record)
    assert json.loads(line)["request_id"] == "req-abc-123"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="x" * 500 + "\n")
    assert len(hostile["X-Request-ID"]) == 32  # replaced, not echoed


def test_logs_inside_a_workspace_name_it(tenant_a: Any, caplog: Any) -> None:
    from tests.factories import make_token

    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("workspace:read",))
    Client().get("/api/v1/members", HTTP_AUTHORIZATION=f"Bearer {raw}")  # 403: logged
    record = next(r for r in caplog.records if r.name == "django.request")
    assert (
        json.loads(formatter_factory("json").format(record))["workspace_id"]
        == tenant_a.workspace.pk
    )


def test_operator_console_is_hidden_from_non_operators(client: Client) -> None:
    assert client.get("/ops/").status_code == 404
    logging.getLogger(__name__).debug("done")
