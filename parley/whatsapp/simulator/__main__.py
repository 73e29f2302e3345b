"""`python -m parley.whatsapp.simulator --host 127.0.0.1 --port 8900 [--state-file PATH]`"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from parley.core import gc_tuning

from .app import MessagesFastPath, build_app
from .config import SimulatorConfig
from .netcheck import is_loopback_host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parley.whatsapp.simulator",
        description="WhatsApp Cloud API simulator (loopback only).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--state-file", type=Path, help="keep numbers and templates in this JSON file"
    )
    parser.add_argument(
        "--template-review-seconds",
        type=float,
        default=2.0,
        help="how long a new template stays PENDING (default 2; 0 allowed)",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    args = parser.parse_args(argv)

    if not is_loopback_host(args.host):
        print(
            f"refusing to bind {args.host!r}: the simulator listens on loopback only",
            file=sys.stderr,
        )
        return 2
    if args.template_review_seconds < 0:
        parser.error("--template-review-seconds must not be negative")

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    config = SimulatorConfig(
        state_file=args.state_file, template_review_seconds=args.template_review_seconds
    )
    app = build_app(config)
    gc_tuning.settle()
    print(
        f"WhatsApp Cloud API simulator on http://{args.host}:{args.port} (demo page at /)",
        flush=True,
    )
    uvicorn.run(
        MessagesFastPath(app),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
