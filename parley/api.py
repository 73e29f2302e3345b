"""The public API at /api/v1: routers from each app, one auth, one error shape."""

from __future__ import annotations

from ninja import NinjaAPI

from parley.accounts.api import router as accounts_router
from parley.accounts.auth import SessionActorAuth, TokenAuth
from parley.autotag.api import router as autotag_router
from parley.broadcasts.api import router as broadcasts_router
from parley.core.api_errors import install as install_errors
from parley.crm.api import router as crm_router
from parley.deals.api import router as deals_router
from parley.drips.api import router as drips_router
from parley.executions.api import router as executions_router
from parley.inbox.api import router as inbox_router
from parley.integrations.api import router as integrations_router
from parley.msgtemplates.api import router as msgtemplates_router
from parley.notes.api import router as notes_router
from parley.notifications.api import router as notifications_router
from parley.routing.api import router as routing_router
from parley.scheduled.api import router as scheduled_router
from parley.search.api import router as search_router
from parley.segments.api import router as segments_router
from parley.tenancy.api import router as tenancy_router
from parley.todos.api import router as todos_router
from parley.transfer.api import router as transfer_router
from parley.whatsapp.api import router as whatsapp_router
from parley.workflows.api import router as workflows_router

api = NinjaAPI(
    title="Parley API",
    version="1",
    description=(
        "Parley's REST API. Authenticate with `Authorization: Bearer prl_...` (a workspace "
        "API token created by an admin, limited to its scopes) or with a browser session "
        "(pick the workspace with the `X-Parley-Workspace` header). Errors are JSON "
        '`{"code", "message", "field"}`. Lists are cursor-paginated: pass `next_cursor` '
        "back as `cursor`."
    ),
    auth=[TokenAuth(), SessionActorAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_errors(api)
api.add_router("/", accounts_router)
api.add_router("/", tenancy_router)
api.add_router("/", inbox_router)
api.add_router("/", crm_router)
api.add_router("/", whatsapp_router)
api.add_router("/", notifications_router)
api.add_router("/", notes_router)
api.add_router("/", todos_router)
api.add_router("/", deals_router)
api.add_router("/", segments_router)
api.add_router("/", transfer_router)
api.add_router("/", search_router)
api.add_router("/", msgtemplates_router)
api.add_router("/", broadcasts_router)
api.add_router("/", scheduled_router)
api.add_router("/", drips_router)
api.add_router("/", executions_router)
api.add_router("/", integrations_router)
api.add_router("/", routing_router)
api.add_router("/", autotag_router)
api.add_router("/", workflows_router)
