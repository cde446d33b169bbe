"""The desired network, as plain data computed from the store: no I/O, unit-testable.

A VPC is a router namespace with one bridge per subnet (the subnet's gateway address on
it), a dummy link holding the resolver's addresses, and one routing table per subnet,
chosen by the bridge a packet arrives on. An instance is a namespace whose ``eth0`` is one
end of a veth pair; the other end is a port of its subnet's bridge.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from pocketlink.model import regions
from pocketlink.model.ec2 import Instance, NetworkInterface, RouteTable, Subnet, Vpc
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.network import names
from pocketlink.network.addresses import (
    RESOLVER_IPV6,
    RESOLVER_LINK_LOCAL,
    gateway,
    resolver_address,
)
from pocketlink.network.firewall import router_ruleset, ruleset
from pocketlink.store import Store

# Instance states in which the instance's namespace exists.
HOSTED_STATES = ("pending", "running", "stopping", "stopped")
# ENIs the VPC router holds itself: the data plane listens on their addresses there.
ROUTER_HELD = ("vpc_endpoint", "network_load_balancer")
# Endpoint states in which an endpoint's ENIs let traffic in.
OPEN_ENDPOINT_STATES = ("pending", "available")


@dataclass(frozen=True)
class BridgeSpec:
    name: str
    subnet_id: str
    addresses: tuple[str, ...]  # the gateway addresses, "10.0.1.1/24"
    table: int


@dataclass(frozen=True)
class RouteSpec:
    table: int
    destination: str
    via: str | None = None
    blackhole: bool = False


@dataclass(frozen=True)
class RouterSpec:
    vpc_id: str
    namespace: str
    bridges: tuple[BridgeSpec, ...]
    resolver_addresses: tuple[str, ...]  # on the router's loopback; none without DNS support
    routes: tuple[RouteSpec, ...]
    ruleset: str  # the security groups of the ENIs the router holds itself


@dataclass(frozen=True)
class HostSpec:
    instance_id: str
    namespace: str
    router: str  # the VPC namespace
    veth: str
    bridge: str
    mac_address: str
    addresses: tuple[str, ...]
    gateway4: str | None
    gateway6: str | None
    ruleset: str
    resolv_conf: str
    state: str
    user_data: str | None = None

    @property
    def kernel_view(self) -> HostSpec:
        """The spec as far as the kernel cares: the instance's state and UserData are the
        processes' business, not the network's."""
        return dataclasses.replace(self, state="", user_data=None)


@dataclass(frozen=True)
class Topology:
    routers: tuple[RouterSpec, ...]
    hosts: tuple[HostSpec, ...]

    @property
    def namespaces(self) -> set[str]:
        return {r.namespace for r in self.routers} | {h.namespace for h in self.hosts}


def _table_of(store: Store, subnet: Subnet, vpc: Vpc) -> RouteTable | None:
    for table in store.all(RouteTable):
        if table.vpc_id == vpc.id and any(a.subnet_id == subnet.id for a in table.associations):
            return table
    return store.get(RouteTable, vpc.main_route_table_id)


def _routes(store: Store, table: RouteTable | None, number: int) -> list[RouteSpec]:
    """The kernel routes of one route table; local routes are the bridges' own."""
    out = []
    for route in table.routes if table else []:
        if route.gateway_id == "local" or not (route.destination_cidr_block or
                                               route.destination_ipv6_cidr_block):
            continue
        destination = route.destination_cidr_block or route.destination_ipv6_cidr_block or ""
        if route.state == "blackhole":
            out.append(RouteSpec(number, destination, blackhole=True))
            continue
        eni = store.get(NetworkInterface, route.network_interface_id or "")
        if eni is None:
            continue
        via = eni.private_ip_address if route.destination_cidr_block else (
            eni.ipv6_addresses[0] if eni.ipv6_addresses else None)
        if via:
            out.append(RouteSpec(number, destination, via=via))
    return out


def _open_enis(store: Store, held: list[NetworkInterface]) -> set[str]:
    """The held ENIs that let traffic in: load balancer nodes always, endpoint ENIs while
    their endpoint is pending or available."""
    open_endpoint_enis = {i for e in store.all(VpcEndpoint) if e.state in OPEN_ENDPOINT_STATES
                          for i in e.network_interface_ids}
    return {e.id for e in held
            if e.interface_type == "network_load_balancer" or e.id in open_endpoint_enis}


def router(store: Store, vpc: Vpc) -> RouterSpec:
    bridges, routes = [], []
    held = [e for e in store.all(NetworkInterface)
            if e.vpc_id == vpc.id and e.interface_type in ROUTER_HELD]
    for subnet in store.all(Subnet):
        if subnet.vpc_id != vpc.id:
            continue
        number = names.route_table_number(subnet.id)
        addresses = []
        if subnet.cidr_block:
            network = ipaddress.ip_network(subnet.cidr_block)
            addresses.append(f"{gateway(subnet.cidr_block)}/{network.prefixlen}")
            addresses += [f"{e.private_ip_address}/{network.prefixlen}" for e in held
                          if e.subnet_id == subnet.id and e.private_ip_address]
        for association in subnet.ipv6_associations:
            network = ipaddress.ip_network(association.cidr)
            addresses.append(f"{gateway(association.cidr)}/{network.prefixlen}")
            addresses += [f"{a}/{network.prefixlen}" for e in held if e.subnet_id == subnet.id
                          for a in e.ipv6_addresses]
        bridges.append(BridgeSpec(names.bridge(subnet.id), subnet.id, tuple(addresses), number))
        routes += _routes(store, _table_of(store, subnet, vpc), number)
    resolver = (f"{resolver_address(vpc)}/32", f"{RESOLVER_LINK_LOCAL}/32",
                f"{RESOLVER_IPV6}/128") if vpc.enable_dns_support else ()
    return RouterSpec(vpc.id, names.namespace(vpc.id), tuple(bridges), resolver, tuple(routes),
                      router_ruleset(store, vpc, held, _open_enis(store, held)))


def resolv_conf(vpc: Vpc, subnet: Subnet) -> str:
    server = resolver_address(vpc) if subnet.cidr_block else RESOLVER_IPV6
    return (f"# AmazonProvidedDNS of {vpc.id}, written by pocketlink\n"
            f"nameserver {server}\nsearch {regions.internal_domain(vpc.region)}\n"
            "options timeout:2 attempts:3\n")


def host(store: Store, instance: Instance) -> HostSpec | None:
    eni = store.get(NetworkInterface, instance.network_interface_id)
    subnet = store.get(Subnet, instance.subnet_id)
    vpc = store.get(Vpc, instance.vpc_id)
    if eni is None or subnet is None or vpc is None:
        return None
    addresses = []
    if eni.private_ip_address and subnet.cidr_block:
        prefix = ipaddress.ip_network(subnet.cidr_block).prefixlen
        addresses.append(f"{eni.private_ip_address}/{prefix}")
    if eni.ipv6_addresses and subnet.ipv6_associations:
        prefix = ipaddress.ip_network(subnet.ipv6_associations[0].cidr).prefixlen
        addresses += [f"{a}/{prefix}" for a in eni.ipv6_addresses]
    return HostSpec(
        instance_id=instance.id, namespace=names.namespace(instance.id),
        router=names.namespace(vpc.id), veth=names.veth(eni.id), bridge=names.bridge(subnet.id),
        mac_address=eni.mac_address, addresses=tuple(addresses),
        gateway4=str(gateway(subnet.cidr_block)) if eni.private_ip_address and
        subnet.cidr_block else None,
        gateway6=str(gateway(subnet.ipv6_associations[0].cidr))
        if eni.ipv6_addresses and subnet.ipv6_associations else None,
        ruleset=ruleset(store, eni, vpc), resolv_conf=resolv_conf(vpc, subnet),
        state=instance.state, user_data=instance.user_data)


def desired(store: Store) -> Topology:
    routers = tuple(router(store, vpc) for vpc in store.all(Vpc))
    hosts = tuple(h for h in (host(store, i) for i in store.all(Instance)
                              if i.state in HOSTED_STATES) if h is not None)
    return Topology(routers, hosts)
