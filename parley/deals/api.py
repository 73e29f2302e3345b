"""API of the deals app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["deals"])
