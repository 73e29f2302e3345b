"""`python -m bench.crm_main`: only the CRM search and segment bench, on its own
database (PARLEY_BENCH_DB, default parley_bench_crm), sized by --contacts and
--messages. `make bench` runs it too."""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crm_main")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("PARLEY_BENCH_DB", "parley_bench_crm")
    from bench import common

    url = common.reset_database()
    from bench.setup_django import setup

    setup(url)
    from bench import crm_queries

    crm_queries.run(db_url=url, contacts=args.contacts, messages=args.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
