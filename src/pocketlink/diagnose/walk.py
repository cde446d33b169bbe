"""The hops from an instance to what a name reaches, each with its verdict, from the store
alone: what the firewall renders and what the data plane plans (dataplane/plan.py) are
both computed from the same store, so the walk sees what traffic meets.

Through an interface endpoint: the instance, the faults injected on the way, the
instance's IPv6 address for an IPv6 destination, its security groups' egress, the route,
the endpoint's state, its security groups' ingress, the service (its state, the
consumer's permission; an AWS service's endpoint policy), the NLB's node in the
endpoint's zone, the NLB's security groups' ingress (on the consumer client's own address,
while the NLB enforces them on PrivateLink traffic), the listener on the port, the target
group, cross-zone, the targets' faults, target health, the NLB's security groups' egress
to the targets, the targets' security groups (from the NLB node's address, the source
targets see), proxy protocol v2. To an NLB itself (its
name, or a node's address): its security groups' ingress from the client, then the
listener and the targets as above. To an instance of the same or a peered VPC: the
egress, the route (and, through a peering, the return route) and the other instance's
ingress. What the store cannot know, whether a process listens on the target's port, the
daemon adds (listening.py) and the probe finds out. Each hop names the component it looked
at, which the Reachability Analyzer API (api/ec2_network_insights.py) describes.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field

from pocketlink.dataplane.plan import CARRIED, target_address
from pocketlink.diagnose import injected, routes
from pocketlink.diagnose.groups import allows, describe, rule_group
from pocketlink.diagnose.names import Fix, Resolution, resolve
from pocketlink.model.ec2 import Instance, NetworkInterface, Subnet, Vpc
from pocketlink.model.elbv2 import Listener, LoadBalancer, LoadBalancerNode, TargetGroup
from pocketlink.model.faults import OWNER
from pocketlink.model.privatelink import DEFAULT_POLICY, EndpointService, VpcEndpoint
from pocketlink.model.states import InstanceState
from pocketlink.network.firewall import enforcing_balancers
from pocketlink.policy import MalformedPolicy, parse_endpoint_policy
from pocketlink.store import Store

OK, FAIL, NOTE = "ok", "FAIL", "note"


@dataclass(frozen=True)
class Hop:
    name: str  # "endpoint SG ingress"
    verdict: str  # ok | FAIL | note
    detail: str
    fix: Fix | None = None
    component: str | None = None  # the id (or ARN) of what the hop looked at


@dataclass
class Diagnosis:
    source: str  # the instance id
    to: str  # the name asked for
    port: int
    resolution: Resolution | None = None
    hops: list[Hop] = field(default_factory=list)
    # The instances (and ports) the flow ends at, for what only the kernel knows
    # (listening.py: whether a process listens there).
    targets: list[tuple[str, int]] = field(default_factory=list)

    @property
    def address(self) -> str | None:
        return self.resolution.address if self.resolution else None

    @property
    def failure(self) -> Hop | None:
        """The first failing hop: the one to fix first."""
        return next((h for h in self.hops if h.verdict == FAIL), None)

    @property
    def reachable(self) -> bool:
        return self.failure is None


def _vpc_cidrs(vpc: Vpc) -> list[str]:
    return list(dict.fromkeys([vpc.cidr_block, *(a.cidr for a in vpc.cidr_associations),
                               *(a.cidr for a in vpc.ipv6_associations)]))


def _within(address: str, cidrs: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == (n := ipaddress.ip_network(c, strict=False)).version and ip in n
               for c in cidrs if c)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _eni_of(store: Store, vpc_id: str, address: str) -> NetworkInterface | None:
    return next((e for e in store.all(NetworkInterface) if e.vpc_id == vpc_id and (
        e.private_ip_address == address or address in e.ipv6_addresses)), None)


def _zone_id(store: Store, subnet_id: str) -> str | None:
    subnet = store.get(Subnet, subnet_id)
    return subnet.availability_zone_id if subnet else None


def _groups_at(store: Store, address: str) -> list[str]:
    """The groups of every ENI that holds ``address``: those a rule naming a group matches,
    as the firewall renders a group reference (its members' addresses)."""
    return [g for e in store.all(NetworkInterface) if address in (
        e.private_ip_address, *e.secondary_private_ip_addresses, *e.ipv6_addresses)
        for g in e.group_ids]


def _subnet_in(store: Store, vpc_id: str, zone: str | None) -> str:
    """A subnet of ``vpc_id`` in ``zone`` (a zone id), or the placeholder for one to make."""
    return next((s.id for s in store.all(Subnet)
                 if s.vpc_id == vpc_id and s.availability_zone_id == zone),
                f"SUBNET_IN_{zone}")


def _cross_zone(balancer: LoadBalancer, group: TargetGroup) -> tuple[bool, str]:
    """On or off, and where that was decided (the group may defer to its balancer)."""
    value = group.attributes.get("load_balancing.cross_zone.enabled",
                                 "use_load_balancer_configuration")
    if value == "use_load_balancer_configuration":
        return (balancer.attributes.get("load_balancing.cross_zone.enabled") == "true",
                "the load balancer's attribute")
    return value == "true", "the target group's attribute"


class _Walk:
    """One diagnosis being written: each step appends its hop and says whether to go on."""

    def __init__(self, store: Store, diagnosis: Diagnosis, instance: Instance) -> None:
        self.store = store
        self.d = diagnosis
        self.instance = instance
        self.region = f"--region {instance.region}"

    def hop(self, name: str, verdict: str, detail: str, fix: Fix | None = None,
            component: str | None = None) -> bool:
        self.d.hops.append(Hop(name, verdict, detail, fix, component))
        return verdict != FAIL

    def faults(self, targets: list[str], subnets: list[str]) -> bool:
        """The faults this hop meets: the first that breaks the path fails it; latency and
        loss are notes."""
        found = injected.faults_on(self.store, targets, subnets)
        broken = next((f for f in found if f.action in injected.BREAKS), None)
        if broken is not None:
            return self.hop("fault", FAIL, injected.words(broken),
                            Fix(OWNER, f"pocketlink fault clear {broken.id}"),
                            component=broken.target)
        for fault in found:
            self.hop("fault", NOTE, injected.words(fault), component=fault.target)
        return True

    def family(self, address: str) -> bool:
        """An IPv6 destination needs an IPv6 address of the instance's own."""
        if ":" not in address or self.instance.ipv6_addresses:
            return True
        return self.hop(
            "instance IPv6", FAIL, f"{address} is IPv6 and {self.instance.id} has no IPv6 "
            "address: it has no route to it and no source address for it",
            Fix(self.instance.account, f"aws ec2 assign-ipv6-addresses --network-interface-id "
                f"{self.instance.network_interface_id} --ipv6-address-count 1 {self.region}"),
            component=self.instance.network_interface_id)

    def egress(self, address: str) -> bool:
        port = self.d.port
        rule = allows(self.store, self.instance.group_ids, True, address, port)
        if rule is not None:
            return self.hop("instance SG egress", OK, f"tcp/{port} to {address}: {describe(rule)}",
                            component=rule_group(self.store, self.instance.group_ids, rule))
        group = self.instance.group_ids[0] if self.instance.group_ids else "sg-..."
        width = 32 if ":" not in address else 128
        kind = "CidrIp" if width == 32 else "CidrIpv6"
        family = "IpRanges" if width == 32 else "Ipv6Ranges"
        return self.hop(
            "instance SG egress", FAIL,
            f"no outbound rule of {', '.join(self.instance.group_ids)} allows tcp/{port} "
            f"to {address}",
            Fix(self.instance.account, f"aws ec2 authorize-security-group-egress --group-id "
                f"{group} --ip-permissions IpProtocol=tcp,FromPort={port},ToPort={port},"
                f"{family}=[{{{kind}={address}/{width}}}] {self.region}"), component=group)

    def route(self, vpc: Vpc, address: str) -> Vpc | None:
        """The VPC that holds ``address``, or None: the walk ends here, at a failure or at
        a gateway to what diagnose does not walk (the internet)."""
        if _within(address, _vpc_cidrs(vpc)):
            self.hop("route", OK, f"{address} is inside {vpc.id} "
                     f"({', '.join(c for c in _vpc_cidrs(vpc) if c)}): the local route",
                     component=vpc.id)
            return vpc
        found = routes.match(self.store, self.instance.subnet_id, vpc, address)
        table = found.table.id if found.table else vpc.main_route_table_id
        if found.route is None:
            via = routes.exit_for(self.store, vpc, address)
            width = "ipv6-cidr-block" if ":" in address else "cidr-block"
            cidr = f"{address}/{128 if ':' in address else 32}"
            peered = routes.peered_vpc(self.store, vpc, address)
            if peered is not None:
                cidr = peered[1].cidr_block if ":" not in address else cidr
            self.hop("route", FAIL, f"{table} has no route that covers {address} (outside "
                     f"{vpc.id}): the packet is dropped",
                     Fix(vpc.account, f"aws ec2 create-route --route-table-id {table} "
                         f"--destination-{width} {cidr} {via or '--gateway-id GATEWAY_ID'} "
                         f"{self.region}"), component=table)
            return None
        route, target = found.route, routes.target_of(found.route)
        if target.startswith("vgw-"):  # the VPC router drops it (docs/vpn.md)
            self.hop("route", FAIL, f"{table}: {found.cidr} via {target}, a virtual private "
                     "gateway: pocketlink has no on-premises network, the packet is dropped",
                     component=table)
            return None
        if route.state != "active":
            self.hop("route", FAIL, f"{table}: {found.cidr} via {target} is {route.state}: "
                     "its target is gone or down", component=table)
            return None
        if route.vpc_peering_connection_id:
            peered = routes.peered_vpc(self.store, vpc, address)
            if peered is None or peered[0].id != route.vpc_peering_connection_id:
                self.hop("route", FAIL, f"{table}: {found.cidr} via {target}, which is not "
                         f"active or does not join {vpc.id} to a VPC that holds {address}",
                         component=table)
                return None
            self.hop("route", OK, f"{table}: {found.cidr} via {target} to {peered[1].id}",
                     component=table)
            return peered[1]
        self.hop("route", OK, f"{table}: {found.cidr} via {target}", component=table)
        self.hop("destination", NOTE, f"{address} is beyond {vpc.id}: diagnose walks no "
                 f"further than {target}", component=target)
        return None

    def return_route(self, vpc: Vpc, eni: NetworkInterface, source: str) -> bool:
        """The reply's route, from the destination's subnet in a peered VPC."""
        found = routes.match(self.store, eni.subnet_id, vpc, source)
        table = found.table.id if found.table else vpc.main_route_table_id
        peered = routes.peered_vpc(self.store, vpc, source)
        if found.route is not None and found.route.vpc_peering_connection_id and \
                peered is not None and peered[0].id == found.route.vpc_peering_connection_id:
            return self.hop("return route", OK, f"{table}: {found.cidr} via "
                            f"{found.route.vpc_peering_connection_id}", component=table)
        home = self.store.get(Vpc, self.instance.vpc_id)
        cidr = home.cidr_block if home and ":" not in source else f"{source}/128"
        width = "ipv6-cidr-block" if ":" in source else "cidr-block"
        return self.hop(
            "return route", FAIL, f"{table} of {eni.subnet_id} has no route back to {source} "
            "through the peering: the reply is dropped",
            Fix(vpc.account, f"aws ec2 create-route --route-table-id {table} "
                f"--destination-{width} {cidr} --vpc-peering-connection-id "
                f"{peered[0].id if peered else 'PCX_ID'} {self.region}"), component=table)

    def endpoint(self, endpoint: VpcEndpoint, eni: NetworkInterface) -> None:
        if not self._endpoint_state(endpoint) or not self._endpoint_ingress(endpoint, eni):
            return
        service = self.store.get(EndpointService, endpoint.service_id or "")
        if service is None:
            self.hop("service", FAIL if endpoint.service_id else NOTE,
                     f"{endpoint.service_name}: " + (
                         "no such endpoint service any more" if endpoint.service_id else
                         "an AWS service, answered by pocketlink's service front on port 443"),
                         component=endpoint.service_id or endpoint.service_name)
            if not endpoint.service_id:
                self._policy(endpoint)
            return
        if not self._service(endpoint, service):
            return
        for arn in service.network_load_balancer_arns:
            balancer = self.store.get(LoadBalancer, arn)
            if balancer is None:
                self.hop("NLB", FAIL, f"{arn} no longer exists", component=arn)
                return
            node = self._zone(endpoint, eni, balancer)
            if node is None or not self._privatelink_ingress(endpoint, eni, balancer):
                return
            self._balancer(balancer, node)
            return

    def _policy(self, endpoint: VpcEndpoint) -> None:
        """An endpoint policy never stops a connection: it answers a request it does not
        allow with the service's AccessDenied (gateway/endpoint_policy.py). So it is a note,
        the one to read when the connection works and the call is refused."""
        document = endpoint.policy_document
        try:
            if document is None or json.loads(document) == json.loads(DEFAULT_POLICY):
                self.hop("endpoint policy", OK, "full access (the default policy)",
                         component=endpoint.id)
                return
            policy = parse_endpoint_policy(document)
        except (ValueError, MalformedPolicy) as error:
            self.hop("endpoint policy", NOTE, f"not a valid endpoint policy ({error}): it "
                     "allows nothing, every request gets AccessDenied", component=endpoint.id)
            return
        effects = [s.effect for s in policy.statements]
        self.hop("endpoint policy", NOTE,
                 f"a policy of its own ({effects.count('Allow')} Allow, "
                 f"{effects.count('Deny')} Deny): the connection works, and a request it "
                 "does not allow gets the service's AccessDenied", component=endpoint.id)

    def _endpoint_state(self, endpoint: VpcEndpoint) -> bool:
        state = endpoint.state
        if state == "available":
            return self.hop("endpoint state", OK, f"{endpoint.id} is available",
                            component=endpoint.id)
        if state == "pending":
            return self.hop("endpoint state", NOTE, f"{endpoint.id} is pending: its listeners "
                            "are being bound", component=endpoint.id)
        if state == "pendingAcceptance":
            service = self.store.get(EndpointService, endpoint.service_id or "")
            owner = service.account if service else endpoint.service_owner
            return self.hop(
                "endpoint state", FAIL, f"{endpoint.id} is pendingAcceptance: the provider "
                f"({owner}) has not accepted it, and until then its ENIs carry nothing",
                Fix(owner, f"aws ec2 accept-vpc-endpoint-connections --service-id "
                    f"{endpoint.service_id} --vpc-endpoint-ids {endpoint.id} {self.region}"),
                    component=endpoint.id)
        if state == "rejected":
            return self.hop(
                "endpoint state", FAIL, f"{endpoint.id} was rejected by the provider; a "
                "rejected endpoint cannot be accepted again: delete it and ask anew",
                Fix(endpoint.account, f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids "
                    f"{endpoint.id} {self.region}"), component=endpoint.id)
        reason = f" ({endpoint.last_error.code}: {endpoint.last_error.message})" \
            if endpoint.last_error else ""
        return self.hop("endpoint state", FAIL, f"{endpoint.id} is {state}{reason}",
                        component=endpoint.id)

    def _endpoint_ingress(self, endpoint: VpcEndpoint, eni: NetworkInterface) -> bool:
        port, source = self.d.port, self._source_address(eni)
        rule = allows(self.store, eni.group_ids, False, source, port, self.instance.group_ids)
        if rule is not None:
            return self.hop("endpoint SG ingress", OK,
                            f"tcp/{port} from {source}: {describe(rule)}",
                            component=rule_group(self.store, eni.group_ids, rule))
        group = eni.group_ids[0] if eni.group_ids else "sg-..."
        peer = (f"--source-group {self.instance.group_ids[0]}" if self.instance.group_ids
                else f"--cidr {source}/32")
        return self.hop(
            "endpoint SG ingress", FAIL,
            f"no inbound rule of {endpoint.id}'s groups ({', '.join(eni.group_ids)}) allows "
            f"tcp/{port} from {source} ({', '.join(self.instance.group_ids)}): the SYN is "
            "dropped and the client hangs",
            Fix(endpoint.account, f"aws ec2 authorize-security-group-ingress --group-id "
                f"{group} --protocol tcp --port {port} {peer} {self.region}"), component=group)

    def _source_address(self, eni: NetworkInterface) -> str:
        if eni.private_ip_address and ":" not in (self.d.address or ""):
            return self.instance.private_ip_address or ""
        return self.instance.ipv6_addresses[0] if self.instance.ipv6_addresses else ""

    def source_for(self, address: str) -> str:
        """The instance's address of ``address``'s family: the source its packets carry."""
        if ":" not in address:
            return self.instance.private_ip_address or ""
        return self.instance.ipv6_addresses[0] if self.instance.ipv6_addresses else ""

    def _service(self, endpoint: VpcEndpoint, service: EndpointService) -> bool:
        if service.state != "Available":
            return self.hop("service", FAIL, f"{service.id} is {service.state}",
                            component=service.id)
        allowed = [p.principal for p in service.allowed_principals]
        account = f"arn:aws:iam::{endpoint.account}:root"
        acceptance = "acceptance required" if service.acceptance_required else "auto-accept"
        if "*" in allowed or account in allowed or endpoint.account == service.account:
            return self.hop("service", OK, f"{service.id} Available, {acceptance}; "
                            f"{endpoint.account} is allowed", component=service.id)
        return self.hop("service", NOTE, f"{service.id} Available, {acceptance}; "
                        f"{endpoint.account} is no longer an allowed principal: this endpoint "
                        "keeps its connection, a new one would be refused", component=service.id)

    def _zone(self, endpoint: VpcEndpoint, eni: NetworkInterface, balancer: LoadBalancer
              ) -> LoadBalancerNode | None:
        zone = _zone_id(self.store, eni.subnet_id)
        node = next((n for n in balancer.nodes if _zone_id(self.store, n.subnet_id) == zone),
                    None)
        zones = sorted(z for n in balancer.nodes if (z := _zone_id(self.store, n.subnet_id)))
        if node is not None:
            self.hop("zone", OK, f"{eni.id} is in {zone} ({eni.availability_zone}); "
                     f"{balancer.name} has a node there ({node.private_ipv4_address or ''}"
                     f"{' ' if node.private_ipv4_address and node.ipv6_address else ''}"
                     f"{node.ipv6_address or ''})", component=balancer.id)
            return node
        # The consumer's move (which pocketlink serves): the endpoint leaves this zone for
        # one the service offers, unless it is there already.
        held = {_zone_id(self.store, s) for s in endpoint.subnet_ids}
        offered = next((z for z in zones if z not in held), None)
        add = f"--add-subnet-ids {_subnet_in(self.store, endpoint.vpc_id, offered)} " \
            if offered else ""
        self.hop("zone", FAIL, f"{eni.id} is in {zone}, where {balancer.name} has no node "
                 f"(its zones: {', '.join(zones)}): an endpoint ENI reaches only the node of "
                 f"its own zone; or the provider adds a subnet in {zone} to {balancer.name} "
                 "(aws elbv2 set-subnets, which pocketlink does not serve)",
                 Fix(endpoint.account, f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id "
                     f"{endpoint.id} {add}--remove-subnet-ids {eni.subnet_id} {self.region}"),
                 component=endpoint.id)
        return None

    def _privatelink_ingress(self, endpoint: VpcEndpoint, eni: NetworkInterface,
                             balancer: LoadBalancer) -> bool:
        """An endpoint's flows pass the inbound rules of every NLB of its service that
        enforces them on PrivateLink traffic (firewall.py's ``enforcing_balancers``), on
        the consumer client's own address, "not the endpoint interface"."""
        enforcing = enforcing_balancers(self.store, endpoint)
        if not enforcing:
            why = "has no security groups" if not balancer.security_group_ids else \
                "does not enforce its inbound rules on PrivateLink traffic " \
                "(EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic off)"
            return self.hop("NLB SG ingress", OK, f"{balancer.name} {why}: the endpoint's "
                            "groups alone filter PrivateLink traffic", component=balancer.id)
        groups = list(dict.fromkeys(g for b in enforcing for g in b.security_group_ids))
        source = self._source_address(eni)
        off = (f"; or, to filter PrivateLink traffic by the endpoint's groups alone: aws elbv2 "
               f"set-security-groups --load-balancer-arn {balancer.id} --security-groups "
               f"{' '.join(balancer.security_group_ids)} "
               f"--enforce-security-group-inbound-rules-on-private-link-traffic off "
               f"{self.region}")
        # A group named there admits the client if it is a member itself: another ENI with
        # the same address (a provider's VPC may share the consumer's CIDR) is not the client.
        client = self.store.get(NetworkInterface, self.instance.network_interface_id or "")
        return self._balancer_ingress(balancer, groups, source, "PrivateLink traffic is "
                                      "checked on the consumer client's own address", off,
                                      client.group_ids if client is not None else [])

    def _balancer_ingress(self, balancer: LoadBalancer, groups: list[str], source: str,
                          why: str = "", alternative: str = "",
                          client_groups: list[str] | None = None) -> bool:
        """Whether ``groups`` (the NLB's) let the client at ``source`` (in ``client_groups``,
        by default those of every ENI with that address) in. A group named by a rule stands
        for its members' addresses, as the firewall renders it."""
        port = self.d.port
        rule = allows(self.store, groups, False, source, port, _groups_at(self.store, source)
                      if client_groups is None else client_groups)
        if rule is not None:
            return self.hop("NLB SG ingress", OK, f"tcp/{port} from {source}: "
                            f"{describe(rule)}", component=rule_group(self.store, groups, rule))
        option = f"--ip-permissions IpProtocol=tcp,FromPort={port},ToPort={port}," \
            f"Ipv6Ranges=[{{CidrIpv6={source}/128}}]" if ":" in source \
            else f"--protocol tcp --port {port} --cidr {source}/32"
        return self.hop(
            "NLB SG ingress", FAIL, f"no inbound rule of {balancer.name}'s groups "
            f"({', '.join(groups)}) allows tcp/{port} from {source}"
            f"{f' ({why})' if why else ''}: the SYN is dropped and the client hangs"
            f"{alternative}",
            Fix(balancer.account, f"aws ec2 authorize-security-group-ingress --group-id "
                f"{groups[0]} {option} {self.region}"), component=groups[0])

    def balancer_node(self, eni: NetworkInterface, address: str) -> None:
        """Straight to an NLB's node: its groups' inbound rules see the client itself (an
        NLB without groups admits every client), then its listener and targets."""
        balancer = next((b for b in self.store.all(LoadBalancer) if any(
            n.network_interface_id == eni.id for n in b.nodes)), None)
        node = next((n for n in balancer.nodes if n.network_interface_id == eni.id),
                    None) if balancer else None
        if balancer is None or node is None:
            self.hop("destination", FAIL, f"{address} is {eni.id}, which belongs to no load "
                     "balancer any more", component=eni.id)
            return
        self.hop("destination", OK, f"{address} is {balancer.name}'s node in "
                 f"{node.availability_zone} ({eni.id})", component=balancer.id)
        if not self.faults([], [eni.subnet_id]):
            return
        if balancer.security_group_ids:
            if not self._balancer_ingress(balancer, balancer.security_group_ids,
                                          self.source_for(address)):
                return
        else:
            self.hop("NLB SG ingress", OK, f"{balancer.name} has no security groups: it "
                     "admits every client", component=balancer.id)
        self._balancer(balancer, node)

    def _balancer(self, balancer: LoadBalancer, node: LoadBalancerNode) -> None:
        port = self.d.port
        listeners = [x for x in self.store.all(Listener) if x.load_balancer_arn == balancer.id]
        listener = next((x for x in listeners if x.port == port), None)
        if listener is None:
            ports = ", ".join(f"{x.protocol}:{x.port}" for x in listeners) or "none"
            nearest = sorted(listeners, key=lambda x: abs(x.port - port))[:2]
            if len(nearest) == 1 or (nearest and abs(nearest[0].port - port) <
                                     abs(nearest[1].port - port)):
                # A port off by a little is the commonest slip: move that listener.
                fix = (f"aws elbv2 modify-listener --listener-arn {nearest[0].id} "
                       f"--port {port} {self.region}")
            else:
                fix = (f"aws elbv2 create-listener --load-balancer-arn {balancer.id} "
                       f"--protocol TCP --port {port} --default-actions "
                       f"Type=forward,TargetGroupArn="
                       f"{listeners[0].target_group_arn if listeners else 'TARGET_GROUP_ARN'} "
                       f"{self.region}")
            self.hop("NLB listener", FAIL, f"{balancer.name} has no listener on port {port} "
                     f"(its listeners: {ports}): the endpoint listens only on its NLB's "
                     "listener ports", Fix(balancer.account, fix), component=balancer.id)
            return
        if listener.protocol not in CARRIED:
            self.hop("NLB listener", FAIL, f"{listener.protocol}:{port}: pocketlink carries "
                     f"{' and '.join(CARRIED)} listeners only", component=listener.id)
            return
        self.hop("NLB listener", OK, f"{listener.protocol}:{port} on {balancer.name}",
                 component=listener.id)
        group = self.store.get(TargetGroup, listener.target_group_arn)
        if group is None:
            self.hop("target group", FAIL, f"{listener.target_group_arn} no longer exists",
                     component=listener.id)
            return
        self._targets(balancer, group, node)

    def _targets(self, balancer: LoadBalancer, group: TargetGroup,
                 node: LoadBalancerNode) -> None:
        registered = [t for t in group.targets if t.deregistered is None]
        if not registered:
            # Those still draining are the ones it had: registering them again takes them
            # back at once; otherwise the target to register is the provider's to name.
            draining = [f"Id={t.id},Port={t.port}" for t in group.targets]
            self.hop("target group", FAIL, f"{group.name} has no registered target" + (
                f" ({len(draining)} draining)" if draining else ""),
                     Fix(group.account, f"aws elbv2 register-targets --target-group-arn "
                         f"{group.id} --targets {' '.join(draining) or 'Id=TARGET'} "
                         f"{self.region}"), component=group.id)
            return
        self.hop("target group", OK, f"{group.name}: {len(registered)} target(s), "
                 f"{group.protocol}, health check {group.health_check_protocol}",
                 component=group.id)
        on, where = _cross_zone(balancer, group)
        zoned = [t for t in registered if on or t.availability_zone in
                 (node.availability_zone, "all")]
        if not zoned:
            self.hop("cross-zone", FAIL, f"off ({where}) and no target in "
                     f"{node.availability_zone}, the zone of the node the flow reaches",
                     Fix(balancer.account, f"aws elbv2 modify-load-balancer-attributes "
                         f"--load-balancer-arn {balancer.id} --attributes "
                         f"Key=load_balancing.cross_zone.enabled,Value=true {self.region}"),
                         component=balancer.id)
            return
        self.hop("cross-zone", OK, f"{'on' if on else 'off'} ({where}): {len(zoned)} "
                 f"target(s) for the node in {node.availability_zone}", component=balancer.id)
        if not self._targets_answer(group, zoned):
            return
        for target in zoned:
            address = target_address(self.store, group, target.id)
            eni = _eni_of(self.store, group.vpc_id or "", address) if address else None
            if eni is not None and eni.instance_id:
                self.d.targets.append((eni.instance_id, target.port))
        source = node.ipv6_address if group.ip_address_type == "ipv6" \
            else node.private_ipv4_address
        blocked = self._balancer_egress(balancer, group, zoned) or \
            self._target_groups_block(group, zoned, source or "")
        healthy = [t for t in zoned if t.health == "healthy"]
        states = ", ".join(f"{t.id}:{t.port} {t.health}"
                           f"{f' ({t.health_reason})' if t.health_reason else ''}" for t in zoned)
        if not group.health_check_enabled:
            self.hop("target health", NOTE, f"{states}: health checks are off, every target "
                     "gets flows", component=group.id)
        elif healthy:
            self.hop("target health", OK, states, component=group.id)
        elif all(t.health == "initial" for t in zoned):
            self.hop("target health", NOTE, f"{states}: not checked yet", component=group.id)
        else:
            fix = blocked[2] if blocked else None
            self.hop("target health", FAIL, f"{states}; with no healthy target the NLB fails "
                     "open and still sends flows to them" + (
                         "" if blocked else ": is a process listening on the target's port?"),
                     fix, component=group.id)
        if blocked:
            self.hop(blocked[0], FAIL, blocked[1], blocked[2], component=blocked[3])
        else:
            if balancer.security_group_ids:
                self.hop("NLB SG egress", OK, f"{balancer.name}'s groups let tcp out to "
                         "every target", component=balancer.security_group_ids[0])
            self.hop("target SG ingress", OK, f"every target admits tcp from {source}, the "
                     "NLB node's address (the source targets see)",
                     component=self._target_group_of(group, zoned) or group.id)
        if group.attributes.get("proxy_protocol_v2.enabled") == "true":
            self.hop("proxy protocol v2", NOTE, "on: every connection starts with a PROXY v2 "
                     "header; the target must parse it (Apache: RemoteIPProxyProtocol On), or "
                     "it sees garbage before the request", component=group.id)
        else:
            self.hop("proxy protocol v2", OK, "off: the target sees the NLB node's address",
                     component=group.id)

    def _targets_answer(self, group: TargetGroup, targets: list) -> bool:
        """Whether a fault leaves some target answering (a note names the others')."""
        broken = []
        for target in targets:
            address = target_address(self.store, group, target.id)
            eni = _eni_of(self.store, group.vpc_id or "", address) if address else None
            names = [target.id, *([eni.id, eni.instance_id or ""] if eni else [])]
            faults = [f for f in injected.faults_on(self.store, names,
                                                     [eni.subnet_id] if eni else [])
                      if f.action in injected.BREAKS]
            broken += faults[:1]
        if not broken:
            return True
        if len(broken) < len(targets):
            return self.hop("fault", NOTE, "; ".join(map(injected.words, broken)) +
                            ": the other targets answer", component=group.id)
        return self.hop("fault", FAIL, "; ".join(map(injected.words, broken)),
                        Fix(OWNER, " && ".join(f"pocketlink fault clear {f.id}"
                                               for f in broken)), component=group.id)

    def _target_group_of(self, group: TargetGroup, targets: list) -> str | None:
        """The first security group of the first target with an ENI here."""
        for target in targets:
            address = target_address(self.store, group, target.id)
            eni = _eni_of(self.store, group.vpc_id or "", address) if address else None
            if eni is not None and eni.group_ids:
                return eni.group_ids[0]
        return None

    def _balancer_egress(self, balancer: LoadBalancer, group: TargetGroup, targets: list
                         ) -> tuple[str, str, Fix, str] | None:
        """The first target the NLB's outbound rules do not reach: its flows and its health
        checks leave the nodes through them ("subject to outbound rules, not inbound
        rules"). The hop, why, the fix and the group to fix."""
        groups = balancer.security_group_ids
        for target in targets if groups else []:
            address = target_address(self.store, group, target.id)
            if address is None or allows(self.store, groups, True, address, target.port,
                                         _groups_at(self.store, address)) is not None:
                continue
            family, kind, width = ("Ipv6Ranges", "CidrIpv6", 128) if ":" in address \
                else ("IpRanges", "CidrIp", 32)
            return ("NLB SG egress",
                    f"no outbound rule of {balancer.name}'s groups ({', '.join(groups)}) "
                    f"allows tcp/{target.port} to {target.id} ({address}): the NLB's flows "
                    "to it and its health checks are dropped",
                    Fix(balancer.account, f"aws ec2 authorize-security-group-egress "
                        f"--group-id {groups[0]} --ip-permissions IpProtocol=tcp,"
                        f"FromPort={target.port},ToPort={target.port},"
                        f"{family}=[{{{kind}={address}/{width}}}] {self.region}"), groups[0])
        return None

    def _target_groups_block(self, group: TargetGroup, targets: list, source: str
                             ) -> tuple[str, str, Fix, str] | None:
        """The first target whose groups drop flows from the NLB node: the hop, why, the
        fix and the group to fix."""
        for target in targets:
            address = target_address(self.store, group, target.id)
            if address is None:
                continue
            eni = _eni_of(self.store, group.vpc_id or "", address)
            if eni is None:
                continue
            # A rule naming the NLB's group admits its nodes (the group's members).
            if allows(self.store, eni.group_ids, False, source, target.port,
                      _groups_at(self.store, source)) is None:
                # The VPC's block admits every node: this flow's, and the health checks',
                # which come from the node of the target's own zone.
                vpc = self.store.get(Vpc, group.vpc_id or "")
                cidrs = [c for c in _vpc_cidrs(vpc) if c and (":" in c) == (":" in source)] \
                    if vpc else []
                cidr = cidrs[0] if cidrs else f"{source}/{128 if ':' in source else 32}"
                option = f"--ip-permissions IpProtocol=tcp,FromPort={target.port}," \
                    f"ToPort={target.port},Ipv6Ranges=[{{CidrIpv6={cidr}}}]" if ":" in cidr \
                    else f"--protocol tcp --port {target.port} --cidr {cidr}"
                return ("target SG ingress", f"no inbound rule of {target.id}'s groups "
                        f"({', '.join(eni.group_ids)}) allows tcp/{target.port} from "
                        f"{source}, the NLB node",
                        Fix(group.account, f"aws ec2 authorize-security-group-ingress "
                            f"--group-id {eni.group_ids[0] if eni.group_ids else 'sg-...'} "
                            f"{option} {self.region}"),
                        eni.group_ids[0] if eni.group_ids else eni.id)
        return None

    def instance_target(self, eni: NetworkInterface) -> None:
        other = self.store.get(Instance, eni.instance_id or "")
        if other is not None and other.state != InstanceState.RUNNING:
            self.hop("destination", FAIL, f"{other.id} is {other.state}",
                     Fix(other.account, f"aws ec2 start-instances --instance-ids {other.id} "
                         f"{self.region}"), component=other.id)
            return
        if not self.faults([eni.id, eni.instance_id or ""], [eni.subnet_id]):
            return
        if eni.instance_id:
            self.d.targets.append((eni.instance_id, self.d.port))
        port, source = self.d.port, self._source_address(eni)
        rule = allows(self.store, eni.group_ids, False, source, port, self.instance.group_ids)
        if rule is not None:
            self.hop("destination SG ingress", OK, f"tcp/{port} from {source}: {describe(rule)}",
                     component=rule_group(self.store, eni.group_ids, rule))
            return
        self.hop("destination SG ingress", FAIL,
                 f"no inbound rule of {eni.id}'s groups ({', '.join(eni.group_ids)}) allows "
                 f"tcp/{port} from {source}",
                 Fix(eni.account, f"aws ec2 authorize-security-group-ingress --group-id "
                     f"{eni.group_ids[0] if eni.group_ids else 'sg-...'} --protocol tcp "
                     f"--port {port} --cidr {source}/32 {self.region}"),
                     component=eni.group_ids[0] if eni.group_ids else eni.id)


def diagnose(store: Store, instance_id: str, to: str, port: int) -> Diagnosis:
    """Every hop from ``instance_id`` to ``to``:``port``, as far as the first failure that
    stops the walk (a hop after it would only guess)."""
    d = Diagnosis(instance_id, to, port)
    instance = store.get(Instance, instance_id)
    if instance is None:
        d.hops.append(Hop("instance", FAIL, f"no instance {instance_id} here"))
        return d
    walk = _Walk(store, d, instance)
    vpc = store.get(Vpc, instance.vpc_id)
    if vpc is None or not walk.hop(
            "instance", OK if instance.state == InstanceState.RUNNING else FAIL,
            f"{instance.id} is {instance.state} in {instance.subnet_id} "
            f"({instance.availability_zone}), {instance.private_ip_address}",
            None if instance.state == InstanceState.RUNNING else Fix(
                instance.account, f"aws ec2 start-instances --instance-ids {instance.id} "
                f"--region {instance.region}"), component=instance.id) or \
            not walk.faults([instance.network_interface_id], [instance.subnet_id]):
        return d
    if not _is_address(to) and not walk.faults([vpc.id], []):
        return d
    d.resolution = resolution = resolve(store, vpc, to)
    if not walk.hop("DNS", OK if resolution.address else FAIL,
                    f"{resolution.resolver}: " + (
                        f"{to} -> {resolution.address}, {resolution.why}"
                        if resolution.address else resolution.why), resolution.fix,
                        component=vpc.id):
        return d
    address = resolution.address or ""
    if not walk.family(address):
        return d
    there = walk.route(vpc, address) if walk.egress(address) else None
    if there is None:
        return d
    eni = _eni_of(store, there.id, address)
    if eni is None:
        walk.hop("destination", FAIL, f"no ENI in {there.id} holds {address}: nothing "
                 "answers", component=there.id)
        return d
    if there.id != vpc.id and not walk.return_route(there, eni, walk.source_for(address)):
        return d
    if eni.interface_type == "vpc_endpoint":
        endpoint = next((e for e in store.all(VpcEndpoint)
                         if eni.id in e.network_interface_ids), None)
        if endpoint is None:
            walk.hop("endpoint", FAIL, f"{eni.id} belongs to no endpoint any more",
                     component=eni.id)
            return d
        walk.hop("endpoint ENI", OK, f"{address} is {eni.id} of {endpoint.id} "
                 f"({endpoint.service_name}) in {eni.subnet_id}", component=endpoint.id)
        if walk.faults([], [eni.subnet_id]):
            walk.endpoint(endpoint, eni)
    elif eni.instance_id:
        walk.hop("destination", OK, f"{address} is {eni.id} of {eni.instance_id}",
                 component=eni.id)
        walk.instance_target(eni)
    elif eni.interface_type == "network_load_balancer":
        walk.balancer_node(eni, address)
    else:
        walk.hop("destination", NOTE, f"{address} is {eni.id} ({eni.interface_type}): "
                 "diagnose walks endpoints, load balancers and instances only",
                 component=eni.id)
    return d
