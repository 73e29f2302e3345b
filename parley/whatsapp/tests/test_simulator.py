"""The WhatsApp Cloud API simulator, exercised over real HTTP on loopback.

No database: the simulator and a small webhook receiver run in background threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from parley.whatsapp.simulator import (
    BackgroundServer,
    Simulator,
    SimulatorConfig,
    SimulatorControlError,
    SimulatorHandle,
    running_simulator,
)
from parley.whatsapp.simulator.__main__ import main as simulator_main
from parley.whatsapp.simulator.app import MessagesFastPath

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "whatsapp-webhooks"
VERSION = "v21.0"


# -- a webhook receiver standing in for Parley ----------------------------------------------


@dataclass
class Hook:
    name: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]
    signature_ok: bool


class Receiver:
    """Records every webhook, checks its signature with the number's app secret, and can be
    told to fail the next N posts to a path."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self.secrets: dict[str, str] = {}
        self.fail_next: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self._cond = threading.Condition()
        app = Starlette(routes=[Route("/hook/{name}", self._handle, methods=["POST"])])
        self.server = BackgroundServer(app)

    def url(self, name: str) -> str:
        return f"{self.server.url}/hook/{name}"

    async def _handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        secret = self.secrets.get(name, "").encode()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        given = request.headers.get("x-hub-signature-256", "")
        with self._cond:
            if self.fail_next.get(name, 0) > 0:
                self.fail_next[name] -= 1
                self.failed[name] = self.failed.get(name, 0) + 1
                return PlainTextResponse("try again", status_code=500)
            hook = Hook(
                name,
                dict(request.headers),
                body,
                json.loads(body),
                hmac.compare_digest(given, expected),
            )
            self.hooks.append(hook)
            self._cond.notify_all()
        return PlainTextResponse("ok")

    def wait_for(
        self, name: str, done: Callable[[list[Hook]], bool], timeout: float = 5.0
    ) -> list[Hook]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hooks = [h for h in self.hooks if h.name == name]
                if done(hooks):
                    return hooks
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"webhooks for {name} never satisfied the wait: {hooks!r}")
                self._cond.wait(remaining)

    def statuses(self, name: str) -> list[dict[str, Any]]:
        with self._cond:
            hooks = [h for h in self.hooks if h.name == name]
        return self._statuses_of(hooks)

    def wait_statuses(
        self, name: str, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        self.wait_for(name, lambda hooks: done(self._statuses_of(hooks)), timeout)
        return self.statuses(name)

    @staticmethod
    def _statuses_of(hooks: list[Hook]) -> list[dict[str, Any]]:
        return [s for h in hooks for v in _values(h.payload) for s in v.get("statuses", [])]


def _values(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [change["value"] for entry in payload["entry"] for change in entry["changes"]]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    with rx.server:
        yield rx


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    config = SimulatorConfig(
        template_review_seconds=0.3,
        webhook_backoff_s=0.05,
        webhook_retry_window_s=5.0,
        status_batch_window_s=0.05,
    )
    with running_simulator(config) as handle:
        yield handle


@pytest.fixture(scope="module")
def graph(sim: SimulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.graph_url, timeout=10, trust_env=False) as client:
        yield client


_ids = itertools.count(1)


@dataclass
class Business:
    pnid: str
    waba: str
    token: str
    secret: str
    display: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def biz(sim: SimulatorHandle, receiver: Receiver) -> Business:
    return new_business(sim, receiver)


def new_business(sim: SimulatorHandle, receiver: Receiver, **fields: Any) -> Business:
    n = next(_ids)
    pnid = f"10650000{n:04d}"
    business = Business(
        pnid=pnid,
        waba=f"20650000{n:04d}",
        token=f"token-{n}",
        secret=f"secret-{n}",
        display=f"1555010{n:04d}",
    )
    receiver.secrets[pnid] = business.secret
    sim.control.register_number(
        pnid,
        access_token=business.token,
        app_secret=business.secret,
        webhook_url=receiver.url(pnid),
        waba_id=business.waba,
        display_phone_number=business.display,
        verified_name=f"Shop {n}",
        **{"status_delay_ms": 20, **fields},
    )
    return business


def send(graph: httpx.Client, biz: Business, body: dict[str, Any]) -> httpx.Response:
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **body}
    return graph.post(f"/{VERSION}/{biz.pnid}/messages", json=payload, headers=biz.auth)


def text(to: str, body: str = "hello") -> dict[str, Any]:
    return {"to": to, "type": "text", "text": {"preview_url": False, "body": body}}


def meta_error(response: httpx.Response) -> dict[str, Any]:
    error = response.json()["error"]
    assert {"message", "type", "code", "fbtrace_id"} <= set(error)
    return dict(error)


def _shape_problems(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Every key we send must exist in Meta's sample at the same place with the same JSON type."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: expected an object"]
        problems = [f"{path}.{k}: not in Meta's payload" for k in ours if k not in theirs]
        for key in ours.keys() & theirs.keys():
            problems += _shape_problems(ours[key], theirs[key], f"{path}.{key}")
        return problems
    if isinstance(theirs, list):
        if not isinstance(ours, list) or not ours or not theirs:
            return [] if isinstance(ours, list) else [f"{path}: expected an array"]
        return _shape_problems(ours[0], theirs[0], f"{path}[0]")
    if isinstance(theirs, bool) or isinstance(ours, bool):
        return [] if type(ours) is type(theirs) else [f"{path}: type differs"]
    if isinstance(theirs, int | float) and isinstance(ours, int | float):
        return []
    return (
        []
        if type(ours) is type(theirs)
        else [f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"]
    )


def _fixture(file: str, sample: str) -> dict[str, Any] | None:
    path = FIXTURES / file
    if not path.exists():
        return None
    return dict(json.loads(path.read_text())[sample])


# -- sending -----------------------------------------------------------------------------


def test_send_text_answers_metas_shape(
    sim: SimulatorHandle, graph: httpx.Client, biz: Business
) -> None:
    sim.control.open_window(biz.pnid, "15551230001")
    response = send(graph, biz, text("+1 555 123 0001"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"messaging_product", "contacts", "messages"}
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+1 555 123 0001", "wa_id": "15551230001"}]
    assert body["messages"][0]["id"].startswith("wamid.")


def test_bad_or_missing_token_is_oauth_190(graph: httpx.Client, biz: Business) -> None:
    path = f"/{VERSION}/{biz.pnid}/messages"
    for headers in ({"Authorization": "Bearer nope"}, {}):
        response = graph.post(
            path, json={"messaging_product": "whatsapp", **text("15551230002")}, headers=headers
        )
        assert response.status_code == 401
        error = meta_error(response)
        assert (error["code"], error["type"]) == (190, "OAuthException")


def test_messages_fast_path_answers_as_the_route_does(
    sim: SimulatorHandle, graph: httpx.Client, biz: Business
) -> None:
    """The server takes POST .../messages past Starlette (MessagesFastPath);
    the same refused requests through the plain Starlette app answer alike.
    (Only refusals go through the plain app: a send would schedule statuses
    from this test's event loop.)"""
    body = {"messaging_product": "whatsapp", **text("15551230009")}
    cases: list[tuple[str, dict[str, str], Any]] = [
        (f"/v99/{biz.pnid}/messages", biz.auth, body),  # not a version: 2635
        (f"/{VERSION}/{biz.pnid}/messages", {}, body),  # no token: 190
        (f"/{VERSION}/404404404/messages", biz.auth, body),  # unknown number: 100/33
        (f"/{VERSION}/{biz.pnid}/messages", biz.auth, {"to": "1"}),  # invalid body: 100
    ]

    async def through_starlette() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=sim.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as plain:
            return [await plain.post(p, json=b, headers=h) for p, h, b in cases]

    assert isinstance(sim.server.app, MessagesFastPath)  # what the server really serves
    slow = asyncio.run(through_starlette())
    codes = []
    for (path, headers, payload), reference in zip(cases, slow, strict=True):
        fast = graph.post(path, json=payload, headers=headers)
        assert (fast.status_code, fast.json()["error"]["code"]) == (
            reference.status_code,
            reference.json()["error"]["code"],
        ), path
        codes.append(meta_error(fast)["code"])
    assert codes == [2635, 190, 100, 100]
    # A good send takes the fast path and is a real send.
    ok = graph.post(f"/{VERSION}/{biz.pnid}/messages", json=body, headers=biz.auth)
    assert ok.status_code == 200 and ok.json()["messages"][0]["id"].startswith("wamid.")
    # Deeper paths are not the messages route: Starlette answers them.
    assert graph.post(f"/{VERSION}/{biz.pnid}/messages/x", json=body).status_code == 404


def test_another_numbers_token_cannot_use_this_number(
    sim: SimulatorHandle, receiver: Receiver, graph: httpx.Client, biz: Business
) -> None:
    other = new_business(sim, receiver)
    response = send(graph, Business(biz.pnid, biz.waba, other.token, "", ""), text("15551230003"))
    assert response.status_code == 400
    assert (meta_error(response)["code"], meta_error(response)["error_subcode"]) == (100, 33)


@pytest.mark.parametrize(
    "body",
    [
        {"type": "text", "text": {"body": "no recipient"}},
        {"to": "15551230004", "type": "carrier_pigeon", "carrier_pigeon": {}},
        {"to": "15551230004", "type": "text", "text": {"preview_url": True}},
        {"to": "15551230004", "type": "image", "image": {"caption": "neither id nor link"}},
    ],
)
def test_invalid_bodies_are_code_100(
    graph: httpx.Client, biz: Business, body: dict[str, Any]
) -> None:
    response = send(graph, biz, body)
    assert response.status_code == 400
    error = meta_error(response)
    assert error["code"] == 100
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]


def test_too_many_reply_buttons_is_131009(graph: httpx.Client, biz: Business) -> None:
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(4)]
    interactive = {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": buttons}}
    response = send(
        graph, biz, {"to": "15551230005", "type": "interactive", "interactive": interactive}
    )
    assert response.status_code == 400
    assert meta_error(response)["code"] == 131009


def test_every_message_type_is_accepted_in_the_window(
    sim: SimulatorHandle, graph: httpx.Client, biz: Business
) -> None:
    wa = "15551230006"
    sim.control.open_window(biz.pnid, wa)
    upload = graph.post(
        f"/{VERSION}/{biz.pnid}/media",
        headers=biz.auth,
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("a.png", b"\x89PNG fake", "image/png")},
    )
    media_id = upload.json()["id"]
    bodies: list[dict[str, Any]] = [
        {"type": "text", "text": {"body": "see https://example.com", "preview_url": True}},
        {"type": "image", "image": {"id": media_id, "caption": "by id"}},
        {
            "type": "document",
            "document": {"link": "https://example.com/a.pdf", "filename": "a.pdf"},
        },
        {"type": "audio", "audio": {"id": media_id}},
        {"type": "video", "video": {"link": "https://example.com/v.mp4", "caption": "clip"}},
        {"type": "sticker", "sticker": {"id": media_id}},
        {"type": "location", "location": {"latitude": 52.37, "longitude": 4.89, "name": "Dam"}},
        {
            "type": "contacts",
            "contacts": [{"name": {"formatted_name": "Ann Lee", "first_name": "Ann"}}],
        },
        {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}},
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Choose"},
                "action": {
                    "button": "Options",
                    "sections": [{"title": "S", "rows": [{"id": "r1", "title": "Row 1"}]}],
                },
            },
        },
        {"type": "text", "text": {"body": "a reply"}, "context": {"message_id": "wamid.y"}},
    ]
    ids = []
    for body in bodies:
        response = send(graph, biz, {"to": wa, **body})
        assert response.status_code == 200, (body, response.json())
        ids.append(response.json()["messages"][0]["id"])
    assert [m["id"] for m in sim.control.messages(biz.pnid, wa)] == ids


def test_throughput_cap_answers_130429_and_never_exceeds_the_cap(
    sim: SimulatorHandle, receiver: Receiver, graph: httpx.Client
) -> None:
    biz = new_business(sim, receiver, throughput_per_second=5, statuses_enabled=False)
    wa = "15551230007"
    sim.control.open_window(biz.pnid, wa)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=sim.graph_url, trust_env=False, timeout=10) as client:
            body = {"messaging_product": "whatsapp", **text(wa)}
            url = f"/{VERSION}/{biz.pnid}/messages"
            return await asyncio.gather(
                *(client.post(url, json=body, headers=biz.auth) for _ in range(20))
            )

    began = time.monotonic()
    responses = asyncio.run(burst())
    burst_seconds = time.monotonic() - began
    accepted = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code != 200]
    # Exactly the cap when the burst fits in a second, as it does unless the host stalls.
    assert 5 <= len(accepted) <= 5 * (1 + int(burst_seconds))
    assert all(r.status_code == 400 and meta_error(r)["code"] == 130429 for r in limited)

    # A sustained run: over D seconds at most cap * (D + 1) sends get through.
    time.sleep(1.05)
    sim.control.update_number(biz.pnid, throughput_per_second=20)
    started, count, ok = time.monotonic(), 0, 0
    while time.monotonic() - started < 1.5 and count < 2000:
        count += 1
        ok += send(graph, biz, text(wa)).status_code == 200
    elapsed = time.monotonic() - started
    assert 20 <= ok <= 20 * (elapsed + 1)
    assert len(sim.control.messages(biz.pnid, wa)) == len(accepted) + ok


# -- the 24-hour window and statuses -----------------------------------------------------


def test_free_form_outside_the_window_fails_by_webhook_with_131047(
    receiver: Receiver, graph: httpx.Client, biz: Business
) -> None:
    response = send(graph, biz, text("15551230008"))
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    statuses = receiver.wait_statuses(biz.pnid, lambda ss: any(s["id"] == wamid for s in ss))
    failed = next(s for s in statuses if s["id"] == wamid)
    assert failed["status"] == "failed"
    assert failed["recipient_id"] == "15551230008"
    error = failed["errors"][0]
    assert error["code"] == 131047
    assert {"code", "title", "message", "error_data", "href"} <= set(error)
    assert "conversation" not in failed
    hook = next(h for h in receiver.wait_for(biz.pnid, lambda hs: True) if h.payload)
    reference = _fixture("message_status.json", "failed")
    if reference is not None:
        assert _shape_problems(hook.payload, reference) == []


def test_inside_the_window_statuses_go_sent_delivered_read(
    sim: SimulatorHandle, receiver: Receiver, graph: httpx.Client, biz: Business
) -> None:
    wa = "15551230009"
    sim.control.inbound(biz.pnid, wa, name="Ann", text={"body": "hi"})
    wamid = send(graph, biz, text(wa)).json()["messages"][0]["id"]
    mine = receiver.wait_statuses(
        biz.pnid,
        lambda ss: {s["status"] for s in ss if s["id"] == wamid} >= {"sent", "delivered", "read"},
    )
    mine = [s for s in mine if s["id"] == wamid]
    # Separate payloads may arrive in any order, as with Meta; each status comes once.
    assert sorted(s["status"] for s in mine) == ["delivered", "read", "sent"]
    sent = next(s for s in mine if s["status"] == "sent")
    assert set(sent) == {"id", "status", "timestamp", "recipient_id", "conversation", "pricing"}
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert "expiration_timestamp" in sent["conversation"]
    assert sent["pricing"] == {"billable": True, "pricing_model": "CBP", "category": "service"}
    hook = receiver.wait_for(
        biz.pnid, lambda hs: any("statuses" in _values(h.payload)[0] for h in hs)
    )
    payload = next(h for h in hook if "statuses" in _values(h.payload)[0]).payload
    value = _values(payload)[0]
    assert value["metadata"] == {"display_phone_number": biz.display, "phone_number_id": biz.pnid}
    reference = _fixture("message_status.json", "sent")
    if reference is not None:
        assert _shape_problems(payload, reference) == []
    assert sim.control.messages(biz.pnid, wa)[0]["status"] == "read"


def test_statuses_falling_due_together_share_a_payload(
    sim: SimulatorHandle, receiver: Receiver, graph: httpx.Client
) -> None:
    biz = new_business(sim, receiver, status_delay_ms=300, send_read_status=False)
    wa = "15551230010"
    sim.control.open_window(biz.pnid, wa)
    for _ in range(6):
        assert send(graph, biz, text(wa)).status_code == 200
    hooks = receiver.wait_for(biz.pnid, lambda hs: len(Receiver._statuses_of(hs)) >= 12)
    assert len(Receiver._statuses_of(hooks)) == 12
    assert len(hooks) < 12
    assert max(len(_values(h.payload)[0]["statuses"]) for h in hooks) > 1


def test_undeliverable_recipients_fail_with_131026(
    sim: SimulatorHandle, receiver: Receiver, graph: httpx.Client, biz: Business
) -> None:
    sim.control.set_undeliverable("15551230011")
    bad = [
        send(graph, biz, text(to)).json()["messages"][0]["id"] for to in ("15551230011", "12345")
    ]
    statuses = receiver.wait_statuses(biz.pnid, lambda ss: {s["id"] for s in ss} >= set(bad))
    assert {s["errors"][0]["code"] for s in statuses if s["id"] in bad} == {131026}


def test_mark_as_read(sim: SimulatorHandle, graph: httpx.Client, biz: Business) -> None:
    wamid = sim.control.inbound(biz.pnid, "15551230012", text="hi")["wamids"][0]
    response = send(graph, biz, {"status": "read", "message_id": wamid})
    assert response.status_code == 200
    assert response.json() == {"success": True}
    inbound = sim.control.messages(biz.pnid, "15551230012", direction="inbound")
    assert inbound[0]["status"] == "read"


# -- templates ---------------------------------------------------------------------------


def template_send(to: str, name: str, params: list[str], language: str = "en_US") -> dict[str, Any]:
    components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
    return {
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }


def test_unknown_template_is_132001_and_param_mismatch_is_132000(
    sim: SimulatorHandle, graph: httpx.Client, biz: Business
) -> None:
    response = send(graph, biz, template_send("15551230013", "no_such_template", []))
    assert response.status_code == 400
    error = meta_error(response)
    assert error["code"] == 132001
    assert error["message"] == "(#132001) Template name does not exist in the translation"

    sim.control.seed_template(biz.waba, "order_ready", body="Hi {{1}}, order {{2}} is ready.")
    response = send(graph, biz, template_send("15551230013", "order_ready", ["Ann"]))
    assert response.status_code == 400
    assert meta_error(response)["code"] == 132000
    response = send(graph, biz, template_send("15551230013", "order_ready", ["Ann"], language="fr"))
    assert meta_error(response)["code"] == 132001
    assert sim.control.messages(biz.pnid, "15551230013") == []


def test_template_outside_the_window_is_delivered(
    sim: SimulatorHandle, receiver: Receiver, graph: httpx.Client, biz: Business
) -> None:
    sim.control.seed_template(
        biz.waba, "order_ready", body="Hi {{1}}, order {{2}} is ready.", category="UTILITY"
    )
    response = send(graph, biz, template_send("15551230014", "order_ready", ["Ann", "42"]))
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    statuses = receiver.wait_statuses(
        biz.pnid, lambda ss: any(s["id"] == wamid and s["status"] == "delivered" for s in ss)
    )
    delivered = next(s for s in statuses if s["id"] == wamid and s["status"] == "delivered")
    assert delivered["pricing"]["category"] == "utility"
    assert sim.control.messages(biz.pnid, "15551230014")[0]["text"] == "Hi Ann, order 42 is ready."


def test_template_create_is_reviewed_and_announced_by_webhook(
    receiver: Receiver, graph: httpx.Client, biz: Business
) -> None:
    url = f"/{VERSION}/{biz.waba}/message_templates"
    good = {
        "name": "shipping_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Your parcel {{1}} ships today.",
                "example": {"body_text": [["A1"]]},
            },
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]},
        ],
    }
    created = graph.post(url, json=good, headers=biz.auth).json()
    assert created == {"id": created["id"], "status": "PENDING", "category": "UTILITY"}
    bad = dict(good, name="Bad Name!")
    rejected_id = graph.post(url, json=bad, headers=biz.auth).json()["id"]

    def events(hooks: list[Hook]) -> dict[int, dict[str, Any]]:
        values = [v for h in hooks for v in _values(h.payload) if "event" in v]
        return {v["message_template_id"]: v for v in values}

    hooks = receiver.wait_for(biz.pnid, lambda hs: len(events(hs)) >= 2)
    approved = events(hooks)[int(created["id"])]
    assert approved == {
        "event": "APPROVED",
        "message_template_id": int(created["id"]),
        "message_template_name": "shipping_update",
        "message_template_language": "en_US",
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }
    assert events(hooks)[int(rejected_id)]["event"] == "REJECTED"
    hook = next(h for h in hooks if "event" in _values(h.payload)[0])
    assert hook.payload["entry"][0]["id"] == biz.waba
    assert hook.payload["entry"][0]["changes"][0]["field"] == "message_template_status_update"

    listed = graph.get(url, headers=biz.auth, params={"limit": 1}).json()
    assert listed["data"][0]["name"] == "shipping_update"
    assert listed["data"][0]["status"] == "APPROVED"
    assert "next" in listed["paging"]
    second = graph.get(
        url, headers=biz.auth, params={"limit": 1, "after": listed["paging"]["cursors"]["after"]}
    )
    assert second.json()["data"][0]["status"] == "REJECTED"
    assert graph.delete(url, params={"name": "shipping_update"}, headers=biz.auth).json() == {
        "success": True
    }


# -- media -------------------------------------------------------------------------------


def test_media_upload_lookup_download_delete(graph: httpx.Client, biz: Business) -> None:
    data = b"%PDF-1.4 simulated invoice"
    upload = graph.post(
        f"/{VERSION}/{biz.pnid}/media",
        headers=biz.auth,
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("invoice.pdf", data, "application/pdf")},
    )
    assert upload.status_code == 200
    media_id = upload.json()["id"]
    info = graph.get(f"/{VERSION}/{media_id}", headers=biz.auth).json()
    assert set(info) == {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert int(info["file_size"]) == len(data)
    assert info["mime_type"] == "application/pdf"
    assert graph.get(info["url"]).status_code == 401
    downloaded = graph.get(info["url"], headers=biz.auth)
    assert downloaded.status_code == 200
    assert downloaded.content == data
    assert graph.delete(f"/{VERSION}/{media_id}", headers=biz.auth).json() == {"success": True}
    assert meta_error(graph.get(f"/{VERSION}/{media_id}", headers=biz.auth))["code"] == 100


# -- customers' phones: inbound webhooks -----------------------------------------------------


CONTACT_CARD = {
    "name": {"first_name": "Chandler", "last_name": "Bing", "formatted_name": "Chandler Bing"},
    "phones": [{"phone": "+1 555-555-5555", "wa_id": "15555555555", "type": "CELL"}],
}
ORDER = {
    "catalog_id": "354160437058781",
    "text": "",
    "product_items": [
        {"product_retailer_id": "SODA", "quantity": 2, "item_price": 10, "currency": "ILS"}
    ],
}
BUTTON_REPLY = {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}
LOCATION = {"latitude": 37.46, "longitude": -122.21, "name": "HQ", "address": "1 Way"}


@pytest.mark.parametrize(
    ("kind", "content", "sample"),
    [
        ("text", {"text": {"body": "Where is my order? https://x.example/o/1"}}, "text"),
        ("image", {"image": {"mime_type": "image/jpeg"}}, "media_with_url"),
        ("location", {"location": LOCATION}, "chosen_location"),
        ("interactive", {"interactive": BUTTON_REPLY}, "callback_button.json:button"),
        ("reaction", {"reaction": {"message_id": "wamid.abc", "emoji": "😮"}}, "reaction"),
        ("document", {"document": {"caption": "c", "filename": "f.pdf"}}, "document"),
        ("audio", {"audio": {"voice": True}}, "voice"),
        ("video", {"video": {"caption": "clip"}}, "video"),
        ("sticker", {"sticker": {"animated": True}}, "animated_sticker"),
        ("contacts", {"contacts": [CONTACT_CARD]}, "contacts"),
        ("order", {"order": ORDER}, "order"),
        ("unsupported", {"unsupported": {"type": "pool"}}, "unsupported_with_type"),
    ],
)
def test_inbound_payloads_have_metas_shape_and_a_valid_signature(
    sim: SimulatorHandle,
    receiver: Receiver,
    biz: Business,
    kind: str,
    content: dict[str, Any],
    sample: str,
) -> None:
    wa = "972987654321"
    result = sim.control.inbound(biz.pnid, wa, type=kind, name="Test Name", **content)
    wamid = result["wamids"][0]
    hook = receiver.wait_for(biz.pnid, lambda hs: len(hs) >= 1)[0]
    assert hook.signature_ok
    assert hook.headers["content-type"] == "application/json"
    assert hook.payload == result["payload"]
    value = _values(hook.payload)[0]
    assert hook.payload["object"] == "whatsapp_business_account"
    assert hook.payload["entry"][0]["id"] == biz.waba
    assert hook.payload["entry"][0]["changes"][0]["field"] == "messages"
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": biz.display, "phone_number_id": biz.pnid}
    assert value["contacts"] == [{"profile": {"name": "Test Name"}, "wa_id": wa}]
    message = value["messages"][0]
    assert (message["from"], message["id"], message["type"]) == (wa, wamid, kind)
    assert message["timestamp"].isdigit()
    file, _, name = sample.rpartition(":")
    reference = _fixture(file or "message.json", name)
    if reference is not None:
        # Meta's newer payloads carry a download `url` in every media object; the captured
        # samples have it only in media_with_url.
        media = message.get(kind)
        if isinstance(media, dict) and "url" in media and kind != "image":
            media = dict(media)
            del media["url"]
            message = dict(message, **{kind: media})
            hook.payload["entry"][0]["changes"][0]["value"]["messages"][0] = message
        assert _shape_problems(hook.payload, reference) == []


def test_inbound_image_can_be_downloaded_by_the_business(
    sim: SimulatorHandle, receiver: Receiver, graph: httpx.Client, biz: Business
) -> None:
    result = sim.control.inbound(biz.pnid, "15551230015", type="image", image={"caption": "photo"})
    image = result["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    info = graph.get(f"/{VERSION}/{image['id']}", headers=biz.auth).json()
    data = graph.get(info["url"], headers=biz.auth).content
    assert data.startswith(b"\x89PNG")
    assert info["sha256"] == hashlib.sha256(data).hexdigest()


def test_inbound_opens_the_window_and_replies_carry_context(
    sim: SimulatorHandle, biz: Business
) -> None:
    result = sim.control.inbound(
        biz.pnid,
        "15551230016",
        type="button",
        button={"payload": "CONFIRM", "text": "Confirm"},
        context={"id": "wamid.template1"},
    )
    message = result["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["context"] == {"from": biz.display, "id": "wamid.template1"}
    assert message["button"] == {"payload": "CONFIRM", "text": "Confirm"}
    customers = sim.control.customers(biz.pnid)
    assert customers[0]["wa_id"] == "15551230016" and customers[0]["window_open"]


def test_deliveries_three_posts_the_identical_body_three_times(
    sim: SimulatorHandle, receiver: Receiver, biz: Business
) -> None:
    result = sim.control.inbound(
        biz.pnid, "15551230017", text={"body": "once, thrice"}, deliveries=3
    )
    hooks = receiver.wait_for(biz.pnid, lambda hs: len(hs) >= 3)
    time.sleep(0.1)
    hooks = receiver.wait_for(biz.pnid, lambda hs: True)
    assert len(hooks) == 3
    assert len({h.body for h in hooks}) == 1
    assert all(h.signature_ok for h in hooks)
    assert _values(hooks[0].payload)[0]["messages"][0]["id"] == result["wamids"][0]


def test_batch_form_puts_several_messages_in_one_payload(
    sim: SimulatorHandle, receiver: Receiver, biz: Business
) -> None:
    result = sim.control.inbound_batch(
        biz.pnid,
        [
            {"from": "15551230018", "name": "Ann", "type": "text", "text": "one"},
            {
                "from": "15551230019",
                "name": "Bob",
                "type": "location",
                "location": {"latitude": 1, "longitude": 2},
            },
            {"from": "15551230018", "name": "Ann", "type": "text", "text": "two"},
        ],
        wait=True,
    )
    assert [r["state"] for r in result["delivery_results"]] == ["delivered"]
    value = _values(receiver.wait_for(biz.pnid, lambda hs: len(hs) == 1)[0].payload)[0]
    assert [c["wa_id"] for c in value["contacts"]] == ["15551230018", "15551230019"]
    assert [m["id"] for m in value["messages"]] == result["wamids"]


def test_webhook_delivery_is_retried_after_errors(
    sim: SimulatorHandle, receiver: Receiver, biz: Business
) -> None:
    receiver.fail_next[biz.pnid] = 2
    sim.control.inbound(biz.pnid, "15551230020", text="retry me")
    receiver.wait_for(biz.pnid, lambda hs: len(hs) == 1)
    assert receiver.failed[biz.pnid] == 2
    assert sim.control.wait_idle(timeout=5)
    log = [
        e for e in sim.control.webhook_log(kind="messages") if e["url"] == receiver.url(biz.pnid)
    ]
    assert log[-1]["attempts"] == 3
    assert log[-1]["state"] == "delivered"


# -- faults and the log of what phones received ------------------------------------------------


def test_injected_faults_fail_n_calls_then_recover(
    sim: SimulatorHandle, graph: httpx.Client, biz: Business
) -> None:
    wa = "15551230021"
    sim.control.open_window(biz.pnid, wa)
    try:
        sim.control.set_faults(http_status=503, count=2)
        first, second, third = (send(graph, biz, text(wa)) for _ in range(3))
        assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
        assert meta_error(first)["code"] == 131016

        sim.control.set_faults(http_status=429, count=1, code=80007)
        limited = send(graph, biz, text(wa))
        assert limited.status_code == 429
        assert meta_error(limited)["code"] == 80007

        sim.control.set_faults(http_status=500, count=1)
        assert meta_error(send(graph, biz, text(wa)))["code"] == 131000

        sim.control.set_faults(latency_ms=60)
        started = time.monotonic()
        assert send(graph, biz, text(wa)).status_code == 200
        assert time.monotonic() - started >= 0.06
    finally:
        sim.control.clear_faults()
    assert len(sim.control.messages(biz.pnid, wa)) == 2


def test_message_log_records_exactly_what_was_accepted(
    sim: SimulatorHandle, graph: httpx.Client, biz: Business
) -> None:
    wa = "15551230022"
    sim.control.open_window(biz.pnid, wa)
    accepted = [send(graph, biz, text(wa, f"m{i}")).json()["messages"][0]["id"] for i in range(5)]
    assert send(graph, biz, {"to": wa, "type": "text", "text": {}}).status_code == 400
    assert send(graph, biz, template_send(wa, "missing_template", [])).status_code == 400
    log = sim.control.messages(biz.pnid, to=wa)
    assert [m["id"] for m in log] == accepted
    assert [m["text"] for m in log] == [f"m{i}" for i in range(5)]
    sim.control.clear_messages(biz.pnid)
    assert sim.control.messages(biz.pnid, to=wa) == []


# -- numbers, control API, process guards -------------------------------------------------------


def test_number_details_use_metas_field_names(graph: httpx.Client, biz: Business) -> None:
    details = graph.get(f"/{VERSION}/{biz.pnid}", headers=biz.auth).json()
    assert details["id"] == biz.pnid
    assert details["display_phone_number"] == biz.display
    assert details["quality_rating"] == "GREEN"
    assert details["throughput"] == {"level": "STANDARD"}
    picked = graph.get(
        f"/{VERSION}/{biz.pnid}", params={"fields": "messaging_limit_tier"}, headers=biz.auth
    )
    assert picked.json() == {"messaging_limit_tier": "TIER_1K", "id": biz.pnid}


def credentials(tag: str) -> dict[str, str]:
    return {"access_token": f"token-{tag}", "app_secret": f"secret-{tag}"}


def test_control_api_refuses_non_loopback_webhooks(sim: SimulatorHandle) -> None:
    for url in ("http://10.0.0.5/hook", "https://example.com/hook", "ftp://127.0.0.1/x"):
        with pytest.raises(SimulatorControlError) as info:
            sim.control.register_number("1999", webhook_url=url, **credentials("a"))
        assert info.value.status == 400
    first = sim.control.register_number("1999", webhook_url="http://[::1]:9/h", **credentials("a"))
    again = sim.control.register_number(
        "1999", webhook_url="http://localhost:9/h", **credentials("b")
    )
    assert (first["access_token"], again["access_token"]) == ("token-a", "token-b")
    assert sum(n["phone_number_id"] == "1999" for n in sim.control.numbers()) == 1


def test_refuses_to_listen_off_loopback() -> None:
    assert simulator_main(["--host", "0.0.0.0", "--port", "8900"]) == 2  # noqa: S104
    with pytest.raises(ValueError, match="non-loopback"):
        BackgroundServer(Starlette(), host="192.0.2.1")


def test_demo_page_is_served(graph: httpx.Client) -> None:
    page = graph.get("/")
    assert page.status_code == 200
    assert "WhatsApp simulator" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN, no network


def test_state_file_keeps_numbers_and_templates(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    first = Simulator(SimulatorConfig(state_file=state))
    first.upsert_number(
        {
            "phone_number_id": "4242",
            "access_token": "t",
            "app_secret": "s",
            "webhook_url": "http://127.0.0.1:1/hook",
            "throughput_per_second": 250,
        }
    )
    first.seed_template({"waba_id": "4242", "name": "hello", "language": "en", "body": "Hello!"})
    second = Simulator(SimulatorConfig(state_file=state))
    assert second.numbers["4242"].throughput_per_second == 250
    assert second.templates[("4242", "hello", "en")].status == "APPROVED"
