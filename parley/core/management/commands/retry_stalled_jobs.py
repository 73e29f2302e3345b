"""Put back jobs held by dead workers now (the worker does it every minute)."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Requeue jobs whose worker stopped sending heartbeats."

    def handle(self, *args: Any, **options: Any) -> None:
        from procrastinate.contrib.django import app
        from procrastinate.contrib.django.django_connector import DjangoConnector

        from parley.core.tasks import requeue_stalled_jobs

        connector = app.connector
        assert isinstance(connector, DjangoConnector)
        with app.replace_connector(connector.get_worker_connector()):
            count = asyncio.run(_open_and_run(app, requeue_stalled_jobs))
        self.stdout.write(f"Requeued {count} stalled job(s).")


async def _open_and_run(app: Any, fn: Any) -> int:
    async with app.open_async():
        return int(await fn())
