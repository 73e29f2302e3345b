"""`make bench`: the hot paths, measured against the limits the issues name.

Runs on its own database (parley_bench) on the same server as the app:
the embedded one, or DATABASE_URL's. Everything listens on 127.0.0.1 and
every loop is bounded in count and time."""

from __future__ import annotations

import argparse
import sys

from bench import common

BENCHES = [
    "ingest",
    "lag",
    "inbox",
    "import",
    "crm",
    "campaigns",
    "webhooks",
    "autotag",
    "automation",
]


def campaigns_parts() -> frozenset[str]:
    from bench.campaigns import PARTS

    return PARTS


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument(
        "--only",
        choices=BENCHES,
        action="append",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each timed run")
    parser.add_argument(
        "--messages", type=int, default=1_000_000, help="messages for the inbox bench"
    )
    parser.add_argument(
        "--contacts", type=int, default=1_000_000, help="contacts for the CRM search bench"
    )
    parser.add_argument(
        "--parts",
        action="append",
        choices=sorted(campaigns_parts()),
        help="the campaigns bench's parts to run (default: all)",
    )
    args = parser.parse_args()
    only = set(args.only or BENCHES)

    url = common.reset_database()
    from bench.setup_django import make_channel_tenant, setup

    setup(url)
    _workspace_id, key, phone_number_id, secret = make_channel_tenant("Bench")
    port = common.free_port()
    web = f"http://127.0.0.1:{port}"
    env = common.env_for(url)
    if "ingest" in only or "lag" in only:
        with common.processes([(common.web_command(port), env)]):
            common.wait_http(f"{web}/healthz")
            if "ingest" in only:
                from bench import ingest

                ingest.run(
                    db_url=url,
                    web_url=web,
                    key=key,
                    phone_number_id=phone_number_id,
                    secret=secret,
                    rate=1000,
                    seconds=args.seconds,
                )
            if "lag" in only:
                from bench import lag

                lag.run(
                    db_url=url,
                    web_url=web,
                    key=key,
                    phone_number_id=phone_number_id,
                    secret=secret,
                    rate=500,
                    seconds=args.seconds,
                    env=env,
                )
    if "inbox" in only:
        from bench import inbox_queries

        inbox_queries.run(db_url=url, messages=args.messages)
    if "import" in only:
        from bench import crm_import

        crm_import.run(db_url=url)
    if "crm" in only:
        from bench import crm_queries

        crm_queries.run(db_url=url, contacts=args.contacts, messages=args.messages)
    if "campaigns" in only:
        from bench import campaigns

        campaigns.run(db_url=url, parts=frozenset(args.parts or campaigns.PARTS))
    if "webhooks" in only:
        from bench import webhooks

        webhooks.run(db_url=url)
    if "autotag" in only:
        from bench import autotag

        autotag.run(db_url=url)
    if "automation" in only:
        from bench import automation

        automation.run(db_url=url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
