"""Flows held open through an endpoint, and the processes that carry them.

``hold(instance, name, count, seconds)`` runs a client inside a consumer instance: it opens
``count`` connections to the endpoint (HAProxy behind it, as test_haproxy builds), sends
one request on each and reads its answer (the flow carries bytes), prints ``held N``, then
waits until every connection has ended (or ``seconds`` pass) and prints how they ended.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HOLD = """
import asyncio, json, resource, sys, time
host, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ended = {"eof": 0, "reset": 0, "open": 0}
async def one():
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, 80), 20)
    writer.write(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    seen = b""
    while b"client=" not in seen:
        chunk = await asyncio.wait_for(reader.read(4096), 20)
        if not chunk:
            raise ConnectionError("closed before answering")
        seen += chunk
    return reader, writer
async def wait_end(reader):
    try:
        while await reader.read(4096):
            pass
        ended["eof"] += 1
    except ConnectionError:
        ended["reset"] += 1
async def main():
    flows = []
    for start in range(0, count, 100):
        flows += await asyncio.gather(*(one() for _ in range(min(100, count - start))))
    print("held", len(flows), flush=True)
    waits = [asyncio.ensure_future(wait_end(r)) for r, _ in flows]
    done, pending = await asyncio.wait(waits, timeout=seconds)
    ended["open"] = len(pending)
    print(json.dumps(ended), flush=True)
    for _, writer in flows:
        writer.transport.abort()
asyncio.run(main())
"""


def hold(instance_id: str, name: str, count: int, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "pocketlink", "exec", instance_id, "--", "python3", "-c", HOLD,
         name, str(count), str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.split() == ["held", str(count)], line + process.stderr.read()[-2000:]
    return process


def how_they_ended(process: subprocess.Popen, timeout: float) -> dict[str, int]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-2000:]
    return json.loads(out.splitlines()[-1])


def sockets_of(pid: int) -> int:
    """How many sockets a process holds."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count
