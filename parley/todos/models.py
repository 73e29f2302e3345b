"""Models of the todos app."""

from __future__ import annotations
