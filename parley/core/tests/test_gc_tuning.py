"""gc_tuning.settle, as a process calls it before it serves."""

from __future__ import annotations

import subprocess
import sys


def test_settle_freezes_what_is_alive_and_spaces_young_collections() -> None:
    # In a child: freezing the test process would keep its garbage for good.
    script = (
        "import gc\n"
        "from parley.core import gc_tuning\n"
        "assert gc.get_freeze_count() == 0\n"
        "gc_tuning.settle()\n"
        "print(gc.get_freeze_count() > 1000, gc.get_threshold()[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["True", "20000"]
