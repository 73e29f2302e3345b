"""Models of the deals app."""

from __future__ import annotations
