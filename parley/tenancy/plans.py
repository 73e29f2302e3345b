"""Plans and their monthly message quotas. Payment is outside Parley for now:
an owner picks a plan, the operator can override any workspace's quota."""

from __future__ import annotations

PLANS: dict[str, int] = {
    "trial": 10_000,
    "starter": 50_000,
    "growth": 250_000,
    "scale": 1_000_000,
}
