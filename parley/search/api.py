"""API of the search app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["search"])
