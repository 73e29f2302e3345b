"""API of the notifications app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["notifications"])
