"""POST /webhooks/whatsapp/<key>: verify, store, enqueue, 200 (DESIGN.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from parley.core.tenant import activate_workspace, dangerously_cross_tenant
from parley.whatsapp.access import WebhookTarget, webhook_target
from parley.whatsapp.models import WebhookEvent
from parley.whatsapp.signatures import is_valid


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
def whatsapp_webhook(request: HttpRequest, key: str) -> HttpResponse:
    if request.method == "GET":
        return _verify(request, key)
    if request.method != "POST":
        return _error(405, "Use GET to verify the webhook and POST to deliver events.")
    body = request.body
    if len(body) > settings.WHATSAPP_WEBHOOK_MAX_BYTES:
        return _error(413, "Webhook body too large.")
    target = webhook_target(key)
    if target is None:
        # Kept for the operator: a misconfigured key must not lose events.
        with dangerously_cross_tenant(reason="store webhook for unknown channel key"):
            WebhookEvent.objects.create(
                workspace=None,
                channel_key=key[:64],
                body=body,
                state=WebhookEvent.State.FLAGGED,
                problem="unknown channel key",
            )
        return _error(404, "Unknown channel.")
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature:
        return _error(401, "Missing X-Hub-Signature-256 header.")
    if not is_valid(body, target.app_secret, signature):
        return _error(403, "Invalid signature for this channel.")
    store(target, key, body)
    return HttpResponse("ok", content_type="text/plain")


def store(target: WebhookTarget, key: str, body: bytes) -> int:
    """Store the body and defer inbox.process_webhook for it, in the caller's
    transaction: one database function, which the ASGI fast path calls too."""
    activate_workspace(target.workspace_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parley_ingest_webhook(%s::bigint, %s::bigint, %s::varchar, %s::bytea)",
            [target.workspace_id, target.channel_id, key, body],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _verify(request: HttpRequest, key: str) -> HttpResponse:
    target = webhook_target(key)
    if target is None:
        return _error(404, "Unknown channel.")
    if request.GET.get("hub.mode") != "subscribe":
        return _error(400, "hub.mode must be 'subscribe'.")
    if request.GET.get("hub.verify_token", "") != target.verify_token:
        return _error(403, "The verify token does not match this channel's.")
    return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
