"""The simulator's behaviour: what happens when a business sends, a customer writes, a
template is reviewed. Routes in graph*.py and control.py only translate HTTP to these calls."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Coroutine
from typing import Any

from . import errors, ids, inbound, persistence, templates
from .config import SimulatorConfig
from .preview import choices, describe
from .state import (
    ControlError,
    CustomerBook,
    Faults,
    MediaItem,
    MediaStore,
    MessageLog,
    Number,
    digits,
)
from .statuses import StatusEvent, StatusScheduler, advance
from .templates import Template
from .validation import MEDIA_TYPES, OutboundMessage, ReadReceipt
from .webhooks import (
    WebhookDispatcher,
    encode,
    messages_payload,
    statuses_payload,
    template_status_payload,
)

MEDIA_URL_TTL_S = 300  # Meta's media download URLs are valid for five minutes


class Simulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        cfg = self.config
        self.numbers: dict[str, Number] = {}
        self.templates: dict[tuple[str, str, str], Template] = {}
        self.messages = MessageLog(cfg.max_messages_per_number)
        self.customers = CustomerBook(cfg.max_customers)
        self.media = MediaStore(cfg.max_media_items, cfg.max_media_bytes)
        self.faults = Faults()
        self.undeliverable: set[str] = set()
        self.dispatcher = WebhookDispatcher(cfg)
        self.statuses = StatusScheduler(
            self._flush_statuses, cfg.status_batch_window_s, cfg.max_statuses_per_payload
        )
        self._tokens: dict[str, set[str]] = {}
        self._media_key = secrets.token_bytes(16)
        self._tasks: set[asyncio.Task[None]] = set()
        if cfg.state_file is not None:
            self._load(persistence.load(cfg.state_file))

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self.dispatcher.start()
        await self.statuses.start()
        for template in list(self.templates.values()):
            if template.status == "PENDING":
                self._spawn(self._review_later(template))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.statuses.stop()
        await self.dispatcher.stop()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- numbers ---------------------------------------------------------------------

    def upsert_number(self, data: dict[str, Any]) -> tuple[Number, bool]:
        pnid = str(data.get("phone_number_id") or "")
        existing = self.numbers.get(pnid)
        if existing is None:
            number = Number.create(data)
            self.numbers[number.phone_number_id] = number
        else:
            backup = existing.to_public()
            try:
                existing.apply(data)
            except ControlError:
                existing.apply(backup)
                raise
            number = existing
        self._reindex_tokens()
        self.persist()
        return number, existing is None

    def delete_number(self, phone_number_id: str) -> bool:
        removed = self.numbers.pop(phone_number_id, None) is not None
        self._reindex_tokens()
        self.persist()
        return removed

    def _reindex_tokens(self) -> None:
        tokens: dict[str, set[str]] = {}
        for number in self.numbers.values():
            tokens.setdefault(number.access_token, set()).add(number.phone_number_id)
        self._tokens = tokens

    def token_is_known(self, token: str | None) -> bool:
        return token is not None and token in self._tokens

    def token_covers_waba(self, token: str, waba_id: str) -> bool:
        return any(self.numbers[p].waba_id == waba_id for p in self._tokens.get(token, ()))

    def numbers_of_waba(self, waba_id: str) -> list[Number]:
        return [n for n in self.numbers.values() if n.waba_id == waba_id]

    # -- outbound messages -------------------------------------------------------------

    def send(self, number: Number, msg: OutboundMessage) -> dict[str, Any]:
        now = time.time()
        template: Template | None = None
        if msg.type == "template":
            name = str(msg.content["name"])
            language = str(msg.content["language"]["code"])
            template = self.templates.get((number.waba_id, name, language))
            if template is None or template.status != "APPROVED":
                raise errors.template_missing(name, language)
            templates.check_send(template, msg.content)
        elif msg.type in MEDIA_TYPES and msg.content.get("id") and not self._media_exists(msg):
            raise errors.invalid_parameter(
                f"Param {msg.type}['id'] is not a valid media id: {msg.content['id']}"
            )
        if not number.limiter.try_acquire():
            raise errors.throughput_exceeded()

        pnid = number.phone_number_id
        wamid = ids.wamid(msg.wa_id)
        failure: int | None = None
        if not msg.recipient_is_valid or msg.wa_id in self.undeliverable:
            failure = 131026
        elif template is None and not self.customers.in_window(pnid, msg.wa_id, now):
            failure = 131047
        if msg.recipient_is_valid:
            self.customers.outbound(pnid, msg.wa_id, now)

        record: dict[str, Any] = {
            "id": wamid,
            "direction": "outbound",
            "phone_number_id": pnid,
            "customer": msg.wa_id,
            "from": number.metadata_phone,
            "to": msg.wa_id,
            "type": msg.type,
            "content": msg.content,
            "context": {"message_id": msg.context_id} if msg.context_id else None,
            "biz_opaque_callback_data": msg.callback_data,
            "text": templates.render(template, msg.content)
            if template
            else describe(msg.type, msg.content),
            "choices": _choices(msg, template),
            "template": (
                {
                    "name": template.name,
                    "language": template.language,
                    "category": template.category,
                }
                if template
                else None
            ),
            "status": "accepted",
            "errors": None,
            "timestamp": int(now),
        }
        self.messages.add(record)
        self._schedule_statuses(
            number, record, failure, template.category.lower() if template else "service", now
        )

        sent: dict[str, Any] = {"id": wamid}
        if template is not None:
            sent["message_status"] = "accepted"  # Meta adds this for template sends only
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": msg.to, "wa_id": msg.wa_id}],
            "messages": [sent],
        }

    def _media_exists(self, msg: OutboundMessage) -> bool:
        return self.media.get(str(msg.content["id"])) is not None

    def _schedule_statuses(
        self, number: Number, record: dict[str, Any], failure: int | None, category: str, now: float
    ) -> None:
        pnid, wamid, wa_id = number.phone_number_id, record["id"], record["customer"]
        step = number.status_delay_ms / 1000
        if failure is not None:
            failed = [errors.webhook_error(failure)]
            if number.statuses_enabled:
                self.statuses.schedule(
                    step, StatusEvent(pnid, wamid, "failed", wa_id, record, errors=failed)
                )
            else:
                advance(record, "failed")
                record["errors"] = failed
            return
        conv_id, expiry = self.customers.conversation(pnid, wa_id, category, now)
        steps = ("sent", "delivered", "read") if number.send_read_status else ("sent", "delivered")
        if not number.statuses_enabled:
            advance(record, steps[-1])
            return
        for i, status in enumerate(steps, start=1):
            event = StatusEvent(
                pnid, wamid, status, wa_id, record, conversation=(conv_id, expiry, category)
            )
            self.statuses.schedule(step * i, event)

    def _flush_statuses(self, phone_number_id: str, statuses: list[dict[str, Any]]) -> None:
        number = self.numbers.get(phone_number_id)
        if number is None:
            return
        body = encode(statuses_payload(number, statuses))
        self.dispatcher.enqueue(number.webhook_url, number.app_secret, body, "statuses")

    def mark_read(self, number: Number, receipt: ReadReceipt) -> dict[str, Any]:
        record = self.messages.get(number.phone_number_id, receipt.message_id)
        if record is not None and record["direction"] == "inbound":
            record["status"] = "read"
        return {"success": True}

    # -- inbound (the customers' phones) -------------------------------------------------

    async def receive(
        self,
        number: Number,
        items: list[dict[str, Any]],
        *,
        deliveries: int,
        wait: bool,
        base_url: str,
    ) -> dict[str, Any]:
        built = [inbound.build(self, number, item, base_url) for item in items]
        now = time.time()
        contacts: dict[str, dict[str, Any]] = {}
        for message in built:
            contacts.setdefault(
                message.wa_id, {"profile": {"name": message.name}, "wa_id": message.wa_id}
            )
        payload = messages_payload(number, list(contacts.values()), [m.message for m in built])
        for message in built:
            self.customers.inbound(number.phone_number_id, message.wa_id, message.name, now)
            if self.messages.get(number.phone_number_id, message.message["id"]) is None:
                self.messages.add(message.record)
        body = encode(payload)
        results: list[dict[str, Any]] = []
        for _ in range(deliveries):
            if wait:
                results.append(
                    await self.dispatcher.deliver_now(
                        number.webhook_url, number.app_secret, body, "messages"
                    )
                )
            else:
                self.dispatcher.enqueue(number.webhook_url, number.app_secret, body, "messages")
        answer: dict[str, Any] = {
            "messages": [{"id": m.message["id"], "from": m.wa_id} for m in built],
            "wamids": [m.message["id"] for m in built],
            "media_ids": [m.media_id for m in built if m.media_id],
            "deliveries": deliveries,
            "payload": payload,
        }
        if wait:
            answer["delivery_results"] = results
        return answer

    def set_window(self, phone_number_id: str, wa_id: str, opened_at: float | None) -> None:
        self.customers.set_window(phone_number_id, digits(wa_id), opened_at)

    # -- media -----------------------------------------------------------------------

    def store_media(
        self, number: Number, data: bytes, mime_type: str, filename: str | None = None
    ) -> MediaItem:
        item = MediaItem(
            id=ids.object_id(),
            data=data,
            mime_type=mime_type,
            sha256_hex=hashlib.sha256(data).hexdigest(),
            phone_number_id=number.phone_number_id,
            waba_id=number.waba_id,
            filename=filename,
        )
        self.media.put(item)
        return item

    def media_url(self, item: MediaItem, base_url: str) -> str:
        expires = int(time.time()) + MEDIA_URL_TTL_S
        return (
            f"{base_url.rstrip('/')}/whatsapp_business/attachments/"
            f"?mid={item.id}&ext={expires}&hash={self._media_hash(item.id, expires)}"
        )

    def media_url_is_valid(self, media_id: str, expires: str, given_hash: str) -> bool:
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(self._media_hash(media_id, int(expires)), given_hash)

    def _media_hash(self, media_id: str, expires: int) -> str:
        return hmac.new(
            self._media_key, f"{media_id}:{expires}".encode(), hashlib.sha256
        ).hexdigest()[:24]

    # -- templates -------------------------------------------------------------------

    def create_template(self, waba_id: str, body: dict[str, Any]) -> Template:
        template = templates.parse_create_request(waba_id, body)
        key = (waba_id, template.name, template.language)
        if key in self.templates:
            raise errors.MetaError(
                400,
                100,
                subcode=2388024,
                details=(
                    f"There is already {template.language} content for template {template.name}. "
                    "Create a new template or edit the existing one."
                ),
            )
        self.templates[key] = template
        self.persist()
        self._spawn(self._review_later(template))
        return template

    def template_by_id(self, template_id: str) -> Template | None:
        return next((t for t in self.templates.values() if t.id == template_id), None)

    def edit_template(self, template: Template, body: dict[str, Any]) -> Template:
        """Meta's edit: new components (and category unless approved); back to review."""
        templates.check_edit(template, body)
        if "components" in body:
            template.components = list(body["components"])
        if body.get("category"):
            template.category = str(body["category"]).upper()
        if body.get("parameter_format"):
            template.parameter_format = str(body["parameter_format"]).upper()
        template.status = "PENDING"
        template.rejected_reason, template.rejection_info = "NONE", None
        self.persist()
        self._spawn(self._review_later(template))
        return template

    async def _review_later(self, template: Template) -> None:
        await asyncio.sleep(self.config.template_review_seconds)
        key = (template.waba_id, template.name, template.language)
        if self.templates.get(key) is not template or template.status != "PENDING":
            return  # deleted or changed meanwhile
        status, reason, info = templates.review(template)
        template.status, template.rejected_reason, template.rejection_info = status, reason, info
        self.persist()
        self.post_template_status(template)

    def post_template_status(self, template: Template) -> None:
        payload = template_status_payload(
            template.waba_id,
            template_id=template.id,
            name=template.name,
            language=template.language,
            category=template.category,
            event=template.status,
            reason=template.rejected_reason,
            rejection_info=template.rejection_info,
        )
        body = encode(payload)
        targets = {(n.webhook_url, n.app_secret) for n in self.numbers_of_waba(template.waba_id)}
        for url, secret in sorted(targets):
            self.dispatcher.enqueue(url, secret, body, "message_template_status_update")

    def seed_template(self, data: dict[str, Any]) -> Template:
        if not data.get("waba_id"):
            raise ControlError("waba_id is required")
        components = data.get("components")
        if components is None and data.get("body") is not None:
            components = [{"type": "BODY", "text": str(data["body"])}]
        seeded = dict(data, components=components or [], category=data.get("category", "UTILITY"))
        template = templates.parse_create_request(str(data["waba_id"]), seeded)
        template.status = str(data.get("status", "APPROVED")).upper()
        if template.status not in templates.STATUSES:
            raise ControlError(f"status must be one of {', '.join(templates.STATUSES)}")
        if data.get("id"):
            template.id = str(data["id"])
        key = (template.waba_id, template.name, template.language)
        self.templates[key] = template
        self.persist()
        return template

    def templates_of(self, waba_id: str) -> list[Template]:
        found = [t for t in self.templates.values() if t.waba_id == waba_id]
        found.sort(key=lambda t: (t.created_at, t.id))
        return found

    def delete_templates(self, waba_id: str, name: str | None, hsm_id: str | None) -> int:
        doomed = [
            key
            for key, t in self.templates.items()
            if t.waba_id == waba_id
            and (name is None or t.name == name)
            and (hsm_id is None or t.id == hsm_id)
        ]
        for key in doomed:
            del self.templates[key]
        if doomed:
            self.persist()
        return len(doomed)

    # -- housekeeping ----------------------------------------------------------------

    def reset_traffic(self) -> None:
        """Forget traffic (messages, windows, media, faults, queued statuses); keep setup."""
        self.messages.clear()
        self.customers.clear()
        self.media.clear()
        self.faults = Faults()
        self.undeliverable.clear()
        self.statuses.clear()
        self.dispatcher.log.clear()

    def persist(self) -> None:
        path = self.config.state_file
        if path is None:
            return
        persistence.save(
            path,
            [n.to_public() for n in self.numbers.values()],
            [t.to_state() for t in self.templates.values()],
        )

    def _load(self, data: dict[str, Any]) -> None:
        for raw in data.get("numbers") or []:
            number = Number.create(dict(raw))
            self.numbers[number.phone_number_id] = number
        for raw in data.get("templates") or []:
            template = Template.from_state(dict(raw))
            self.templates[(template.waba_id, template.name, template.language)] = template
        self._reindex_tokens()


def _choices(msg: OutboundMessage, template: Template | None) -> list[dict[str, str]]:
    if template is not None:
        return [
            {"kind": "button", "id": payload, "title": text}
            for text, payload in templates.quick_replies(template, msg.content)
        ]
    return choices(msg.type, msg.content)
