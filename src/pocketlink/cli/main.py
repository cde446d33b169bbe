"""``pocketlink up | status | cost ...``: argument parsing and the one-line failures a
person reads."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import platformdirs

from pocketlink import __version__
from pocketlink.faults import cli as fault_cli
from pocketlink.wire.numbers import integer

DEFAULT_PORT = 4566
DEFAULT_PUBLIC_DNS_PORT = 4553


def default_state() -> Path:
    return Path(platformdirs.user_data_dir("pocketlink")) / "state.db"


def _state_option(command: argparse.ArgumentParser, more: str = "") -> None:
    """``--state``: which daemon a command speaks to, named by the state file it runs on."""
    command.add_argument("--state", type=Path, default=None,
                         help=f"the daemon's state file (default {default_state()}){more}")


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
    up.add_argument("--no-network", action="store_true",
                    help="serve the API only: no namespaces, no traffic (no root needed)")
    up.add_argument("--max-request-rate", type=float, default=None, metavar="PER_SECOND",
                    help="API requests per second one client (access key) may make, "
                         "bursts of twice that (default 200)")
    up.add_argument("--prometheus", action="store_true",
                    help="serve the Prometheus page (/_pocketlink/metrics) on the API port too; "
                         "it names every account's resources (always on the control socket)")

    status = commands.add_parser(
        "status", help="say whether the daemon of a state is up and what it holds")
    _state_option(status)
    run_in = commands.add_parser(
        "exec", help="run a command inside an instance's sandbox, as root there",
        usage="pocketlink exec [-it] INSTANCE_ID -- COMMAND [ARG...]")
    run_in.add_argument("-i", "--interactive", action="store_true", help="(implied)")
    run_in.add_argument("-t", "--tty", action="store_true", help="(implied)")
    run_in.add_argument("instance_id")
    run_in.add_argument("argv", nargs=argparse.REMAINDER)

    why = commands.add_parser(
        "diagnose", help="why an instance can or cannot reach a name: every hop, the fix, "
                         "and a real TCP probe from the instance")
    why.add_argument("--from", dest="source", required=True, metavar="INSTANCE")
    why.add_argument("--to", required=True, metavar="NAME[:PORT]",
                     help="a name or an address, as the instance would dial it (port 80 "
                          "unless given)")
    _state_option(why)
    why.add_argument("--no-probe", action="store_true",
                     help="the verdict only (the probe needs root)")

    fault_cli.add_parser(commands, f"the daemon's state file (default {default_state()})")

    down = commands.add_parser(
        "down", help="stop the daemon and remove every namespace, link and process it made")
    # Accepted for scripts written when down found its daemon by port; the state's runtime
    # record names the daemon now, whatever holds the port.
    down.add_argument("--host", help=argparse.SUPPRESS)
    down.add_argument("--port", type=int, help=argparse.SUPPRESS)
    _state_option(down, ": down stops that daemon only")
    down.add_argument("--purge", action="store_true",
                      help="also delete the state file, the instances' folders, the backend's data, "
                           "the metrics, the CA and ECR's registry and token key")
    down.add_argument("--all", action="store_true",
                      help="remove every pocketlink namespace on the machine, whichever "
                           "daemon made it")

    cost = commands.add_parser(
        "cost", help="what the measured traffic would cost at AWS's us-east-1 list prices")
    _state_option(cost)
    cost.add_argument("--since", default=None, metavar="WHEN",
                      help="from this time on (ISO 8601, or a span back from now: 90m, 6h, "
                           "2d); default: all the daemon measured")

    demo = commands.add_parser("demo", help="replay a seed's story through the API, narrated")
    demo.add_argument("seed", nargs="?", choices=("000", "002", "003", "004"), default="000",
                      help="000: PrivateLink to a provider's NLB (the default); 002: a "
                           "CloudFormation endpoint service with a TLS listener, deployed "
                           "with the AWS CLI; 003: S3 through a NAT gateway, then a gateway "
                           "endpoint, and the bill; 004: an isolated subnet reaching AWS "
                           "services through endpoints")
    demo.add_argument("--endpoint", default=f"http://127.0.0.1:{DEFAULT_PORT}")
    _state_option(demo, ": 003 shows its bill")
    return parser


def _demo(args: argparse.Namespace) -> int:
    from pocketlink import demo

    return demo.run(args.endpoint, args.seed, args.state or default_state())


def _up(args: argparse.Namespace) -> int:
    from pocketlink.gateway import control
    from pocketlink.gateway.identity import Credentials

    # The state is claimed first: a second `up` is refused, and `down` finds this daemon,
    # from the first instant of the start.
    try:
        claim = control.Claim(args.state or default_state(), args.host, args.port)
    except control.Taken as taken:
        print(f"pocketlink: {taken}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"pocketlink: cannot claim the state in {control.runtime_dir()}: {error}",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # pyroute2 logs each netlink message at debug: the daemon's debug is about its own stages.
    logging.getLogger("pyroute2").setLevel(max(logging.INFO, logging.getLogger().level))
    try:
        credentials = Credentials.from_file(args.credentials) if args.credentials \
            else Credentials()
    except (OSError, ValueError, KeyError) as error:
        print(f"pocketlink: cannot read credentials {args.credentials}: {error}",
              file=sys.stderr)
        claim.release()
        return 2
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        return runner(_serve(args, credentials))
    finally:
        claim.release()


async def _serve(args: argparse.Namespace, credentials) -> int:
    """The daemon, once what the serving snapshot says it served is back (snapshot.py):
    at a restart the listeners and resolvers do not wait for the daemon's imports."""
    from pocketlink.descriptors import raise_file_limit

    state = args.state or default_state()
    raise_file_limit()  # before the restore binds, and for the processes it starts
    restored = None
    if not args.no_network and os.geteuid() == 0:
        from pocketlink import snapshot

        restored = await snapshot.restore(state)
    try:
        from pocketlink.daemon import DaemonConfig, check_network_tools, run

        if not args.no_network:
            problem = check_network_tools()
            if problem:
                print(f"pocketlink: {problem}", file=sys.stderr)
                return 2
        config = DaemonConfig(host=args.host, port=args.port, state=state,
                              credentials=credentials, public_dns_port=args.public_dns_port,
                              strict_auth=args.strict_auth, network=not args.no_network)
        if args.max_request_rate is not None:
            config.max_request_rate = args.max_request_rate
        config.prometheus = args.prometheus
        await run(config, restored)
    finally:
        # What the restore started and the daemon did not take over (a start that failed
        # before its reconciler): stopped, not left serving with no daemon.
        if restored is not None and not restored.taken:
            await restored.close()
    return 0


def _status(args: argparse.Namespace) -> int:
    from pocketlink.gateway import control

    state = args.state or default_state()
    record = control.RuntimeRecord.read(state)
    if record is None:
        print(control.not_running(state))
        return 1
    if record.starting and control.holder(state) is not None:
        print(f"pocketlink is starting on {state} (pid {record.pid}): ask again once it is up.")
        return 1
    try:
        status = control.ask(record, "GET", "/_pocketlink/status")
    except PermissionError as error:
        print(control.unanswered("status", state, error), file=sys.stderr)
        return 2
    except OSError:
        print(f"pocketlink is not running on {state} (its pid {record.pid} left no answer): "
              "start it with 'pocketlink up'.")
        return 1
    print(f"pocketlink is running on {status['host']}:{status['port']} (pid {status['pid']}, "
          f"state {status['state']})")
    for failure in status.get("failures", []):
        print(f"{failure['id']} ({failure['account']}) is {failure['state']}: "
              f"{failure['message']}")
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


def _since(text: str) -> int:
    """Seconds since the epoch, from ISO 8601 or a span back from now (90m, 6h, 2d)."""
    from datetime import UTC, datetime

    spans = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if (count := integer(text[:-1])) is not None and text[-1:] in spans:
        return int(time.time()) - count * spans[text[-1]]
    moment = datetime.fromisoformat(text)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _cost(args: argparse.Namespace) -> int:
    from pocketlink.gateway import control
    from pocketlink.metrics.cost import render

    state = args.state or default_state()
    try:
        since = _since(args.since) if args.since else None
    except ValueError:
        print(f"pocketlink cost: --since {args.since}: give an ISO 8601 time or a span such "
              "as 90m, 6h, 2d", file=sys.stderr)
        return 2
    record = control.RuntimeRecord.read(state)
    if record is None:
        print(control.not_running(state))
        return 1
    try:
        bill = control.ask(record, "GET", "/_pocketlink/cost" +
                           (f"?since={since}" if since is not None else ""))
    except OSError as error:
        print(control.unanswered("cost", state, error), file=sys.stderr)
        return 2 if isinstance(error, PermissionError) else 1
    print(render(bill))
    return 0


def _exec(args: argparse.Namespace) -> int:
    from pocketlink.instances import sandbox
    from pocketlink.network import names, netns

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        print("pocketlink exec: name a command: pocketlink exec i-... -- curl ...",
              file=sys.stderr)
        return 2
    namespace = names.namespace(args.instance_id)
    if os.geteuid() != 0:
        print("pocketlink exec needs root to enter an instance's namespace: run it with sudo.",
              file=sys.stderr)
        return 2
    if namespace not in netns.ours():
        print(f"pocketlink exec: {args.instance_id} has no namespace here: is it running "
              "(aws ec2 describe-instances), and is pocketlink up with its network?",
              file=sys.stderr)
        return 1
    init = sandbox.init_of(namespace)
    if init is None:
        print(f"pocketlink exec: {args.instance_id} is not running (its sandbox is not up): "
              "start it (aws ec2 start-instances).", file=sys.stderr)
        return 1
    command = sandbox.enter(init)
    os.execvp(command[0], [*command, *argv])
    return 127  # not reached: exec replaced this process


def _diagnose(args: argparse.Namespace) -> int:
    """0: reachable, 1: not, 3: the probe disagrees with the verdict."""
    from urllib.parse import urlencode

    from pocketlink.diagnose import probe, report
    from pocketlink.gateway import control

    state = args.state or default_state()
    record = control.RuntimeRecord.read(state)
    if record is None:
        print(control.not_running(state))
        return 2
    name, port = report.split_target(args.to, 80)
    query = urlencode({"from": args.source, "to": name, "port": port})
    try:
        found = control.ask(record, "GET", f"/_pocketlink/diagnose?{query}")
    except OSError as error:
        print(control.unanswered("diagnose", state, error), file=sys.stderr)
        return 2
    tried = None
    address = found["resolution"] and found["resolution"]["address"]
    if not args.no_probe and os.geteuid() == 0:
        hold = probe.HOLD if found["reachable"] else probe.HOLD_FOR_RESET
        tried = probe.probe(args.source, address, port, hold) if address else \
            probe.Probe(False, "no address to dial")
    skipped = "--no-probe" if args.no_probe else "it needs root: run with sudo"
    print("\n".join(report.render(found, tried, skipped)))
    if tried is not None and tried.connected != found["reachable"]:
        return 3
    return 0 if found["reachable"] else 1


def _down(args: argparse.Namespace) -> int:
    from pocketlink.reconcile.network import tear_down

    if os.geteuid() != 0:
        print("pocketlink down needs root to remove namespaces: run it with sudo.",
              file=sys.stderr)
        return 2
    state = args.state or default_state()
    if not _stop_daemon(state):
        return 1
    removed = tear_down(None if args.all else str(state.resolve()))
    print(f"*** removed {len(removed)} namespaces" + (f": {', '.join(removed)}" if removed else ""))
    if args.purge:
        for path in (state, Path(f"{state}-wal"), Path(f"{state}-shm"),
                     Path(f"{state}.serving")):  # the serving snapshot (snapshot.py)
            path.unlink(missing_ok=True)
        shutil.rmtree(state.parent / "instances", ignore_errors=True)
        shutil.rmtree(state.parent / "backend", ignore_errors=True)
        shutil.rmtree(state.parent / "ca", ignore_errors=True)
        shutil.rmtree(state.parent / "registry", ignore_errors=True)
        shutil.rmtree(state.parent / "ecr", ignore_errors=True)
        for path in ("metrics.db", "metrics.db-wal", "metrics.db-shm"):
            (state.parent / path).unlink(missing_ok=True)
        print(f"*** deleted the state {state}")
    return 0


def _stop_daemon(state: Path) -> bool:
    """Stops the daemon of ``state``, found by its runtime record, and only that one;
    True once none runs (or none did). One still starting (no control socket yet) is sent
    SIGTERM by its pid, the holder of the state's claim, and given the same time."""
    import signal

    from pocketlink.gateway import control

    record = control.RuntimeRecord.read(state)
    if record is None:
        # A holder of the claim without a record is a daemon in its first instant: its
        # namespaces must stay.
        holder = control.holder(state)
        if holder is not None:
            print(f"pocketlink down: a daemon (pid {holder}) is claiming {state} this instant;"
                  " run down again.", file=sys.stderr)
        return holder is None
    pid = control.holder(state)
    answered = False
    if not record.starting:
        try:
            control.ask(record, "POST", "/_pocketlink/shutdown")
            answered = True
        except OSError:
            pass
    if answered:
        pid = record.pid
        print(f"*** asked the daemon to stop (pid {pid}, port {record.port})")
    elif pid is None:
        record.remove()  # its daemon died without cleaning up
        return True
    else:
        pid = control.holder(state)  # again: the ask above may have taken seconds
        if pid is None:
            return True
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        print(f"*** stopping the daemon that is {'starting' if record.starting else 'silent'} "
              f"(pid {pid}, port {record.port}) with SIGTERM")
    deadline = time.monotonic() + 30
    while _alive(pid):
        if time.monotonic() > deadline:
            print("pocketlink down: the daemon did not stop within 30 s", file=sys.stderr)
            return False
        time.sleep(0.05)
    if control.RuntimeRecord.read(state) == record:
        record.remove()  # a start ended by the signal leaves its record
    return True


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, waiting for its parent to reap it, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"up": _up, "status": _status, "demo": _demo, "exec": _exec,
                "diagnose": _diagnose, "down": _down, "cost": _cost,
                "fault": lambda a: fault_cli.run(a, a.state or default_state())}[args.command](args)
    except KeyboardInterrupt:
        return 130
