from __future__ import annotations

from django.core import checks
from django.core.management.base import SystemCheckError


def refuse_unsafe_start() -> None:
    """Servers do not run Django's checks on their own: run ours, and stop on errors."""
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        raise SystemCheckError("\n".join(str(e) for e in errors))
