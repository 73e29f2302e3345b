"""Models of the notes app."""

from __future__ import annotations
