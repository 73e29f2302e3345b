"""In-memory state: registered numbers, the message log, customers' windows, media, faults.

Every collection is bounded so a long load test cannot exhaust memory. Only the event loop
touches these objects, so they need no locks.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .ids import conversation_id
from .netcheck import loopback_url_problem
from .ratelimit import ThroughputLimiter

QUALITY_RATINGS = ("GREEN", "YELLOW", "RED", "UNKNOWN")
TIERS = ("TIER_250", "TIER_1K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
WINDOW_SECONDS = 24 * 60 * 60
STANDARD_THROUGHPUT = 80


class ControlError(Exception):
    """A bad control-API request; answered as 400 (or `status`) with a plain message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


@dataclass
class Number:
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    access_token: str
    app_secret: str
    webhook_url: str
    throughput_per_second: int = STANDARD_THROUGHPUT
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_1K"
    status_delay_ms: int = 200
    send_read_status: bool = True
    statuses_enabled: bool = True
    limiter: ThroughputLimiter = field(init=False, repr=False, compare=False)

    STRING_FIELDS = (
        "waba_id",
        "display_phone_number",
        "verified_name",
        "access_token",
        "app_secret",
        "webhook_url",
    )
    PUBLIC_FIELDS = (
        "phone_number_id",
        *STRING_FIELDS,
        "throughput_per_second",
        "quality_rating",
        "messaging_limit_tier",
        "status_delay_ms",
        "send_read_status",
        "statuses_enabled",
    )

    def __post_init__(self) -> None:
        self.limiter = ThroughputLimiter(self.throughput_per_second)

    @property
    def metadata_phone(self) -> str:
        """Webhook `metadata.display_phone_number` carries digits only."""
        return digits(self.display_phone_number) or self.display_phone_number

    def to_public(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PUBLIC_FIELDS}

    def to_graph(self, requested: Iterable[str] | None = None) -> dict[str, Any]:
        available: dict[str, Any] = {
            "verified_name": self.verified_name,
            "code_verification_status": "VERIFIED",
            "display_phone_number": self.display_phone_number,
            "quality_rating": self.quality_rating,
            "platform_type": "CLOUD_API",
            "throughput": {
                "level": "HIGH" if self.throughput_per_second > STANDARD_THROUGHPUT else "STANDARD"
            },
            "messaging_limit_tier": self.messaging_limit_tier,
            "name_status": "APPROVED",
            "status": "CONNECTED",
            "account_mode": "LIVE",
            "is_official_business_account": False,
            "id": self.phone_number_id,
        }
        if requested is None:
            keys: Iterable[str] = (
                "verified_name",
                "code_verification_status",
                "display_phone_number",
                "quality_rating",
                "platform_type",
                "throughput",
                "id",
            )
        else:
            keys = [*requested, "id"]
        return {key: available[key] for key in keys if key in available}

    def apply(self, data: dict[str, Any]) -> None:
        """Update from control-API fields (already known to be a dict)."""
        for key in self.STRING_FIELDS:
            if key in data:
                value = data[key]
                if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
                    raise ControlError(f"{key} must be a non-empty string")
                setattr(self, key, str(value))
        problem = loopback_url_problem(self.webhook_url)
        if problem:
            raise ControlError(problem)
        if "throughput_per_second" in data:
            self.throughput_per_second = _positive_int(
                data["throughput_per_second"], "throughput_per_second"
            )
            self.limiter.set_rate(self.throughput_per_second)
        if "status_delay_ms" in data:
            self.status_delay_ms = _non_negative_int(data["status_delay_ms"], "status_delay_ms")
        for key in ("send_read_status", "statuses_enabled"):
            if key in data:
                if not isinstance(data[key], bool):
                    raise ControlError(f"{key} must be true or false")
                setattr(self, key, data[key])
        quality = data.get("quality_rating", data.get("quality"))
        if quality is not None:
            if str(quality).upper() not in QUALITY_RATINGS:
                raise ControlError(f"quality_rating must be one of {', '.join(QUALITY_RATINGS)}")
            self.quality_rating = str(quality).upper()
        tier = data.get("messaging_limit_tier", data.get("tier"))
        if tier is not None:
            if str(tier).upper() not in TIERS:
                raise ControlError(f"messaging_limit_tier must be one of {', '.join(TIERS)}")
            self.messaging_limit_tier = str(tier).upper()

    @classmethod
    def create(cls, data: dict[str, Any]) -> Number:
        for key in ("phone_number_id", "access_token", "app_secret", "webhook_url"):
            if not data.get(key):
                raise ControlError(f"{key} is required")
        pnid = str(data["phone_number_id"])
        if not pnid.isdigit():
            raise ControlError("phone_number_id must be digits, like Meta's ids")
        number = cls(
            phone_number_id=pnid,
            waba_id=pnid,
            display_phone_number=pnid,
            verified_name="Parley Test Business",
            access_token="",
            app_secret="",
            webhook_url="",
        )
        number.apply(data)
        return number


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ControlError(f"{name} must be a positive integer")
    return value


def _non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ControlError(f"{name} must be a non-negative number")
    return int(value)


class MessageLog:
    """Messages in both directions, per number, oldest evicted first."""

    def __init__(self, cap_per_number: int) -> None:
        self.cap = cap_per_number
        self._by_number: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        self._seq = itertools.count(1)

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        record["seq"] = next(self._seq)
        log = self._by_number.setdefault(record["phone_number_id"], OrderedDict())
        log[record["id"]] = record
        if len(log) > self.cap:
            log.popitem(last=False)
        return record

    def get(self, phone_number_id: str, wamid: str) -> dict[str, Any] | None:
        log = self._by_number.get(phone_number_id)
        return log.get(wamid) if log is not None else None

    def query(
        self,
        phone_number_id: str | None = None,
        customer: str | None = None,
        direction: str | None = "outbound",
        after_seq: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        if phone_number_id is not None:
            logs: list[Iterable[dict[str, Any]]] = [
                self._by_number.get(phone_number_id, {}).values()
            ]
        else:
            logs = [log.values() for log in self._by_number.values()]
        merged: Iterator[dict[str, Any]] = heapq.merge(*logs, key=lambda r: int(r["seq"]))
        out = [
            r
            for r in merged
            if r["seq"] > after_seq
            and (customer is None or r["customer"] == customer)
            and (direction is None or r["direction"] == direction)
        ]
        return out[-limit:] if limit else out

    def clear(self, phone_number_id: str | None = None) -> None:
        if phone_number_id is None:
            self._by_number.clear()
        else:
            self._by_number.pop(phone_number_id, None)


@dataclass(slots=True)
class Customer:
    name: str = ""
    last_inbound_at: float | None = None
    last_activity: float = 0.0


class CustomerBook:
    """Who has talked to which number, and when each 24-hour service window closes."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._customers: OrderedDict[tuple[str, str], Customer] = OrderedDict()
        self._conversations: OrderedDict[tuple[str, str, str], tuple[str, float]] = OrderedDict()

    def _touch(self, key: tuple[str, str], now: float) -> Customer:
        customer = self._customers.get(key)
        if customer is None:
            customer = self._customers[key] = Customer()
            if len(self._customers) > self.cap:
                self._customers.popitem(last=False)
        else:
            self._customers.move_to_end(key)
        customer.last_activity = now
        return customer

    def inbound(self, phone_number_id: str, wa_id: str, name: str, now: float) -> None:
        customer = self._touch((phone_number_id, wa_id), now)
        customer.last_inbound_at = now
        if name:
            customer.name = name

    def outbound(self, phone_number_id: str, wa_id: str, now: float) -> None:
        self._touch((phone_number_id, wa_id), now)

    def set_window(self, phone_number_id: str, wa_id: str, opened_at: float | None) -> None:
        self._touch((phone_number_id, wa_id), time.time()).last_inbound_at = opened_at

    def in_window(self, phone_number_id: str, wa_id: str, now: float) -> bool:
        customer = self._customers.get((phone_number_id, wa_id))
        return bool(
            customer
            and customer.last_inbound_at
            and now - customer.last_inbound_at < WINDOW_SECONDS
        )

    def name(self, phone_number_id: str, wa_id: str) -> str:
        customer = self._customers.get((phone_number_id, wa_id))
        return customer.name if customer else ""

    def listing(self, phone_number_id: str, now: float) -> list[dict[str, Any]]:
        mine = [
            (wa_id, c) for (pnid, wa_id), c in self._customers.items() if pnid == phone_number_id
        ]
        mine.sort(key=lambda pair: pair[1].last_activity, reverse=True)
        return [
            {
                "wa_id": wa_id,
                "name": c.name,
                "last_inbound_at": c.last_inbound_at,
                "window_open": bool(c.last_inbound_at and now - c.last_inbound_at < WINDOW_SECONDS),
                "last_activity": c.last_activity,
            }
            for wa_id, c in mine
        ]

    def conversation(
        self, phone_number_id: str, wa_id: str, category: str, now: float
    ) -> tuple[str, float]:
        """(conversation id, expiry): one conversation per customer and category per 24 h."""
        key = (phone_number_id, wa_id, category)
        current = self._conversations.get(key)
        if current is None or current[1] <= now:
            current = (conversation_id(), now + WINDOW_SECONDS)
            self._conversations[key] = current
            if len(self._conversations) > self.cap:
                self._conversations.popitem(last=False)
        return current

    def clear(self) -> None:
        self._customers.clear()
        self._conversations.clear()


@dataclass(slots=True)
class MediaItem:
    id: str
    data: bytes
    mime_type: str
    sha256_hex: str
    phone_number_id: str
    waba_id: str
    filename: str | None = None
    created_at: float = field(default_factory=time.time)


class MediaStore:
    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, MediaItem] = OrderedDict()
        self._bytes = 0

    def put(self, item: MediaItem) -> None:
        self._items[item.id] = item
        self._bytes += len(item.data)
        while self._items and (len(self._items) > self.max_items or self._bytes > self.max_bytes):
            _, evicted = self._items.popitem(last=False)
            self._bytes -= len(evicted.data)

    def get(self, media_id: str) -> MediaItem | None:
        return self._items.get(media_id)

    def delete(self, media_id: str) -> bool:
        item = self._items.pop(media_id, None)
        if item is None:
            return False
        self._bytes -= len(item.data)
        return True

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


@dataclass
class Faults:
    """Failures injected into Graph API calls through the control API."""

    error_count: int = 0
    http_status: int = 500
    code: int | None = None
    match: str | None = None  # only calls whose path contains this fail
    latency_ms: float = 0.0

    def to_public(self) -> dict[str, Any]:
        return {
            "count": self.error_count,
            "http_status": self.http_status,
            "code": self.code,
            "match": self.match,
            "latency_ms": self.latency_ms,
        }
