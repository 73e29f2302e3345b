"""`make pytest`: run the suite, and stop the embedded database afterwards if
this run was the one that started it."""

from __future__ import annotations

import os
import sys

import pytest


def main() -> int:
    embedded = not os.environ.get("DATABASE_URL")
    was_running = True
    if embedded:
        from parley import devdb

        was_running = devdb.is_running()
    try:
        code = int(pytest.main(sys.argv[1:]))
    finally:
        if embedded and not was_running:
            devdb.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
