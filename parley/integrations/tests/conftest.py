from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def webhook_settings(settings: Any) -> Any:
    """Loopback receivers allowed (tests run them on 127.0.0.1), quick timeouts
    and retries, so fault tests take seconds."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.01
    return settings
