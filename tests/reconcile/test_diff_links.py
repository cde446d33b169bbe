"""The pure diffs of what this area adds to the routers and hosts: a peering's link
(made by the requester's router once the other router exists, kept by each side) and the
ENIs attached beside an instance's primary one. No root: observations are data."""

from __future__ import annotations

import dataclasses

from pocketlink.network.changes import (
    AddAddress,
    AddLinkPair,
    AddVeth,
    DeleteLink,
    Link,
    SetLink,
    diff_host,
    diff_router,
)
from pocketlink.network.topology import InterfaceSpec, PeeringLinkSpec
from tests.reconcile.test_diff import HOST, NS, ROUTER, converged_host, converged_router

PEER = "pl-vpc-2"
LINK = PeeringLinkSpec("pcx-1", "plp0000000001", ("169.254.0.1/30", "fd00:ec2:0:1::1/126"),
                       PEER, "plp0000000002", ("169.254.0.2/30", "fd00:ec2:0:1::2/126"),
                       makes=True)


def _router(link: PeeringLinkSpec = LINK):
    return dataclasses.replace(ROUTER, peerings=(link,))


def test_the_requester_makes_the_pair_and_sets_up_both_ends():
    actions = diff_router(_router(), converged_router(neighbours=frozenset({PEER})))
    assert actions == [
        AddLinkPair(NS, LINK.name, LINK.peer_name, PEER),
        AddAddress(NS, LINK.name, "169.254.0.1/30"),
        AddAddress(NS, LINK.name, "fd00:ec2:0:1::1/126"), SetLink(NS, LINK.name),
        AddAddress(PEER, LINK.peer_name, "169.254.0.2/30"),
        AddAddress(PEER, LINK.peer_name, "fd00:ec2:0:1::2/126"), SetLink(PEER, LINK.peer_name)]


def test_nothing_is_made_before_the_other_router_exists_nor_by_the_accepter():
    assert diff_router(_router(), converged_router()) == []
    accepter = dataclasses.replace(LINK, makes=False)
    assert diff_router(_router(accepter), converged_router(neighbours=frozenset({PEER}))) == []


def test_each_side_keeps_its_end_and_drops_links_no_peering_wants():
    observed = converged_router()
    links = {**observed.links, LINK.name: Link(False, frozenset({"169.254.0.1/30"})),
             "plp00000000ff": Link(True, frozenset())}
    actions = diff_router(_router(dataclasses.replace(LINK, makes=False)),
                          dataclasses.replace(observed, links=links))
    assert actions == [AddAddress(NS, LINK.name, "fd00:ec2:0:1::1/126"),
                       SetLink(NS, LINK.name), DeleteLink(NS, "plp00000000ff")]


ETH1 = InterfaceSpec("eth1", "plv0000000002", "plb0000000002", "02:00:00:00:00:02",
                     ("10.0.2.7/24",))


def test_an_attached_eni_becomes_eth1_and_goes_when_detached():
    host = dataclasses.replace(HOST, attached=(ETH1,))
    router = converged_router()
    assert diff_host(host, converged_host(), router) == [
        AddVeth(NS, ETH1.veth, HOST.namespace, ETH1.mac_address, "eth1"),
        SetLink(NS, ETH1.veth, master=ETH1.bridge),
        AddAddress(HOST.namespace, "eth1", "10.0.2.7/24"), SetLink(HOST.namespace, "eth1")]
    held = converged_host()
    held = dataclasses.replace(held, links={**held.links, "eth1": Link(True, frozenset())})
    assert diff_host(HOST, held, router) == [DeleteLink(HOST.namespace, "eth1")]
