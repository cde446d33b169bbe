"""A transit gateway's router, as plain data: a namespace of its own (``pl-tgw-...``)
that the VPC routers reach over one veth pair per attachment, routing by its route tables.

It is a ``RouterSpec`` with no subnets: each attachment is a link it makes to the VPC's
router (a ``PeeringLinkSpec`` with ``makes``, the same veth pair a peering makes), and each
route table is a kernel table, chosen for what arrives on a link by the attachment's
association (``ingress``: ``ip rule iif <link> lookup <table>``). A table holds its
propagating attachments' VPC blocks and its static routes (a static one wins, a blackhole
drops); an attachment with no association, or a destination no route takes, falls to the
main table, where ``NOWHERE`` drops it silently as a VPC router does.

The VPC routers' side (their end of each link, their routes to a ``tgw-`` target) is
network/topology.py's, beside their peerings.
"""

from __future__ import annotations

from pocketlink.model.ec2 import Vpc
from pocketlink.model.transit_gateways import (
    LIVE,
    TransitGateway,
    TransitGatewayRouteTable,
    TransitGatewayVpcAttachment,
    link_addresses,
)
from pocketlink.network import names
from pocketlink.network.firewall import router_ruleset
from pocketlink.network.topology import NOWHERE, RouterSpec, RouteSpec, attachment_link
from pocketlink.store import Store

# The attachments a router holds a link for: made while pending, used while available.
LINKED = LIVE


def _table_routes(store: Store, table: TransitGatewayRouteTable,
                  linked: dict[str, TransitGatewayVpcAttachment]) -> list[RouteSpec]:
    number = names.route_table_number(table.id)
    routes = {}
    for attachment_id in table.propagations:
        attachment = linked.get(attachment_id)
        vpc = store.get(Vpc, attachment.vpc_id) if attachment else None
        if attachment is None or vpc is None:
            continue
        v4, v6 = (a.split("/")[0] for a in link_addresses(attachment.link_index, False))
        for block in vpc.cidr_associations:
            routes[block.cidr] = RouteSpec(number, block.cidr, via=v4)
        if attachment.ipv6_support == "enable":
            for block in vpc.ipv6_associations:
                routes[block.cidr] = RouteSpec(number, block.cidr, via=v6)
    for route in table.routes:
        destination = route.destination_cidr_block
        attachment = linked.get(route.attachment_id or "")
        if route.blackhole or attachment is None:
            routes[destination] = RouteSpec(number, destination, blackhole=True)
            continue
        v4, v6 = (a.split("/")[0] for a in link_addresses(attachment.link_index, False))
        routes[destination] = RouteSpec(number, destination, via=v6 if ":" in destination
                                        else v4)
    return list(routes.values())


def gateway_router(store: Store, gateway: TransitGateway) -> RouterSpec:
    linked = {a.id: a for a in store.all(TransitGatewayVpcAttachment)
              if a.transit_gateway_id == gateway.id and a.state in LINKED
              and store.get(Vpc, a.vpc_id) is not None}
    tables = [t for t in store.all(TransitGatewayRouteTable)
              if t.transit_gateway_id == gateway.id and t.state in LINKED]
    routes = [r for t in tables for r in _table_routes(store, t, linked)]
    links = tuple(attachment_link(a, gateway=True) for a in linked.values())
    by_name = {link.peering_id: link.name for link in links}
    ingress = tuple((by_name[i], names.route_table_number(t.id)) for t in tables
                    for i in t.associations if i in by_name)
    # No ENI of its own: the router ruleset with nothing to guard (its input accepts; the
    # security groups that matter are the instances').
    return RouterSpec(gateway.id, names.namespace(gateway.id), (), (), (*routes, *NOWHERE),
                      router_ruleset(store, None, [], set()),  # type: ignore[arg-type]
                      metadata_addresses=(), peerings=links, ingress=ingress)


def gateways_wanted(store: Store) -> list[TransitGateway]:
    """The gateways that have a router: every one not being deleted."""
    return [g for g in store.all(TransitGateway) if g.state in LINKED]
