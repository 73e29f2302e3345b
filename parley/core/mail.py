"""Email sent once the surrounding transaction commits (never for a rollback)."""

from __future__ import annotations

import structlog
from django.core.mail import send_mail
from django.db import transaction

log = structlog.get_logger(__name__)


def send_on_commit(*, to: str, subject: str, body: str) -> None:
    def send() -> None:
        try:
            send_mail(subject, body, None, [to])
        except OSError:
            # The state change stands; the person can ask for a resend.
            log.exception("email_send_failed", to=to, subject=subject)

    transaction.on_commit(send)
