"""The desired network, as plain data computed from the store: no I/O, unit-testable.

A VPC is a router namespace with one bridge per subnet (the subnet's gateway address on
it), a dummy link holding the resolver's addresses, and one routing table per subnet,
chosen by the bridge a packet arrives on; an active VPC peering adds a veth between the two
VPC routers, which routes through the peering name as their next hop. An instance is a
namespace whose ``eth0`` is one end of a veth pair; the other end is a port of its subnet's
bridge (and each ENI attached beside it is an ``ethN`` the same way, on its own subnet's).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from pocketlink.model.base import Resource
from pocketlink.model.dhcp import AMAZON_PROVIDED_DNS, options_of
from pocketlink.model.ec2 import (
    Instance,
    NetworkInterface,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from pocketlink.model.peering import PEERING_LINKED, VpcPeeringConnection, link_addresses
from pocketlink.model.prefix_lists import ManagedPrefixList, customer_cidrs
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.model.states import ENDPOINT_LISTENING, INSTANCE_HOSTED
from pocketlink.network import names
from pocketlink.network.addresses import (
    METADATA_IPV4,
    METADATA_IPV6,
    RESOLVER_IPV6,
    RESOLVER_LINK_LOCAL,
    gateway,
    resolver_address,
)
from pocketlink.network.firewall import router_ruleset, ruleset
from pocketlink.store import Store

# ENIs the VPC router holds itself: the data plane listens on their addresses there.
ROUTER_HELD = ("vpc_endpoint", "network_load_balancer")
MAIN_TABLE = 254  # an instance's default routes; the router's last resort


@dataclass(frozen=True)
class BridgeSpec:
    name: str
    subnet_id: str
    addresses: tuple[str, ...]  # the gateway addresses, "10.0.1.1/24"
    table: int


@dataclass(frozen=True)
class PeeringLinkSpec:
    """One end of a peering's link, a veth pair between two VPC routers. The requester's
    router ``makes`` the pair and sets up both ends; the accepter's keeps its own end."""

    peering_id: str
    name: str
    addresses: tuple[str, ...]
    peer_namespace: str
    peer_name: str
    peer_addresses: tuple[str, ...]
    makes: bool


@dataclass(frozen=True)
class RouteSpec:
    table: int
    destination: str
    via: str | None = None
    blackhole: bool = False


# Where a VPC router sends what no route of the subnet's table and no subnet of the VPC
# takes: nowhere, silently (a blackhole route sends no ICMP, an unreachable one would), so
# that a call to an AWS service with no endpoint and no way out times out, as at AWS,
# instead of failing at once with "No route to host".
NOWHERE = (RouteSpec(MAIN_TABLE, "0.0.0.0/0", blackhole=True),
           RouteSpec(MAIN_TABLE, "::/0", blackhole=True))


@dataclass(frozen=True)
class RouterSpec:
    vpc_id: str
    namespace: str
    bridges: tuple[BridgeSpec, ...]
    resolver_addresses: tuple[str, ...]  # on the router's loopback; none without DNS support
    routes: tuple[RouteSpec, ...]
    ruleset: str  # the security groups of the ENIs the router holds itself
    # On the router's loopback too: the instance metadata service listens there.
    metadata_addresses: tuple[str, ...] = (f"{METADATA_IPV4}/32", f"{METADATA_IPV6}/128")
    peerings: tuple[PeeringLinkSpec, ...] = ()


@dataclass(frozen=True)
class InterfaceSpec:
    """An ENI attached to an instance beside its primary one: ``ethN`` inside (N its
    device index), a veth whose other end is a port of its own subnet's bridge."""

    name: str
    veth: str
    bridge: str
    mac_address: str
    addresses: tuple[str, ...]


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
    attached: tuple[InterfaceSpec, ...] = ()

    @property
    def kernel_view(self) -> HostSpec:
        """The spec as far as the kernel cares: the instance's state and UserData are the
        processes' business, not the network's."""
        return dataclasses.replace(self, state="", user_data=None)


@dataclass(frozen=True)
class VpcTopology:
    """One VPC's network: its router and its instances, the reconciler's unit of work."""

    router: RouterSpec
    hosts: tuple[HostSpec, ...]

    @property
    def vpc_id(self) -> str:
        return self.router.vpc_id

    @property
    def namespaces(self) -> set[str]:
        return {self.router.namespace} | {h.namespace for h in self.hosts}


@dataclass(frozen=True)
class Topology:
    routers: tuple[RouterSpec, ...]
    hosts: tuple[HostSpec, ...]

    @property
    def namespaces(self) -> set[str]:
        return {r.namespace for r in self.routers} | {h.namespace for h in self.hosts}


@dataclass
class VpcInputs:
    """The stored resources one VPC's network is computed from, gathered in one scan."""

    vpc: Vpc
    subnets: list[Subnet] = dataclasses.field(default_factory=list)
    route_tables: list[RouteTable] = dataclasses.field(default_factory=list)
    network_interfaces: list[NetworkInterface] = dataclasses.field(default_factory=list)
    instances: list[Instance] = dataclasses.field(default_factory=list)
    security_groups: list[SecurityGroup] = dataclasses.field(default_factory=list)
    endpoints: list[VpcEndpoint] = dataclasses.field(default_factory=list)
    peerings: list[VpcPeeringConnection] = dataclasses.field(default_factory=list)
    # Inputs of the VPC's rules and routes kept elsewhere: the ENIs of peered VPCs (their
    # groups may be named in this VPC's rules) and the account's prefix lists.
    peer_interfaces: list[NetworkInterface] = dataclasses.field(default_factory=list)
    prefix_lists: list[ManagedPrefixList] = dataclasses.field(default_factory=list)

    def members(self) -> tuple[Resource, ...]:
        """Every input, as the objects the store holds: a commit replaces what it changes,
        so the same objects in the same order mean nothing changed (compare with ``is``)."""
        return (self.vpc, *self.subnets, *self.route_tables, *self.network_interfaces,
                *self.instances, *self.security_groups, *self.endpoints, *self.peerings,
                *self.peer_interfaces, *self.prefix_lists)


def unchanged(before: tuple[Resource, ...] | None, after: tuple[Resource, ...]) -> bool:
    return before is not None and len(before) == len(after) and \
        all(a is b for a, b in zip(before, after, strict=True))


def inputs(store: Store) -> dict[str, VpcInputs]:
    found = {vpc.id: VpcInputs(vpc) for vpc in store.all(Vpc)}
    for kind, bucket in ((Subnet, "subnets"), (RouteTable, "route_tables"),
                         (NetworkInterface, "network_interfaces"), (Instance, "instances"),
                         (SecurityGroup, "security_groups"), (VpcEndpoint, "endpoints")):
        for resource in store.all(kind):
            group = found.get(resource.vpc_id)  # type: ignore[attr-defined]
            if group is not None:
                getattr(group, bucket).append(resource)
    for peering in store.all(VpcPeeringConnection):
        if peering.status in PEERING_LINKED and peering.link_index is not None:
            for vpc_id in (peering.requester_vpc_id, peering.accepter_vpc_id):
                if vpc_id in found:
                    found[vpc_id].peerings.append(peering)
    for group in found.values():
        peers = {p.other_vpc(group.vpc.id) for p in group.peerings}
        group.peer_interfaces = [e for p in peers if p in found
                                 for e in found[p].network_interfaces]
    lists = list(store.all(ManagedPrefixList))
    for group in found.values():
        group.prefix_lists = [p for p in lists if p.account == group.vpc.account]
    # Every account that lists its VPCs has a default VPC, and most never use it: it gets
    # its namespace once something holds an address in it, and loses it when nothing does.
    return {vpc_id: group for vpc_id, group in found.items()
            if group.network_interfaces or not group.vpc.is_default}


def _table_of(store: Store, subnet: Subnet, vpc: VpcInputs) -> RouteTable | None:
    for table in vpc.route_tables:
        if any(a.subnet_id == subnet.id for a in table.associations):
            return table
    return store.get(RouteTable, vpc.vpc.main_route_table_id)


def _routes(store: Store, table: RouteTable | None, number: int) -> list[RouteSpec]:
    """The kernel routes of one route table; local routes are the bridges' own."""
    if table is None:
        return []
    out = []
    for route in _expanded(store, table.routes):
        if route.gateway_id == "local" or not (route.destination_cidr_block or
                                               route.destination_ipv6_cidr_block):
            continue
        destination = route.destination_cidr_block or route.destination_ipv6_cidr_block or ""
        if route.state == "blackhole":
            out.append(RouteSpec(number, destination, blackhole=True))
            continue
        if route.vpc_peering_connection_id:
            via = _peer_end(store, route, table)
            if via:
                out.append(RouteSpec(number, destination, via=via))
            continue
        eni = store.get(NetworkInterface, route.network_interface_id or "")
        if eni is None:
            continue
        via = eni.private_ip_address if route.destination_cidr_block else (
            eni.ipv6_addresses[0] if eni.ipv6_addresses else None)
        if via:
            out.append(RouteSpec(number, destination, via=via))
    return out


def _expanded(store: Store, routes: list[Route]) -> list[Route]:
    """A route to a customer managed prefix list is a route to each of its blocks."""
    out = []
    for route in routes:
        cidrs = customer_cidrs(store, route.destination_prefix_list_id or "")
        out += [dataclasses.replace(route, destination_prefix_list_id=None,
                                    **{"destination_ipv6_cidr_block" if ":" in c
                                       else "destination_cidr_block": c})
                for c in cidrs] if cidrs else [route]
    return out


def _peer_end(store: Store, route: Route, table: RouteTable) -> str | None:
    """The next hop of a route through a peering: the other router's end of its link."""
    peering = store.get(VpcPeeringConnection, route.vpc_peering_connection_id)
    side = peering.side_of(table.vpc_id) if peering else None
    if peering is None or side is None or peering.link_index is None or \
            peering.status not in PEERING_LINKED:
        return None
    v4, v6 = link_addresses(peering.link_index, requester=side != "requester")
    return (v4 if route.destination_cidr_block else v6).split("/")[0]


def _links(inputs: VpcInputs) -> tuple[PeeringLinkSpec, ...]:
    vpc_id = inputs.vpc.id
    links = []
    for peering in inputs.peerings:
        requester = peering.side_of(vpc_id) == "requester"
        other = peering.other_vpc(vpc_id)
        links.append(PeeringLinkSpec(
            peering.id, names.peering_link(peering.id, vpc_id),
            link_addresses(peering.link_index or 0, requester),
            names.namespace(other), names.peering_link(peering.id, other),
            link_addresses(peering.link_index or 0, not requester), makes=requester))
    return tuple(links)


def _open_enis(vpc: VpcInputs, held: list[NetworkInterface]) -> set[str]:
    """The held ENIs that let traffic in: load balancer nodes always, endpoint ENIs while
    their endpoint is pending or available."""
    open_endpoint_enis = {i for e in vpc.endpoints if e.state in ENDPOINT_LISTENING
                          for i in e.network_interface_ids}
    return {e.id for e in held
            if e.interface_type == "network_load_balancer" or e.id in open_endpoint_enis}


def router(store: Store, inputs: VpcInputs) -> RouterSpec:
    vpc = inputs.vpc
    bridges, routes = [], []
    held = [e for e in inputs.network_interfaces if e.interface_type in ROUTER_HELD]
    for subnet in inputs.subnets:
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
        routes += _routes(store, _table_of(store, subnet, inputs), number)
    resolver = (f"{resolver_address(vpc)}/32", f"{RESOLVER_LINK_LOCAL}/32",
                f"{RESOLVER_IPV6}/128") if vpc.enable_dns_support else ()
    return RouterSpec(vpc.id, names.namespace(vpc.id), tuple(bridges), resolver,
                      (*routes, *NOWHERE), router_ruleset(store, vpc, held, _open_enis(inputs, held)),
                      peerings=_links(inputs))


def resolv_conf(vpc: Vpc, subnet: Subnet, options: dict[str, list[str]]) -> str:
    """What DHCP tells an instance of the VPC's option set, as its resolv.conf: its DNS
    servers (AmazonProvidedDNS is the VPC's resolver) and, as search domains, its domain
    names (AWS takes several, separated by spaces)."""
    amazon = resolver_address(vpc) if subnet.cidr_block else RESOLVER_IPV6
    servers = [amazon if s == AMAZON_PROVIDED_DNS else s
               for s in options.get("domain-name-servers", [])]
    domains = " ".join(options.get("domain-name", [])).split()
    return "".join([f"# DHCP options {vpc.dhcp_options_id} of {vpc.id}, written by pocketlink\n",
                    *(f"nameserver {s}\n" for s in servers),
                    f"search {' '.join(domains)}\n" if domains else "",
                    "options timeout:2 attempts:3\n"])


def _interface_addresses(eni: NetworkInterface, subnet: Subnet) -> list[str]:
    addresses = []
    if eni.private_ip_address and subnet.cidr_block:
        prefix = ipaddress.ip_network(subnet.cidr_block).prefixlen
        addresses.append(f"{eni.private_ip_address}/{prefix}")
        addresses += [f"{a}/{prefix}" for a in eni.secondary_private_ip_addresses]
    if eni.ipv6_addresses and subnet.ipv6_associations:
        prefix = ipaddress.ip_network(subnet.ipv6_associations[0].cidr).prefixlen
        addresses += [f"{a}/{prefix}" for a in eni.ipv6_addresses]
    return addresses


def _attached(store: Store, instance: Instance) -> list[tuple[NetworkInterface, Subnet]]:
    """The ENIs attached to ``instance`` beside its primary one, by device index."""
    found = [(e, s) for e in store.all(NetworkInterface)
             if e.instance_id == instance.id and e.id != instance.network_interface_id
             and e.attachment_id and (s := store.get(Subnet, e.subnet_id)) is not None]
    return sorted(found, key=lambda pair: pair[0].device_index)


def host(store: Store, instance: Instance) -> HostSpec | None:
    eni = store.get(NetworkInterface, instance.network_interface_id)
    subnet = store.get(Subnet, instance.subnet_id)
    vpc = store.get(Vpc, instance.vpc_id)
    if eni is None or subnet is None or vpc is None:
        return None
    addresses = _interface_addresses(eni, subnet)
    attached = _attached(store, instance)
    interfaces = tuple(InterfaceSpec(f"eth{e.device_index}", names.veth(e.id),
                                     names.bridge(s.id), e.mac_address,
                                     tuple(_interface_addresses(e, s))) for e, s in attached)
    return HostSpec(
        instance_id=instance.id, namespace=names.namespace(instance.id),
        router=names.namespace(vpc.id), veth=names.veth(eni.id), bridge=names.bridge(subnet.id),
        mac_address=eni.mac_address, addresses=tuple(addresses),
        gateway4=str(gateway(subnet.cidr_block)) if eni.private_ip_address and
        subnet.cidr_block else None,
        gateway6=str(gateway(subnet.ipv6_associations[0].cidr))
        if eni.ipv6_addresses and subnet.ipv6_associations else None,
        ruleset=ruleset(store, eni, vpc, tuple((i.name, e) for i, (e, _) in
                                               zip(interfaces, attached, strict=True))),
        resolv_conf=resolv_conf(vpc, subnet, options_of(store, vpc)),
        state=instance.state, user_data=instance.user_data, attached=interfaces)


def desired_vpc(store: Store, inputs: VpcInputs) -> VpcTopology:
    hosts = tuple(h for h in (host(store, i) for i in inputs.instances
                              if i.state in INSTANCE_HOSTED) if h is not None)
    return VpcTopology(router(store, inputs), hosts)


def desired(store: Store) -> Topology:
    vpcs = [desired_vpc(store, group) for group in inputs(store).values()]
    return Topology(tuple(v.router for v in vpcs), tuple(h for v in vpcs for h in v.hosts))
