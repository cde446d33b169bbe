"""Many flows at once through one endpoint, in waves: every connection gets its answer.

Bursts are where the data plane's shared pieces (ready sockets, lent pipes, the accept
loop) meet; a burst after churn once found a loop that spun forever."""

from __future__ import annotations

import json

import pytest

from tests.dataplane.test_haproxy import world  # noqa: F401  (the fixture: an endpoint to HAProxy)
from tests.network.conftest import run_in

WAVES = 3
AT_ONCE = 300

CLIENT = """
import asyncio, json, sys
host, count = sys.argv[1], int(sys.argv[2])
async def one():
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, 80), 10)
    writer.write(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    body = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return b"client=" in body
async def main():
    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    print(json.dumps({"ok": sum(r is True for r in results), "count": count}))
asyncio.run(main())
"""


@pytest.mark.parametrize("wave", range(WAVES))
def test_a_burst_of_connections_all_answered(world, wave):  # noqa: F811
    done = run_in(world["instance"]["InstanceId"], "python3", "-c", CLIENT, world["name"],
                  str(AT_ONCE), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {"ok": AT_ONCE, "count": AT_ONCE}
