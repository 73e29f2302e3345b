"""Request id, structured-log context, and the per-request tenant transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from parley.core.tenant import activate_user, activate_workspace, clear_transaction_settings

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Long-lived responses (server-sent events) must not hold a transaction open.
NON_TRANSACTIONAL_PREFIXES = ("/healthz", "/readyz", "/static/")
NON_TRANSACTIONAL_SUFFIXES = ("/events",)


class RequestIdMiddleware:
    """Tags every log line of a request with its id, and echoes the id back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class TenantTransactionMiddleware:
    """Runs each request in one transaction that starts seeing no tenant.

    The user id is set so the user can list their own memberships; the
    workspace is set later by whoever resolves it (a workspace view or the
    API's authentication). A 5xx rolls everything back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(NON_TRANSACTIONAL_PREFIXES) or request.path.endswith(
            NON_TRANSACTIONAL_SUFFIXES
        ):
            return self.get_response(request)
        with transaction.atomic():
            activate_workspace(None)
            user = getattr(request, "user", None)
            activate_user(user.pk if user is not None and user.is_authenticated else None)
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            else:
                # Settings are transaction-local, but a test client shares one
                # outer transaction across requests: leave nothing behind.
                clear_transaction_settings()
        return response
