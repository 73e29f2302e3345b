"""The cyclic garbage collector, set for processes that run for long and
allocate fast (web, workers, the outbox's sender process, the simulator).

CPython's defaults (a young collection every 700 allocations, and full
collections that walk every object the process holds) cost these processes
dearly. Measured during the 1,000/s broadcast bench, in about 105 s: the
simulator spent 3.2 s in collections, one of them 372 ms long; the sender
process 1.9 s (up to 101 ms); the outbox worker 4.8 s (up to 179 ms). A pause
in the sender or the simulator holds every request in flight, and answer
times bound the broadcast rate (outbox.pacing.Window).

Two changes, made once the process has imported what it runs:

- ``gc.freeze()`` moves everything alive then (modules, classes, settings:
  most of a Django process's objects) out of the collector's sight, so a full
  collection walks only what was made since;
- young collections come every ``YOUNG_THRESHOLD`` allocations: most objects
  of a request die by reference counting long before, and each collection
  walks the young objects still alive (the requests in flight), so fewer
  collections is less work, for at most that many objects' worth of memory.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
# CPython's own ratios between the generations.
OLDER_THRESHOLDS = (10, 10)


def settle() -> None:
    """Freeze what is alive now and space out young collections. Call once,
    after the process has imported its code and before it serves."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
