"""The data plane's plan: which listeners exist and where their connections go, computed
from the store with no I/O.

An interface endpoint listens on each of its ENI addresses (IPv4 and/or IPv6, as its
IpAddressType says), on every port of its service's NLB listeners. A connection goes to
the NLB node in the same zone (by zone id: names differ between accounts), which picks a
target (cross-zone load balancing decides the candidates) and connects from its own
address inside the provider's VPC. An NLB also listens on its nodes' addresses in its own
VPC, so that its VPC reaches it directly, as the seeds' target-group checks do.

An interface endpoint to an AWS service (``com.amazonaws.REGION.ssm``: no endpoint service
of a tenant behind it) listens on its ENI addresses on port 443, and its connections go to
the service front (services/front.py) on the daemon's own loopback, with a PROXY protocol
v2 header that names the endpoint: the front terminates TLS and hands the requests to the
gateway with their network path.

A gateway endpoint (S3, DynamoDB) has no ENI: the route tables that hold its route deliver
the prefix list's addresses to the VPC router itself (network/topology.py), where one
listener per service listens on the service's public address, port 443, bound with
IP_TRANSPARENT (the router holds no such address, which is what lets it bind it and answer
from it: only the local route brings packets to it, so a subnet without the route reaches
nothing). Its flows go to the service front as an interface endpoint's do, with a PROXY v2
header whose source is the caller's own address, whose destination is the public address
it dialled, and whose endpoint is the one the caller's subnet routes through
(``Backend.gateway_routes``: two route tables of one VPC may route S3 to two different
endpoints). No NAT: the front sees the caller's private
address and the endpoint, as AWS's S3 sees aws:SourceVpce and aws:VpcSourceIp.

A TLS listener is planned as a TCP one with its ``TlsTermination`` beside the backend: the
certificates' files (the default first; SNI picks among them), the security policy, the
ALPN list and whether the targets get TLS again (a TLS target group). A TLS listener
whose certificates are not issued yet (no files) listens nowhere. Workers terminate TLS
themselves (tls.py).

The internet namespace (network/internet.py) listens on every AWS public service address
at once (``INTERNET``: one wildcard listener per family, the namespace holds nothing
else), and sends its connections to the service front too, with a header that names no
endpoint: the caller's public address is all the front learns (aws:SourceIp).
"""

from __future__ import annotations

from collections.abc import Callable

from pocketlink.dataplane.sockets import ROOT_NAMESPACE
from pocketlink.dataplane.spec import Backend, ListenerSpec, TlsTermination
from pocketlink.model.aws_services import aws_service, public_addresses
from pocketlink.model.ec2 import Instance, NetworkInterface, Subnet
from pocketlink.model.elbv2 import Listener, LoadBalancer, LoadBalancerNode, TargetGroup
from pocketlink.model.privatelink import EndpointService, VpcEndpoint
from pocketlink.model.ssl_policies import ALPN_PROTOCOLS
from pocketlink.model.states import BALANCER_LISTENING, ENDPOINT_LISTENING, InstanceState
from pocketlink.network import names
from pocketlink.network.topology import gateway_routes, inputs
from pocketlink.store import Store

# Listener protocols whose bytes pocketlink carries.
CARRIED = ("TCP", "TCP_UDP", "TLS")
AWS_SERVICE_PORT = 443  # HTTPS: every AWS service's API
# PrivateLink's idle timeout for TCP flows (privatelink-behavior.md), as an NLB listener's.
ENDPOINT_IDLE_TIMEOUT = 350.0


# An issued certificate's (chain file, key file), or None while it has none.
CertificateFiles = Callable[[str], tuple[str, str] | None]


def _cross_zone(balancer: LoadBalancer, group: TargetGroup) -> bool:
    value = group.attributes.get("load_balancing.cross_zone.enabled",
                                 "use_load_balancer_configuration")
    if value == "use_load_balancer_configuration":
        value = balancer.attributes.get("load_balancing.cross_zone.enabled", "false")
    return value == "true"


def target_address(store: Store, group: TargetGroup, target_id: str) -> str | None:
    if group.target_type == "ip":
        return target_id
    instance = store.get(Instance, target_id)
    if instance is None or instance.state != InstanceState.RUNNING:
        return None
    if group.ip_address_type == "ipv6":
        return instance.ipv6_addresses[0] if instance.ipv6_addresses else None
    return instance.private_ip_address


def candidates(store: Store, balancer: LoadBalancer, group: TargetGroup,
               node: LoadBalancerNode) -> tuple[tuple[str, int], ...]:
    """The targets a node may send a new flow to: healthy ones of its zone (or of every
    zone with cross-zone on); when none is healthy the NLB fails open to all of them."""
    zoned = [t for t in group.targets if t.deregistered is None and (
        _cross_zone(balancer, group) or t.availability_zone in (node.availability_zone, "all"))]
    healthy = [t for t in zoned if t.health == "healthy"] or zoned
    found = []
    for target in healthy:
        address = target_address(store, group, target.id)
        if address is not None:
            found.append((address, target.port))
    return tuple(found)


def _backend(store: Store, balancer: LoadBalancer, listener: Listener, node: LoadBalancerNode,
             endpoint_id: str | None) -> Backend | None:
    group = store.get(TargetGroup, listener.target_group_arn)
    if group is None:
        return None
    source = node.ipv6_address if group.ip_address_type == "ipv6" else node.private_ipv4_address
    if source is None:
        return None
    return Backend(
        namespace=names.namespace(balancer.vpc_id), source=source,
        targets=candidates(store, balancer, group, node),
        proxy_protocol=group.attributes.get("proxy_protocol_v2.enabled") == "true",
        endpoint_id=endpoint_id,
        idle_timeout=float(listener.attributes.get("tcp.idle_timeout.seconds", "350")),
        target_group=listener.target_group_arn)


def _termination(store: Store, listener: Listener, files: CertificateFiles | None
                 ) -> TlsTermination | None:
    """A TLS listener's termination, once every certificate it names is issued."""
    found = [files(arn) for arn in listener.certificates] if files is not None else []
    group = store.get(TargetGroup, listener.target_group_arn)
    if not found or None in found or group is None:
        return None
    return TlsTermination(certificates=tuple(f for f in found if f is not None),
                          ssl_policy=listener.ssl_policy or "ELBSecurityPolicy-2016-08",
                          alpn=ALPN_PROTOCOLS.get(next(iter(listener.alpn_policy), "None"), ()),
                          reencrypt=group.protocol == "TLS")


def _zone_id(store: Store, subnet_id: str) -> str | None:
    subnet = store.get(Subnet, subnet_id)
    return subnet.availability_zone_id if subnet else None


def _addresses(endpoint: VpcEndpoint, eni: NetworkInterface) -> list[str]:
    """The ENI's addresses the endpoint listens on, as its IpAddressType says."""
    addresses = []
    if endpoint.ip_address_type in ("ipv4", "dualstack") and eni.private_ip_address:
        addresses.append(eni.private_ip_address)
    if endpoint.ip_address_type in ("ipv6", "dualstack"):
        addresses += eni.ipv6_addresses
    return addresses


def _aws_service_listeners(store: Store, endpoint: VpcEndpoint, front: tuple[str, int]
                           ) -> list[ListenerSpec]:
    backend = Backend(namespace=ROOT_NAMESPACE, source=front[0], targets=(front,),
                      proxy_protocol=True, endpoint_id=endpoint.id,
                      idle_timeout=ENDPOINT_IDLE_TIMEOUT)
    specs = []
    for eni_id in endpoint.network_interface_ids:
        eni = store.get(NetworkInterface, eni_id)
        if eni is not None:
            specs += [ListenerSpec(names.namespace(endpoint.vpc_id), address, AWS_SERVICE_PORT,
                                   endpoint.id, backend) for address in _addresses(endpoint, eni)]
    return specs


def _endpoint_listeners(store: Store, endpoint: VpcEndpoint, files: CertificateFiles | None
                        ) -> list[ListenerSpec]:
    service = store.get(EndpointService, endpoint.service_id or "")
    if service is None:
        return []
    specs = []
    for eni_id in endpoint.network_interface_ids:
        eni = store.get(NetworkInterface, eni_id)
        if eni is None:
            continue
        zone = _zone_id(store, eni.subnet_id)
        addresses = _addresses(endpoint, eni)
        for balancer_arn in service.network_load_balancer_arns:
            balancer = store.get(LoadBalancer, balancer_arn)
            if balancer is None:
                continue
            node = next((n for n in balancer.nodes if _zone_id(store, n.subnet_id) == zone), None)
            if node is None:
                continue
            for listener in store.all(Listener):
                if listener.load_balancer_arn != balancer.id or listener.protocol not in CARRIED:
                    continue
                backend = _backend(store, balancer, listener, node, endpoint.id)
                tls = _termination(store, listener, files) if listener.protocol == "TLS" \
                    else None
                if backend is None or (listener.protocol == "TLS" and tls is None):
                    continue
                specs += [ListenerSpec(names.namespace(endpoint.vpc_id), address, listener.port,
                                       endpoint.id, backend, tls) for address in addresses]
    return specs


def _gateway_listeners(store: Store, front: tuple[str, int]) -> list[ListenerSpec]:
    specs = []
    for group in inputs(store).values():
        by_address: dict[str, list[tuple[str, str]]] = {}
        for route in gateway_routes(store, group):
            service = aws_service(route.endpoint.service_name, group.vpc.region)
            if service is None or not route.subnet.cidr_block:
                continue
            address = public_addresses(group.vpc.region, service.short)[0]
            by_address.setdefault(address, []).append((route.subnet.cidr_block,
                                                       route.endpoint.id))
        for address, routes in by_address.items():
            owner = min(endpoint for _, endpoint in routes)
            backend = Backend(namespace=ROOT_NAMESPACE, source=front[0], targets=(front,),
                              proxy_protocol=True, endpoint_id=owner,
                              idle_timeout=ENDPOINT_IDLE_TIMEOUT,
                              gateway_routes=tuple(sorted(routes)))
            specs.append(ListenerSpec(names.namespace(group.vpc.id), address, AWS_SERVICE_PORT,
                                      owner, backend))
    return specs


def _balancer_listeners(store: Store, balancer: LoadBalancer, files: CertificateFiles | None
                        ) -> list[ListenerSpec]:
    specs = []
    for listener in store.all(Listener):
        if listener.load_balancer_arn != balancer.id or listener.protocol not in CARRIED:
            continue
        tls = _termination(store, listener, files) if listener.protocol == "TLS" else None
        if listener.protocol == "TLS" and tls is None:
            continue
        for node in balancer.nodes:
            backend = _backend(store, balancer, listener, node, None)
            if backend is None:
                continue
            addresses = [a for a in (node.private_ipv4_address, node.ipv6_address) if a]
            specs += [ListenerSpec(names.namespace(balancer.vpc_id), address, listener.port,
                                   balancer.id, backend, tls) for address in addresses]
    return specs


INTERNET = "internet"  # the owner of the internet namespace's listeners


def internet_listeners(namespace: str, front: tuple[str, int]) -> list[ListenerSpec]:
    """The AWS public service addresses' :443, as the internet reaches them."""
    backend = Backend(namespace=ROOT_NAMESPACE, source=front[0], targets=(front,),
                      proxy_protocol=True, endpoint_id=None, idle_timeout=ENDPOINT_IDLE_TIMEOUT)
    return [ListenerSpec(namespace, address, AWS_SERVICE_PORT, INTERNET, backend)
            for address in ("0.0.0.0", "::")]


def plan(store: Store, front: tuple[str, int] | None = None,
         certificates: CertificateFiles | None = None
         ) -> dict[tuple[str, str, int], ListenerSpec]:
    """``front``: the service front's address, where AWS services' endpoints send their
    flows (without one, those endpoints carry nothing); ``certificates``: where issued
    certificates' files are (without it, TLS listeners carry nothing)."""
    specs: list[ListenerSpec] = []
    for endpoint in store.all(VpcEndpoint):
        if endpoint.endpoint_type != "Interface" or endpoint.state not in ENDPOINT_LISTENING:
            continue
        if endpoint.service_id:
            specs += _endpoint_listeners(store, endpoint, certificates)
        elif front is not None:
            specs += _aws_service_listeners(store, endpoint, front)
    if front is not None:
        specs += _gateway_listeners(store, front)
    for balancer in store.all(LoadBalancer):
        if balancer.state in BALANCER_LISTENING:
            specs += _balancer_listeners(store, balancer, certificates)
    return {spec.key: spec for spec in specs}
