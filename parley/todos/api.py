"""API of the todos app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["todos"])
