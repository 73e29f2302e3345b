"""The Cloud API client: one pooled HTTP client per process, Meta's errors
turned into CloudApiError. The Graph base URL is a setting (the simulator in
tests and demo, Meta in production)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from parley.whatsapp.errors import CloudApiError

_client: httpx.Client | None = None
_lock = threading.Lock()


def client() -> httpx.Client:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = httpx.Client(
                    timeout=httpx.Timeout(settings.WHATSAPP_TIMEOUT_SECONDS, connect=5.0),
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
                )
    return _client


@dataclass(frozen=True)
class Credentials:
    phone_number_id: str
    waba_id: str
    access_token: str


def _url(path: str) -> str:
    return f"{settings.WHATSAPP_GRAPH_URL.rstrip('/')}/{settings.WHATSAPP_GRAPH_VERSION}/{path}"


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    raise error_from(response.status_code, response.reason_phrase, body)


def error_from(status: int, reason_phrase: str, body: Any) -> CloudApiError:
    """Meta's error answer (any HTTP client's) as a CloudApiError."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    if not isinstance(error, dict):
        error = {}
    details = (error.get("error_data") or {}).get("details")
    return CloudApiError(
        message=str(details or error.get("message") or reason_phrase),
        code=error.get("code") if isinstance(error.get("code"), int) else None,
        http_status=status,
    )


def message_body(payload: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}


def wamid_of(data: Any) -> str:
    try:
        return str(data["messages"][0]["id"])
    except (KeyError, IndexError, TypeError) as exc:
        raise CloudApiError(message=f"unexpected answer from the Graph API: {data!r:.200}") from exc


def url(path: str) -> str:
    return _url(path)


def request(method: str, creds: Credentials, path: str, **kwargs: Any) -> Any:
    """One Graph call. Raises CloudApiError; ``ambiguous`` when the request
    may have reached Meta without an answer."""
    headers = {"Authorization": f"Bearer {creds.access_token}"}
    try:
        response = client().request(method, _url(path), headers=headers, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise CloudApiError(message=f"cannot reach the Graph API: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise CloudApiError(message="the Graph API did not answer in time", ambiguous=True) from exc
    except httpx.HTTPError as exc:
        raise CloudApiError(
            message=f"HTTP error talking to the Graph API: {exc}", ambiguous=True
        ) from exc
    _raise_for(response)
    return response.json()


def send(creds: Credentials, payload: dict[str, Any]) -> str:
    """POST a message; returns its wamid."""
    data = request("POST", creds, f"{creds.phone_number_id}/messages", json=message_body(payload))
    return wamid_of(data)


def mark_read(creds: Credentials, wamid: str) -> None:
    request(
        "POST",
        creds,
        f"{creds.phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "status": "read", "message_id": wamid},
    )


def number_details(creds: Credentials) -> dict[str, Any]:
    fields = "verified_name,display_phone_number,quality_rating,throughput,messaging_limit_tier"
    data = request("GET", creds, creds.phone_number_id, params={"fields": fields})
    return dict(data)


def media_info(creds: Credentials, media_id: str) -> dict[str, Any]:
    return dict(request("GET", creds, media_id))


def download(creds: Credentials, url: str, *, max_bytes: int) -> bytes:
    headers = {"Authorization": f"Bearer {creds.access_token}"}
    try:
        with client().stream("GET", url, headers=headers) as response:
            _raise_for(response)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise CloudApiError(message=f"media larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise CloudApiError(message=f"media download failed: {exc}") from exc
    return b"".join(chunks)


def upload_media(creds: Credentials, *, filename: str, content: bytes, mime_type: str) -> str:
    data = request(
        "POST",
        creds,
        f"{creds.phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": (filename, content, mime_type)},
    )
    return str(data["id"])


def list_templates(creds: Credentials, *, max_pages: int = 20) -> list[dict[str, Any]]:
    """Every template of the channel's business account (paged, bounded)."""
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    for _ in range(max_pages):
        data = request("GET", creds, f"{creds.waba_id}/message_templates", params=params)
        out += [t for t in data.get("data") or [] if isinstance(t, dict)]
        after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
        if not after or not (data.get("paging") or {}).get("next"):
            break
        params = {"limit": 100, "after": after}
    return out
