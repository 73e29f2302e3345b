"""Process-wide simulator settings (per-number settings live on each registered number)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar


@dataclass
class SimulatorConfig:
    state_file: Path | None = None
    # Seconds a created template stays PENDING before review; 0 reviews on the next tick.
    template_review_seconds: float = 2.0
    # Bounds that keep a long load test from exhausting memory.
    max_messages_per_number: int = 10_000
    max_media_items: int = 5_000
    max_media_bytes: int = 512 * 1024 * 1024
    max_customers: int = 500_000
    webhook_log_size: int = 2_000
    webhook_queue_size: int = 20_000
    # Webhook delivery: Meta retries failed deliveries with backoff; ours is bounded in
    # attempts and in time so a dead receiver cannot keep work alive for long.
    webhook_workers: int = 16
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = 5
    webhook_backoff_s: float = 0.5
    webhook_backoff_max_s: float = 8.0
    webhook_retry_window_s: float = 60.0
    # Statuses falling due within this window go out in one payload, as Meta batches them.
    # It also keeps webhook posts (the costliest work here) few under load.
    status_batch_window_s: float = 0.05
    max_statuses_per_payload: int = 100

    # Settings the control API may change at run time.
    RUNTIME_SETTINGS: ClassVar[tuple[str, ...]] = (
        "template_review_seconds",
        "webhook_max_attempts",
        "webhook_backoff_s",
        "webhook_backoff_max_s",
        "webhook_retry_window_s",
        "webhook_timeout_s",
    )

    def runtime_settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.RUNTIME_SETTINGS}

    def update_runtime(self, values: dict[str, Any]) -> None:
        types = {f.name: f.type for f in fields(self)}
        for name, value in values.items():
            if name not in self.RUNTIME_SETTINGS:
                raise ValueError(f"unknown setting {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
            setattr(self, name, int(value) if types[name] == "int" else float(value))
