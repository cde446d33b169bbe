"""What one new connection costs a data-plane worker and HAProxy in CPU, on loopback: user
and system microseconds a connection, and context switches a connection.

Why: connections per second through a proxy on a 2-core machine are bounded by the CPU a
connection costs every process on the path (bench/dataplane_connections.py), and that
side-by-side figure swings with whatever else the machine runs. CPU a connection, read
from /proc, moves far less with the load; context switches a connection show how often
the proxy is woken for a few events instead of a batch (a worker that preempts the client
on every wake-up pays a switch a connection, and the CPU that goes with it).

No world: one worker (``python -m pocketlink.dataplane.worker``, at the priority the
daemon gives it) with one TCP listener on 127.0.0.1 whose target is the echo server of
bench/_load.py on 127.0.0.1, and HAProxy (``nbthread 1``, ``mode tcp``) in front of the
same server; bench/_load.py's connections/s generator drives each in turn, interleaved by
round. Loopback only: nothing leaves the machine.

Run as root: ``sudo python3 bench/dataplane_cost.py [--rounds N] [--seconds S]
[--concurrency C] [--daemon-src DIR]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

LOAD = Path(__file__).resolve().parent / "_load.py"
TICK = os.sysconf("SC_CLK_TCK")
HAPROXY_CFG = """global
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen echo
    bind 127.0.0.1:{port}
    server target 127.0.0.1:{target}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def usage(pid: int) -> tuple[float, float, int, int]:
    """User and system CPU seconds, voluntary and involuntary context switches."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    switches = {line.split(":")[0]: int(line.split()[1])
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if "ctxt_switches" in line}
    return (int(fields[11]) / TICK, int(fields[12]) / TICK,
            switches["voluntary_ctxt_switches"], switches["nonvoluntary_ctxt_switches"])


@contextlib.contextmanager
def running(argv: list[str], **options) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(argv, **options)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def worker(target: int, source: Path | None) -> Iterator[tuple[int, int]]:
    """A data-plane worker listening on a free port for ``target``: (its pid, the port)."""
    from pocketlink.dataplane import control
    from pocketlink.dataplane.plan import Backend, ListenerSpec
    from pocketlink.dataplane.priority import raise_priority
    from pocketlink.dataplane.sockets import ROOT_NAMESPACE

    port = free_port()
    spec = ListenerSpec(namespace=ROOT_NAMESPACE, address="127.0.0.1", port=port, owner="bench",
                        backend=Backend(namespace=ROOT_NAMESPACE, source="127.0.0.1",
                                        targets=(("127.0.0.1", target),), proxy_protocol=False,
                                        endpoint_id=None, idle_timeout=350.0))
    ours, theirs = control.pair()
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = f"{source}{os.pathsep}{env.get('PYTHONPATH', '')}"
    argv = [sys.executable, "-m", "pocketlink.dataplane.worker", str(theirs.fileno()),
            "--grace", "1", "--log-level", "WARNING"]
    with ours, running(argv, pass_fds=(theirs.fileno(),), env=env) as process:
        theirs.close()
        raise_priority(process.pid)
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(4096)
            message = {"op": "listen", "spec": control.spec_message(spec)}
            socket.send_fds(ours, [json.dumps(message).encode()], [listener.fileno()])
        ours.recv(control.MAX_MESSAGE)  # "listening"
        yield process.pid, port


@contextlib.contextmanager
def haproxy(target: int) -> Iterator[tuple[int, int]]:
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".cfg") as config:
        config.write(HAPROXY_CFG.format(port=port, target=target))
        config.flush()
        with running(["haproxy", "-db", "-f", config.name],
                     stderr=subprocess.DEVNULL) as process:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            yield process.pid, port


def measure(pid: int, port: int, args: argparse.Namespace) -> dict[str, float]:
    before = usage(pid)
    out = subprocess.run([sys.executable, str(LOAD), "cps", "--host", "127.0.0.1", "--port",
                          str(port), "--seconds", f"{args.seconds:g}", "--concurrency",
                          str(args.concurrency)], capture_output=True, text=True, check=True,
                         timeout=args.seconds + 60).stdout
    after = usage(pid)
    found = json.loads(out.strip().splitlines()[-1])
    count = max(1.0, found["per_second"] * args.seconds)
    user, system, voluntary, involuntary = (a - b for a, b in zip(after, before, strict=True))
    return {"per_second": found["per_second"], "errors": sum(found["errors"].values()),
            "user_us": 1e6 * user / count, "system_us": 1e6 * system / count,
            "voluntary": voluntary / count, "involuntary": involuntary / count}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--daemon-src", type=Path, default=None,
                        help="the worker from this pocketlink source folder (the one holding "
                             "pocketlink/), e.g. another commit's")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run as root (the worker's priority, as the daemon gives it)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{args.rounds} rounds of {args.seconds:g} s, {args.concurrency} clients")
    runs: dict[str, list[dict[str, float]]] = {"worker": [], "haproxy": []}
    server = free_port()
    with running([sys.executable, str(LOAD), "serve", "--port", str(server)],
                 stdout=subprocess.PIPE, text=True) as echo:
        assert echo.stdout is not None
        echo.stdout.readline()  # ready
        with worker(server, args.daemon_src) as ours, haproxy(server) as theirs:
            for index in range(args.rounds):
                order = ("worker", "haproxy") if index % 2 == 0 else ("haproxy", "worker")
                for name in order:
                    runs[name].append(measure(*(ours if name == "worker" else theirs), args))
    print(f"{'':10}{'conn/s':>8}{'user us':>9}{'sys us':>8}{'total us':>10}"
          f"{'vol sw':>8}{'invol sw':>9}  (a connection; mean of rounds)")
    for name, rounds in runs.items():
        mean = {key: statistics.mean(r[key] for r in rounds) for key in rounds[0]}
        print(f"{name:10}{mean['per_second']:8.0f}{mean['user_us']:9.0f}{mean['system_us']:8.0f}"
              f"{mean['user_us'] + mean['system_us']:10.0f}{mean['voluntary']:8.2f}"
              f"{mean['involuntary']:9.2f}  errors: {sum(r['errors'] for r in rounds):.0f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
