"""The desired network, as plain data computed from the store: no I/O, unit-testable.

A VPC is a router namespace with one bridge per subnet (the subnet's gateway address on
it), a dummy link holding the resolver's addresses, and one routing table per subnet,
chosen by the bridge a packet arrives on; an active VPC peering adds a veth between the two
VPC routers, which routes through the peering name as their next hop (and a transit gateway
attachment a veth between the VPC router and the gateway's, network/transit_gateways.py,
which ``tgw-`` routes name the same way). An instance is a
namespace whose ``eth0`` is one end of a veth pair; the other end is a port of its subnet's
bridge (and each ENI attached beside it is an ``ethN`` the same way, on its own subnet's).
A route table's local route is a ``throw`` route in the subnet's table (the lookup goes on to the router's own
routes, the bridges), so that its default route never takes the VPC's own traffic. The way
to the internet (internet gateways, public addresses, NAT gateways) is network/internet.py's;
a gateway route table (an internet gateway's edge association) is one more kernel table,
chosen for what arrives on the uplink (ingress routing). A route to a virtual private
gateway (``vgw-``, static or propagated) is a blackhole route: a VPN's other end is an
on-premises network pocketlink does not have, and its traffic must not reach any other.

A gateway endpoint's route (S3's or DynamoDB's prefix list, in a subnet's route table) is a
``local`` route of that subnet's kernel table: the prefix list's CIDRs are delivered to the
router itself, where the data plane listens on the service's public address (a
transparent socket: the router holds no such address, so nothing else reaches it) and
hands the connection to the service front (dataplane/plan.py); being more specific than
a default route, it takes them from a NAT or internet gateway. A subnet whose table has no
such route sends those addresses as it sends any other: by its default route, or nowhere.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from pocketlink.model.aws_services import gateway_prefix_lists
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
from pocketlink.model.internet import (
    Address,
    EgressOnlyInternetGateway,
    InternetGateway,
    NatGateway,
)
from pocketlink.model.peering import PEERING_LINKED, VpcPeeringConnection, link_addresses
from pocketlink.model.prefix_lists import ManagedPrefixList, customer_cidrs
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.model.states import (
    ENDPOINT_LISTENING,
    INSTANCE_HOSTED,
    NAT_GATEWAY_HOSTED,
    VpcEndpointState,
)
from pocketlink.model.transit_gateways import (
    LIVE,
    TransitGatewayState,
    TransitGatewayVpcAttachment,
)
from pocketlink.model.transit_gateways import link_addresses as attachment_addresses
from pocketlink.network import names
from pocketlink.network.addresses import (
    METADATA_IPV4,
    METADATA_IPV6,
    RESOLVER_IPV6,
    RESOLVER_LINK_LOCAL,
    gateway,
    resolver_address,
)
from pocketlink.network.firewall import enforcing_balancers, router_ruleset, ruleset
from pocketlink.network.internet import (
    UPLINK_INTERNET,
    UPLINK_INTERNET6,
    UplinkSpec,
    gateway_ruleset,
    nat_gateway_ruleset,
)
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
    local: bool = False  # delivered to the router itself: a gateway endpoint's prefix list
    throw: bool = False  # the local route: look on in the router's own routes


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
    uplink: UplinkSpec | None = None  # its internet gateway's link
    peerings: tuple[PeeringLinkSpec, ...] = ()
    # (link, table): what arrives on ``link`` is routed by ``table``: the gateway route
    # table of the internet gateway, on its uplink (ingress routing)
    ingress: tuple[tuple[str, int], ...] = ()


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
    sysctls: tuple[tuple[str, str], ...] = ()  # beyond every host's (a NAT gateway forwards)
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
    gateways: tuple[HostSpec, ...] = ()  # NAT gateways: hosts that run nothing

    @property
    def vpc_id(self) -> str:
        return self.router.vpc_id

    @property
    def namespaces(self) -> set[str]:
        return {self.router.namespace} | {h.namespace for h in (*self.hosts, *self.gateways)}


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
    internet_gateways: list[InternetGateway] = dataclasses.field(default_factory=list)
    addresses: list[Address] = dataclasses.field(default_factory=list)
    nat_gateways: list[NatGateway] = dataclasses.field(default_factory=list)
    egress_only_gateways: list[EgressOnlyInternetGateway] = dataclasses.field(
        default_factory=list)
    peerings: list[VpcPeeringConnection] = dataclasses.field(default_factory=list)
    attachments: list[TransitGatewayVpcAttachment] = dataclasses.field(default_factory=list)
    # Inputs of the VPC's rules and routes kept elsewhere: the ENIs of peered VPCs (their
    # groups may be named in this VPC's rules) and the account's prefix lists.
    peer_interfaces: list[NetworkInterface] = dataclasses.field(default_factory=list)
    prefix_lists: list[ManagedPrefixList] = dataclasses.field(default_factory=list)
    # The NLBs behind the VPC's endpoints that enforce their inbound rules on PrivateLink
    # traffic, with their groups: the endpoints' chains carry those rules.
    balancers: list[Resource] = dataclasses.field(default_factory=list)

    def members(self) -> tuple[Resource, ...]:
        """Every input, as the objects the store holds: a commit replaces what it changes,
        so the same objects in the same order mean nothing changed (compare with ``is``)."""
        return (self.vpc, *self.subnets, *self.route_tables, *self.network_interfaces,
                *self.instances, *self.security_groups, *self.endpoints,
                *self.internet_gateways, *self.addresses, *self.nat_gateways,
                *self.egress_only_gateways, *self.peerings, *self.attachments,
                *self.peer_interfaces,
                *self.prefix_lists, *self.balancers)


def unchanged(before: tuple[Resource, ...] | None, after: tuple[Resource, ...]) -> bool:
    return before is not None and len(before) == len(after) and \
        all(a is b for a, b in zip(before, after, strict=True))


def inputs(store: Store) -> dict[str, VpcInputs]:
    found = {vpc.id: VpcInputs(vpc) for vpc in store.all(Vpc)}
    for kind, bucket in ((Subnet, "subnets"), (RouteTable, "route_tables"),
                         (NetworkInterface, "network_interfaces"), (Instance, "instances"),
                         (SecurityGroup, "security_groups"), (VpcEndpoint, "endpoints"),
                         (InternetGateway, "internet_gateways"), (Address, "addresses"),
                         (NatGateway, "nat_gateways"),
                         (EgressOnlyInternetGateway, "egress_only_gateways")):
        for resource in store.all(kind):
            group = found.get(resource.vpc_id)  # type: ignore[attr-defined]
            if group is not None:
                getattr(group, bucket).append(resource)
    for peering in store.all(VpcPeeringConnection):
        if peering.status in PEERING_LINKED and peering.link_index is not None:
            for vpc_id in (peering.requester_vpc_id, peering.accepter_vpc_id):
                if vpc_id in found:
                    found[vpc_id].peerings.append(peering)
    for attachment in store.all(TransitGatewayVpcAttachment):
        if attachment.state in LIVE and attachment.vpc_id in found:
            found[attachment.vpc_id].attachments.append(attachment)
    for group in found.values():
        peers = {p.other_vpc(group.vpc.id) for p in group.peerings}
        group.peer_interfaces = [e for p in peers if p in found
                                 for e in found[p].network_interfaces]
    lists = list(store.all(ManagedPrefixList))
    for group in found.values():
        group.prefix_lists = [p for p in lists if p.account == group.vpc.account]
    for group in found.values():
        for endpoint in group.endpoints:
            for balancer in enforcing_balancers(store, endpoint):
                group.balancers += [balancer, *(g for i in balancer.security_group_ids
                                                if (g := store.get(SecurityGroup, i)))]
    # Every account that lists its VPCs has a default VPC, and most never use it: it gets
    # its namespace once something holds an address in it, and loses it when nothing does.
    return {vpc_id: group for vpc_id, group in found.items()
            if group.network_interfaces or not group.vpc.is_default}


def _table_of(store: Store, subnet: Subnet, vpc: VpcInputs) -> RouteTable | None:
    for table in vpc.route_tables:
        if any(a.subnet_id == subnet.id for a in table.associations):
            return table
    return store.get(RouteTable, vpc.vpc.main_route_table_id)


@dataclass(frozen=True)
class GatewayRoute:
    """A subnet whose route table sends a gateway endpoint's prefix list to the endpoint."""

    subnet: Subnet
    endpoint: VpcEndpoint
    cidrs: tuple[str, ...]  # the prefix list's, as DescribePrefixLists shows them


def gateway_routes(store: Store, inputs: VpcInputs) -> list[GatewayRoute]:
    """The VPC's gateway endpoint routes, subnet by subnet: what the router's kernel tables
    and the data plane's gateway listeners are both made from. A route whose endpoint is
    not available (deleting, gone) carries nothing."""
    lists = {p.prefix_list_id: p.cidrs for p in gateway_prefix_lists(inputs.vpc.region)}
    found = []
    for subnet in inputs.subnets:
        table = _table_of(store, subnet, inputs)
        for route in table.routes if table else []:
            cidrs = lists.get(route.destination_prefix_list_id or "")
            endpoint = store.get(VpcEndpoint, route.gateway_id or "") if cidrs else None
            if endpoint is not None and endpoint.endpoint_type == "Gateway" and \
                    endpoint.state == VpcEndpointState.AVAILABLE:
                found.append(GatewayRoute(subnet, endpoint, cidrs))  # type: ignore[arg-type]
    return found


def _gateway_via(inputs: VpcInputs, route: Route) -> str | None:
    """Where a route to an internet, egress-only or NAT gateway goes: the internet
    namespace's end of the VPC's uplink, the NAT gateway's address; None (a blackhole) when
    the gateway is not attached or not up, or the route's family is not the gateway's."""
    if route.destination_ipv6_cidr_block:
        gateway = route.gateway_id or route.egress_only_internet_gateway_id
        there = any(g.id == gateway for g in (*inputs.internet_gateways,
                                              *inputs.egress_only_gateways))
        return UPLINK_INTERNET6 if there else None
    if (route.gateway_id or "").startswith("igw-"):
        attached = any(g.id == route.gateway_id for g in inputs.internet_gateways)
        return UPLINK_INTERNET if attached else None
    nat = next((n for n in inputs.nat_gateways if n.id == route.nat_gateway_id), None)
    if nat is None or nat.state not in NAT_GATEWAY_HOSTED or not nat.addresses:
        return None
    return nat.addresses[0].private_ip


def _routes(store: Store, inputs: VpcInputs, table: RouteTable | None, number: int
            ) -> list[RouteSpec]:
    """The kernel routes of one route table; local routes throw to the bridges' own,
    prefix lists are the gateway endpoints' (``gateway_routes``) or, a customer's, a route
    per block."""
    if table is None:
        return []
    out = []
    for route in _expanded(store, table.routes):
        if not (route.destination_cidr_block or route.destination_ipv6_cidr_block):
            continue
        destination = route.destination_cidr_block or route.destination_ipv6_cidr_block or ""
        if route.gateway_id == "local":
            out.append(RouteSpec(number, destination, throw=True))
            continue
        if (route.gateway_id or "").startswith("igw-") or route.nat_gateway_id or \
                route.egress_only_internet_gateway_id:
            via = _gateway_via(inputs, route)
            out.append(RouteSpec(number, destination, via=via, blackhole=via is None))
            continue
        if (route.gateway_id or "").startswith("vgw-"):
            # A VPN's far side is nowhere here: its routes drop, whatever their state.
            out.append(RouteSpec(number, destination, blackhole=True))
            continue
        if route.transit_gateway_id:
            via = _gateway_end(inputs, route)
            out.append(RouteSpec(number, destination, via=via, blackhole=via is None))
            continue
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


def _gateway_end(inputs: VpcInputs, route: Route) -> str | None:
    """The next hop of a route to a transit gateway: the gateway router's end of the VPC's
    attachment, once it is available (None: a blackhole)."""
    attachment = next((a for a in inputs.attachments
                       if a.transit_gateway_id == route.transit_gateway_id), None)
    if attachment is None or attachment.state != TransitGatewayState.AVAILABLE:
        return None
    v4, v6 = attachment_addresses(attachment.link_index, gateway=True)
    return (v4 if route.destination_cidr_block else v6).split("/")[0]


def attachment_link(attachment: TransitGatewayVpcAttachment, gateway: bool) -> PeeringLinkSpec:
    """One end of a transit gateway attachment's link: the gateway's router makes the pair
    (as a peering's requester does), the VPC's router keeps its own end."""
    here, there = (attachment.transit_gateway_id, attachment.vpc_id) if gateway else \
        (attachment.vpc_id, attachment.transit_gateway_id)
    return PeeringLinkSpec(
        attachment.id, names.peering_link(attachment.id, here),
        attachment_addresses(attachment.link_index, gateway), names.namespace(there),
        names.peering_link(attachment.id, there),
        attachment_addresses(attachment.link_index, not gateway), makes=gateway)


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
    links += [attachment_link(a, gateway=False) for a in inputs.attachments]
    return tuple(links)


def _open_enis(vpc: VpcInputs, held: list[NetworkInterface]) -> set[str]:
    """The held ENIs that let traffic in: load balancer nodes always, endpoint ENIs while
    their endpoint is pending or available."""
    open_endpoint_enis = {i for e in vpc.endpoints if e.state in ENDPOINT_LISTENING
                          for i in e.network_interface_ids}
    return {e.id for e in held
            if e.interface_type == "network_load_balancer" or e.id in open_endpoint_enis}


def public_mappings(inputs: VpcInputs) -> tuple[tuple[str, str], ...]:
    """(private, public) for every ENI of the VPC with a public address."""
    enis = {e.id: e for e in inputs.network_interfaces}
    found = set()
    for address in inputs.addresses:
        eni = enis.get(address.network_interface_id or "")
        if eni is not None and eni.private_ip_address:
            found.add((address.private_ip_address or eni.private_ip_address, address.public_ip))
    return tuple(sorted(found))


def _uplink(inputs: VpcInputs, internet: str | None) -> UplinkSpec | None:
    """The VPC's link to the internet, while an internet gateway is attached or an
    egress-only one is there (IPv6 out, replies in)."""
    attached = bool(inputs.internet_gateways)
    if internet is None or not (attached or inputs.egress_only_gateways):
        return None
    mappings = public_mappings(inputs) if attached else ()
    blocks = tuple(a.cidr for a in inputs.vpc.ipv6_associations)
    uplink = names.uplink(inputs.vpc.id)
    return UplinkSpec(uplink, names.downlink(inputs.vpc.id), internet, mappings, blocks,
                      gateway_ruleset(uplink, mappings, blocks, inbound_ipv6=attached))


def _edge_table(inputs: VpcInputs) -> tuple[RouteTable, str] | None:
    """The gateway route table of the VPC's attached internet gateway, and the gateway."""
    attached = {g.id for g in inputs.internet_gateways}
    return next(((t, a.gateway_id) for t in inputs.route_tables for a in t.associations
                 if a.gateway_id in attached), None)


def router(store: Store, inputs: VpcInputs, internet: str | None = None) -> RouterSpec:
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
        routes += _routes(store, inputs, _table_of(store, subnet, inputs), number)
    routes += [RouteSpec(names.route_table_number(r.subnet.id), cidr, local=True)
               for r in gateway_routes(store, inputs) for cidr in r.cidrs]
    resolver = (f"{resolver_address(vpc)}/32", f"{RESOLVER_LINK_LOCAL}/32",
                f"{RESOLVER_IPV6}/128") if vpc.enable_dns_support else ()
    uplink = _uplink(inputs, internet)
    if uplink is None:  # no internet here: a route to the gateway leads nowhere
        routes = [RouteSpec(r.table, r.destination, blackhole=True)
                  if r.via in (UPLINK_INTERNET, UPLINK_INTERNET6) else r for r in routes]
    edge = _edge_table(inputs)
    ingress: tuple[tuple[str, int], ...] = ()
    if edge is not None and uplink is not None:
        # Ingress routing: what comes in through the gateway (after its 1:1 NAT) follows
        # the gateway route table: local routes throw to the bridges, the others go to
        # the ENI they name.
        number = names.route_table_number(edge[1])
        routes += _routes(store, inputs, edge[0], number)
        ingress = ((uplink.name, number),)
    return RouterSpec(vpc.id, names.namespace(vpc.id), tuple(bridges), resolver,
                      (*routes, *NOWHERE),
                      router_ruleset(store, vpc, held, _open_enis(inputs, held), inputs.endpoints,
                                     [*inputs.network_interfaces, *inputs.peer_interfaces]),
                      uplink=uplink, peerings=_links(inputs), ingress=ingress)


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


def nat_gateway_host(store: Store, nat: NatGateway) -> HostSpec | None:
    """A NAT gateway's namespace, plugged into its subnet like an instance, forwarding."""
    eni = store.get(NetworkInterface, nat.addresses[0].network_interface_id) \
        if nat.addresses else None
    subnet = store.get(Subnet, nat.subnet_id)
    vpc = store.get(Vpc, nat.vpc_id)
    if eni is None or subnet is None or vpc is None or not eni.private_ip_address \
            or not subnet.cidr_block:
        return None
    prefix = ipaddress.ip_network(subnet.cidr_block).prefixlen
    return HostSpec(
        instance_id=nat.id, namespace=names.namespace(nat.id), router=names.namespace(vpc.id),
        veth=names.veth(eni.id), bridge=names.bridge(subnet.id), mac_address=eni.mac_address,
        addresses=(f"{eni.private_ip_address}/{prefix}",),
        gateway4=str(gateway(subnet.cidr_block)), gateway6=None,
        ruleset=nat_gateway_ruleset(eni.private_ip_address),
        resolv_conf=resolv_conf(vpc, subnet, options_of(store, vpc)),
        state="", sysctls=(("net/ipv4/ip_forward", "1"),))


def desired_vpc(store: Store, inputs: VpcInputs, internet: str | None = None) -> VpcTopology:
    """``internet``: the internet namespace, where internet gateways lead (none: they lead
    nowhere, as in tests of the router alone)."""
    hosts = tuple(h for h in (host(store, i) for i in inputs.instances
                              if i.state in INSTANCE_HOSTED) if h is not None)
    gateways = tuple(g for g in (nat_gateway_host(store, n) for n in inputs.nat_gateways
                                 if n.state in NAT_GATEWAY_HOSTED) if g is not None)
    return VpcTopology(router(store, inputs, internet), hosts, gateways)


def desired(store: Store) -> Topology:
    vpcs = [desired_vpc(store, group) for group in inputs(store).values()]
    return Topology(tuple(v.router for v in vpcs), tuple(h for v in vpcs for h in v.hosts))
