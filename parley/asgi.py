"""ASGI entry point. Runs the system checks first: an unsafe database role
(superuser or BYPASSRLS) refuses to serve."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

application = get_asgi_application()

from parley.core.startup import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()
