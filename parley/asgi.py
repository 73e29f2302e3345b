"""ASGI entry point. Runs the system checks first: an unsafe database role
(superuser or BYPASSRLS) refuses to serve."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

django_application = get_asgi_application()

from parley.core import gc_tuning  # noqa: E402
from parley.core.startup import refuse_unsafe_start  # noqa: E402
from parley.whatsapp.fast_ingest import FastIngest  # noqa: E402

refuse_unsafe_start()

# Meta's webhook POSTs take a lean path; everything else is Django.
application = FastIngest(django_application)  # type: ignore[arg-type]
gc_tuning.settle()
