"""The control channel between the daemon and a worker: a ListenerSpec survives the trip,
a socket passed along is the same socket on the other side, and end of file is heard."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket

from pocketlink.dataplane import control
from pocketlink.dataplane.plan import Backend, ListenerSpec
from pocketlink.dataplane.worker import routed_endpoint

SPEC = ListenerSpec(
    namespace="pl-vpc-1", address="fd00:1::5", port=443, owner="vpce-0123",
    backend=Backend(namespace="pl-vpc-2", source="10.0.1.9",
                    targets=(("10.0.1.20", 8443), ("10.0.1.21", 8443)), proxy_protocol=True,
                    endpoint_id="vpce-0123", idle_timeout=350.0))


def test_a_spec_survives_the_trip() -> None:
    assert control.spec_from(control.spec_message(SPEC)) == SPEC
    gateway = dataclasses.replace(SPEC, backend=dataclasses.replace(
        SPEC.backend, gateway_routes=(("10.0.1.0/24", "vpce-1"), ("10.0.2.0/24", "vpce-2"))))
    assert control.spec_from(control.spec_message(gateway)) == gateway


def test_a_gateway_listeners_caller_is_given_the_endpoint_its_subnet_routes_through() -> None:
    routes = (("10.0.1.0/24", "vpce-1"), ("10.0.2.0/24", "vpce-2"))
    assert routed_endpoint(routes, "10.0.2.7") == "vpce-2"
    assert routed_endpoint(routes, "10.0.1.7") == "vpce-1"
    assert routed_endpoint(routes, "10.0.3.7") is None


def test_a_passed_socket_is_the_same_socket_and_end_of_file_is_heard() -> None:
    async def main() -> None:
        daemon_end, worker_end = control.pair()
        heard: asyncio.Queue = asyncio.Queue()
        closed = asyncio.Event()
        sender = control.Channel(daemon_end, lambda m, fds: None, lambda: None)
        control.Channel(worker_end, lambda m, fds: heard.put_nowait((m, fds)), closed.set)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sender.send({"op": "listen", "spec": control.spec_message(SPEC)}, [listener.fileno()])
        message, fds = await asyncio.wait_for(heard.get(), 5)
        assert control.spec_from(message["spec"]) == SPEC
        with socket.socket(fileno=fds[0]) as received:
            assert received.getsockname() == listener.getsockname()
        assert listener.fileno() not in fds  # a copy, the sender's own stays open
        os.fstat(listener.fileno())
        listener.close()
        sender.close()
        await asyncio.wait_for(closed.wait(), 5)

    asyncio.run(main())
