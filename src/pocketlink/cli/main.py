"""``pocketlink up | status``: argument parsing and the one-line failures a person reads."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path

import platformdirs

from pocketlink import __version__

DEFAULT_PORT = 4566
DEFAULT_PUBLIC_DNS_PORT = 4553


def default_state() -> Path:
    return Path(platformdirs.user_data_dir("pocketlink")) / "state.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pocketlink", description="AWS PrivateLink on one Linux machine.")
    parser.add_argument("--version", action="version", version=f"pocketlink {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the daemon in the foreground")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=DEFAULT_PORT)
    up.add_argument("--state", type=Path, default=None,
                    help=f"the SQLite state file (default {default_state()})")
    up.add_argument("--public-dns-port", type=int, default=DEFAULT_PUBLIC_DNS_PORT,
                    help="where the public DNS (Route 53 public zones) answers, on 127.0.0.1")
    up.add_argument("--credentials", type=Path, default=None,
                    help="a TOML file of access keys, secrets and accounts")
    up.add_argument("--strict-auth", action="store_true",
                    help="accept only the credentials file's keys, and check SigV4 signatures")
    up.add_argument("--log-level", default="info",
                    choices=["debug", "info", "warning", "error"])

    status = commands.add_parser("status", help="say whether a daemon is up and what it holds")
    status.add_argument("--host", default="127.0.0.1")
    status.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo = commands.add_parser("demo", help="build seed 000's world through the API")
    demo.add_argument("--endpoint", default=f"http://127.0.0.1:{DEFAULT_PORT}")
    return parser


def _demo(args: argparse.Namespace) -> int:
    from pocketlink import demo

    return demo.run(args.endpoint)


def _up(args: argparse.Namespace) -> int:
    from pocketlink.daemon import DaemonConfig, run
    from pocketlink.gateway.identity import Credentials

    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        credentials = Credentials.from_file(args.credentials) if args.credentials \
            else Credentials()
    except (OSError, ValueError, KeyError) as error:
        print(f"pocketlink: cannot read credentials {args.credentials}: {error}",
              file=sys.stderr)
        return 2
    config = DaemonConfig(host=args.host, port=args.port, state=args.state or default_state(),
                          credentials=credentials, public_dns_port=args.public_dns_port,
                          strict_auth=args.strict_auth)
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(run(config))
    return 0


def _status(args: argparse.Namespace) -> int:
    url = f"http://{args.host}:{args.port}/_pocketlink/status"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status = json.load(response)
    except (urllib.error.URLError, OSError):
        print(f"pocketlink is not running on {args.host}:{args.port}: start it with "
              "'pocketlink up'.")
        return 1
    print(f"pocketlink is running on {args.host}:{args.port} (state {status['state']})")
    table = status["resources"]
    kinds = sorted({kind for row in table.values() for kind in row})
    if not table:
        print("it holds nothing yet")
        return 0
    header = ["account", *kinds]
    rows = [[account, *(str(table[account].get(k, 0)) for k in kinds)]
            for account in sorted(table)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"up": _up, "status": _status, "demo": _demo}[args.command](args)
    except KeyboardInterrupt:
        return 130
