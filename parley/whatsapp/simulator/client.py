"""A small synchronous client for the control API, for tests, benchmarks and scripts."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import httpx


class SimulatorControlError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"simulator control API answered {status}: {body}")
        self.status = status
        self.body = body


class SimulatorClient:
    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SimulatorClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        body = response.json() if response.content else None
        if response.status_code >= 400:
            raise SimulatorControlError(response.status_code, body)
        return body

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/_sim/health"))

    # numbers ------------------------------------------------------------------------

    def register_number(
        self,
        phone_number_id: str,
        *,
        access_token: str,
        app_secret: str,
        webhook_url: str,
        **fields: Any,
    ) -> dict[str, Any]:
        body = {
            "phone_number_id": phone_number_id,
            "access_token": access_token,
            "app_secret": app_secret,
            "webhook_url": webhook_url,
            **fields,
        }
        return dict(self._call("POST", "/_sim/numbers", json=body)["number"])

    def update_number(self, phone_number_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/_sim/numbers/{phone_number_id}", json=fields)["number"])

    def numbers(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_sim/numbers")["numbers"])

    def delete_number(self, phone_number_id: str) -> None:
        self._call("DELETE", f"/_sim/numbers/{phone_number_id}")

    # customers ----------------------------------------------------------------------

    def inbound(
        self,
        phone_number_id: str,
        from_wa_id: str,
        *,
        type: str = "text",  # mirrors Meta's field name
        name: str = "",
        deliveries: int = 1,
        wait: bool = False,
        **content: Any,
    ) -> dict[str, Any]:
        """The customer `from_wa_id` sends a message; e.g. inbound(pnid, wa, text="hi")."""
        body = {
            "phone_number_id": phone_number_id,
            "from": from_wa_id,
            "name": name,
            "type": type,
            "deliveries": deliveries,
            "wait": wait,
            **content,
        }
        return dict(self._call("POST", "/_sim/inbound", json=body))

    def inbound_batch(
        self,
        phone_number_id: str,
        messages: list[dict[str, Any]],
        *,
        deliveries: int = 1,
        wait: bool = False,
    ) -> dict[str, Any]:
        body = {
            "phone_number_id": phone_number_id,
            "messages": messages,
            "deliveries": deliveries,
            "wait": wait,
        }
        return dict(self._call("POST", "/_sim/inbound", json=body))

    def open_window(
        self, phone_number_id: str, wa_id: str, last_inbound_at: float | None = None
    ) -> None:
        body: dict[str, Any] = {"phone_number_id": phone_number_id, "wa_id": wa_id, "open": True}
        if last_inbound_at is not None:
            body["last_inbound_at"] = last_inbound_at
        self._call("POST", "/_sim/windows", json=body)

    def close_window(self, phone_number_id: str, wa_id: str) -> None:
        self._call(
            "POST",
            "/_sim/windows",
            json={"phone_number_id": phone_number_id, "wa_id": wa_id, "open": False},
        )

    def set_undeliverable(self, *wa_ids: str, undeliverable: bool = True) -> None:
        self._call(
            "POST",
            "/_sim/undeliverable",
            json={"wa_ids": list(wa_ids), "undeliverable": undeliverable},
        )

    # what the phones received -------------------------------------------------------------

    def messages(
        self,
        phone_number_id: str | None = None,
        to: str | None = None,
        *,
        direction: str = "outbound",
        after: int = 0,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"direction": direction, "after": after}
        if phone_number_id:
            params["phone_number_id"] = phone_number_id
        if to:
            params["to"] = to
        return list(self._call("GET", "/_sim/messages", params=params)["messages"])

    def clear_messages(self, phone_number_id: str | None = None) -> None:
        params = {"phone_number_id": phone_number_id} if phone_number_id else None
        self._call("DELETE", "/_sim/messages", params=params)

    def customers(self, phone_number_id: str) -> list[dict[str, Any]]:
        return list(
            self._call("GET", "/_sim/customers", params={"phone_number_id": phone_number_id})[
                "customers"
            ]
        )

    # faults, settings, templates, webhooks ---------------------------------------------

    def set_faults(self, **fields: Any) -> dict[str, Any]:
        """e.g. set_faults(http_status=503, count=2) or set_faults(latency_ms=20)."""
        return dict(self._call("POST", "/_sim/faults", json=fields))

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sim/faults")

    def settings(self, **values: Any) -> dict[str, Any]:
        if values:
            return dict(self._call("POST", "/_sim/settings", json=values))
        return dict(self._call("GET", "/_sim/settings"))

    def seed_template(
        self,
        waba_id: str,
        name: str,
        language: str = "en_US",
        *,
        body: str | None = None,
        components: list[dict[str, Any]] | None = None,
        category: str = "UTILITY",
        status: str = "APPROVED",
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "waba_id": waba_id,
            "name": name,
            "language": language,
            "category": category,
            "status": status,
        }
        if components is not None:
            data["components"] = components
        else:
            data["body"] = body if body is not None else f"Template {name}"
        return dict(self._call("POST", "/_sim/templates", json=data)["template"])

    def set_template_status(
        self, waba_id: str, name: str, language: str, status: str, reason: str | None = None
    ) -> dict[str, Any]:
        data = {
            "waba_id": waba_id,
            "name": name,
            "language": language,
            "status": status,
            "reason": reason,
        }
        return dict(self._call("POST", "/_sim/templates/status", json=data)["template"])

    def templates(self, waba_id: str | None = None) -> list[dict[str, Any]]:
        params = {"waba_id": waba_id} if waba_id else None
        return list(self._call("GET", "/_sim/templates", params=params)["templates"])

    def webhook_log(self, kind: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if kind:
            params["kind"] = kind
        return list(self._call("GET", "/_sim/webhook-log", params=params)["deliveries"])

    def reset(self) -> None:
        self._call("POST", "/_sim/reset")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no status is scheduled and no webhook is queued or in flight."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.health()
            if state["pending_statuses"] == 0 and state["pending_webhooks"] == 0:
                return True
            time.sleep(0.02)
        return False
