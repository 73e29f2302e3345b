from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

application = get_wsgi_application()

from parley.core.startup import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()
