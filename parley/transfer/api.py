"""API of the transfer app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["transfer"])
