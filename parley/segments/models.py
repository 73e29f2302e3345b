"""Models of the segments app."""

from __future__ import annotations
