"""Models of the transfer app."""

from __future__ import annotations
