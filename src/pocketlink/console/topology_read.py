"""What the topology page draws, read with the AWS API: ``read_all`` gives accounts'
``Holdings`` (one account in one region each) and their live figures, ``build`` turns them
into a ``Topology`` (console/topology.py).

The console uses the AWS API and nothing else: every read is a call a CLI would send
(EC2's and ELBv2's Describe calls, CloudWatch's GetMetricData), made with botocore and
signed with the account's key. botocore's ``before-send`` hands the signed request to the
gateway in process (``Api.send``) instead of a socket: the gateway checks, routes and
answers it as it does one from the port (the daemon's loop handles a Describe call in
about a millisecond; a round trip through HTTP cost 10 to 70 ms on a busy machine, which
made a page of twenty calls far slower than the drawing). The calls block: the page makes
them from worker threads (console/topology_page.py), a few at once, in three waves (the
lists, then what they name: listeners, target health, connections; then the figures),
and ``send`` runs each on the event loop, so the loop is never held by more than one call.

An account sees of another's only what the API shows it: a consumer its endpoint and the
service's name and owner (DescribeVpcEndpointServices); a provider the endpoints connected
to its service (DescribeVpcEndpointConnections). Drawn together (the whole machine), the
two sides meet: the endpoint's line runs to the provider's service, NLB and targets.

Figures are CloudWatch's, which the sampler writes every second (metrics/sampler.py), so
a GetMetricData Sum over one period spanning CloudWatch's whole retention is each count
since it began, up to the last second: flows (NewConnections, NewFlowCount) and bytes
(BytesProcessed, ProcessedBytes) per endpoint, per endpoint and subnet (each ENI), per
endpoint service and its endpoints, and per NLB. The data plane counts per listener, not
per target (dataplane/hyperplane.py ``Counters``), and CloudWatch has no per-target
figures either: a target shows its health (DescribeTargetHealth), and the NLB in front of
it the flows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache, partial
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pocketlink.console.topology import (
    Account,
    Band,
    Chip,
    Connection,
    Line,
    Subnet,
    Topology,
    Vpc,
    console_href,
    figure_text,
)
from pocketlink.wire.message import HttpRequest, HttpResponse

# CloudWatch keeps points 455 days (metrics/store.py RETENTION): one period of that is all.
RETENTION = timedelta(days=455)
MAX_QUERIES = 500  # GetMetricData's limit per request
_CLIENTS = threading.Lock()  # botocore sessions make clients one at a time


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


Send = Callable[[HttpRequest], HttpResponse]


class _Body:
    """An answer's body, as botocore reads a urllib3 response's."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self.body


def _delivery(send: Send) -> Callable[..., AWSResponse]:
    def before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v
                   for k, v in request.headers.items()}
        headers.setdefault("host", url.netloc)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        answer = send(HttpRequest(request.method, url.path or "/", url.query, headers,
                                  body.encode() if isinstance(body, str) else body))
        return AWSResponse(request.url, answer.status, answer.headers, _Body(answer.body))
    return before_send


@lru_cache(maxsize=256)  # an account's three clients (EC2, ELBv2, CloudWatch) per region
def _client(url: str, service: str, region: str, access_key: str, secret_key: str,
            send: Send) -> Any:
    with _CLIENTS:
        client = _session().create_client(
            service, region_name=region, endpoint_url=url, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            # The gateway checks every parameter itself; botocore's own checks of a
            # hundred endpoints' queries cost more than the gateway's answer.
            config=Config(retries={"max_attempts": 1}, parameter_validation=False))
    client.meta.events.register("before-send", _delivery(send))
    return client


@dataclass(frozen=True)
class Api:
    """This daemon's own API, as one account in one region: ``url`` is the daemon's (the
    requests name its host), ``send`` answers a request as the gateway does."""

    url: str
    account: str
    region: str
    access_key: str
    secret_key: str
    send: Send

    def client(self, service: str) -> Any:
        return _client(self.url, service, self.region, self.access_key, self.secret_key,
                       self.send)

    def all(self, service: str, operation: str, key: str, **params) -> list[dict]:
        """Every item of a Describe call, through its pages when it has them."""
        client = self.client(service)
        if client.can_paginate(operation):
            return [item for page in client.get_paginator(operation).paginate(**params)
                    for item in page.get(key, [])]
        return getattr(client, operation)(**params).get(key, [])


@dataclass
class Holdings:
    """One account's resources in one region, as the API describes them."""

    account: str
    region: str
    vpcs: list[dict] = field(default_factory=list)
    subnets: list[dict] = field(default_factory=list)
    instances: list[dict] = field(default_factory=list)
    endpoints: list[dict] = field(default_factory=list)
    interfaces: dict[str, dict] = field(default_factory=dict)  # ENI id -> ENI
    services: list[dict] = field(default_factory=list)
    connections: list[dict] = field(default_factory=list)  # to this account's services
    service_owners: dict[str, str] = field(default_factory=dict)  # service name -> owner
    balancers: list[dict] = field(default_factory=list)
    groups_of: dict[str, list[str]] = field(default_factory=dict)  # NLB ARN -> its TGs
    groups: list[dict] = field(default_factory=list)
    health: dict[str, list[dict]] = field(default_factory=dict)  # TG ARN -> targets
    peerings: list[dict] = field(default_factory=list)
    internet_gateways: list[dict] = field(default_factory=list)
    nat_gateways: list[dict] = field(default_factory=list)


def _alive(items: list[dict]) -> list[dict]:
    return [e for e in items if e["State"].lower() != "deleted"]


def _network(items: list[dict]) -> list[dict]:
    return [b for b in items if b["Type"] == "network"]


def _running(reservations: list[dict]) -> list[dict]:
    return [i for r in reservations for i in r["Instances"] if i["State"]["Name"] != "terminated"]


def _by_id(interfaces: list[dict]) -> dict[str, dict]:
    return {n["NetworkInterfaceId"]: n for n in interfaces}


def _standing(peerings: list[dict]) -> list[dict]:
    return [p for p in peerings
            if p["Status"]["Code"] in ("active", "pending-acceptance", "provisioning")]


def _working(gateways: list[dict]) -> list[dict]:
    return [n for n in gateways if n["State"] not in ("deleted", "deleting", "failed")]


def _same(items: list[dict]) -> list[dict]:
    return items


# Each of an account's holdings, by the call that lists it and what of the list is kept:
# those the figures need, then the rest of the drawing's.
Listing = tuple[str, str, str, Callable[[list[dict]], Any]]
_FIGURED: dict[str, Listing] = {
    "endpoints": ("ec2", "describe_vpc_endpoints", "VpcEndpoints", _alive),
    "services": ("ec2", "describe_vpc_endpoint_service_configurations",
                 "ServiceConfigurations", _same),
    "balancers": ("elbv2", "describe_load_balancers", "LoadBalancers", _network),
}
_DRAWN: dict[str, Listing] = {
    "vpcs": ("ec2", "describe_vpcs", "Vpcs", _same),
    "subnets": ("ec2", "describe_subnets", "Subnets", _same),
    "instances": ("ec2", "describe_instances", "Reservations", _running),
    "interfaces": ("ec2", "describe_network_interfaces", "NetworkInterfaces", _by_id),
    "groups": ("elbv2", "describe_target_groups", "TargetGroups", _same),
    "peerings": ("ec2", "describe_vpc_peering_connections", "VpcPeeringConnections",
                 _standing),
    "internet_gateways": ("ec2", "describe_internet_gateways", "InternetGateways", _same),
    "nat_gateways": ("ec2", "describe_nat_gateways", "NatGateways", _working),
}
_CONNECTIONS: Listing = ("ec2", "describe_vpc_endpoint_connections", "VpcEndpointConnections",
                         _same)
CALLS_AT_ONCE = 8  # the gateway answers one at a time; the rest build, sign and parse


class _Reading:
    """The calls of several accounts' reads, made a few at a time: each call waits for the
    event loop's turn, and several waiting at once share it. An account whose call
    fails is dropped, with the API's words for why."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.failed: dict[tuple[str, str], Exception] = {}

    def wave(self, calls: list[Call]) -> None:
        """Makes ``calls`` ((api, call, what to do with its answer)) at once."""
        futures = [(api, self.pool.submit(call), keep) for api, call, keep in calls
                   if (api.account, api.region) not in self.failed]
        for api, future, keep in futures:
            try:
                answer = future.result()
            except (ClientError, BotoCoreError) as error:
                self.failed.setdefault((api.account, api.region), error)
                continue
            keep(answer)


Call = tuple[Api, Callable[[], Any], Callable[[Any], None]]


def _listing(api: Api, found: Holdings, name: str, listing: Listing) -> Call:
    service, operation, key, kept = listing
    return (api, partial(api.all, service, operation, key),
            lambda items: setattr(found, name, kept(items)))


def read_all(apis: list[Api], whole: bool = True
             ) -> tuple[list[Holdings], dict[str, str], dict[tuple[str, str], Exception]]:
    """Every account's holdings and their figures, and the accounts whose calls failed;
    without ``whole`` only what the figures need (the feed's reads, every second or two).
    Blocking: made from a worker thread."""
    found = {(api.account, api.region): Holdings(api.account, api.region) for api in apis}
    collected: dict[str, str] = {}
    with ThreadPoolExecutor(CALLS_AT_ONCE, thread_name_prefix="topology") as pool:
        reading = _Reading(pool)
        lists = {**_FIGURED, **(_DRAWN if whole else {})}
        reading.wave([_listing(api, found[(api.account, api.region)], name, call)
                      for api in apis for name, call in lists.items()])
        second = []
        for api in apis:
            holdings = found[(api.account, api.region)]
            if holdings.services:
                second.append(_listing(api, holdings, "connections", _CONNECTIONS))
            if whole:
                second += _details(api, holdings)
        reading.wave(second)
        reading.wave([(api, partial(figures, api, found[(api.account, api.region)]),
                       collected.update) for api in apis])
    return ([h for key, h in found.items() if key not in reading.failed], collected,
            reading.failed)


def _details(api: Api, found: Holdings) -> list[Call]:
    """The second wave of a whole read: what the first one's answers name."""
    calls: list[Call] = []
    names = sorted({e["ServiceName"] for e in found.endpoints})
    if names:
        calls.append((api, lambda: api.all("ec2", "describe_vpc_endpoint_services",
                                           "ServiceDetails", ServiceNames=names),
                      lambda items: found.service_owners.update(
                          {s["ServiceName"]: s.get("Owner", "") for s in items})))
    for balancer in found.balancers:
        arn = balancer["LoadBalancerArn"]
        calls.append((api, partial(api.all, "elbv2", "describe_listeners", "Listeners",
                                   LoadBalancerArn=arn),
                      partial(_listened, found, arn)))
    for group in found.groups:
        arn = group["TargetGroupArn"]
        calls.append((api, partial(api.client("elbv2").describe_target_health,
                                   TargetGroupArn=arn),
                      lambda answer, arn=arn: found.health.__setitem__(
                          arn, answer["TargetHealthDescriptions"])))
    return calls


def _listened(found: Holdings, arn: str, listeners: list[dict]) -> None:
    found.groups_of[arn] = sorted({group["TargetGroupArn"] for listener in listeners
                                   for action in listener.get("DefaultActions", [])
                                   for group in _forwarded(action)})


def _forwarded(action: dict) -> Iterable[dict]:
    if action.get("TargetGroupArn"):
        yield {"TargetGroupArn": action["TargetGroupArn"]}
    yield from action.get("ForwardConfig", {}).get("TargetGroups", [])


# The figures: key -> (namespace, dimensions, the flows' metric, the bytes' metric).
_ENDPOINTS = ("AWS/PrivateLinkEndpoints", "NewConnections", "BytesProcessed")
_SERVICES = ("AWS/PrivateLinkServices", "NewConnections", "BytesProcessed")
_NLB = ("AWS/NetworkELB", "NewFlowCount", "ProcessedBytes")


def endpoint_key(endpoint_id: str, subnet_id: str | None = None) -> str:
    return f"e:{endpoint_id}" + (f":{subnet_id}" if subnet_id else "")


def service_key(service_id: str, endpoint_id: str | None = None) -> str:
    return f"s:{service_id}" + (f":{endpoint_id}" if endpoint_id else "")


def balancer_key(arn: str) -> str:
    return f"l:{arn}"


def _service_id(name: str) -> str:
    """``com.amazonaws.vpce.<region>.vpce-svc-…`` -> ``vpce-svc-…``; an AWS service's name
    is its own key."""
    tail = name.rsplit(".", 1)[-1]
    return tail if tail.startswith("vpce-svc-") else name


def _queries(found: Holdings) -> list[tuple[str, tuple[str, str, str], dict[str, str]]]:
    wanted = []
    for endpoint in found.endpoints:
        if endpoint["VpcEndpointType"] != "Interface":
            continue
        base = {"Endpoint Type": "Interface", "Service Name": endpoint["ServiceName"],
                "VPC Endpoint Id": endpoint["VpcEndpointId"], "VPC Id": endpoint["VpcId"]}
        wanted.append((endpoint_key(endpoint["VpcEndpointId"]), _ENDPOINTS, base))
        for subnet_id in endpoint.get("SubnetIds", []):
            wanted.append((endpoint_key(endpoint["VpcEndpointId"], subnet_id), _ENDPOINTS,
                           {**base, "Subnet Id": subnet_id}))
    for service in found.services:
        wanted.append((service_key(service["ServiceId"]), _SERVICES,
                       {"Service Id": service["ServiceId"]}))
    for connection in found.connections:
        wanted.append((service_key(connection["ServiceId"], connection["VpcEndpointId"]),
                       _SERVICES, {"Service Id": connection["ServiceId"],
                                   "VPC Endpoint Id": connection["VpcEndpointId"]}))
    for balancer in found.balancers:
        wanted.append((balancer_key(balancer["LoadBalancerArn"]), _NLB, {
            "LoadBalancer": balancer["LoadBalancerArn"].split(":loadbalancer/", 1)[-1]}))
    return wanted


def figures(api: Api, found: Holdings) -> dict[str, str]:
    """Each figure key's text now (flows and bytes since CloudWatch began keeping them)."""
    wanted = _queries(found)
    end = datetime.now(UTC) + timedelta(seconds=1)
    period = int(RETENTION.total_seconds())
    metric_queries = []
    for index, (_, (namespace, flows, processed), dims) in enumerate(wanted):
        for name, kind in ((flows, "f"), (processed, "b")):
            metric_queries.append({"Id": f"{kind}{index}", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": [
                    {"Name": k, "Value": v} for k, v in dims.items()]},
                "Period": period, "Stat": "Sum"}})
    sums: dict[str, float] = {}
    cloudwatch = api.client("cloudwatch")
    for first in range(0, len(metric_queries), MAX_QUERIES):
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=metric_queries[first:first + MAX_QUERIES],
            StartTime=end - RETENTION, EndTime=end)
        for result in answer["MetricDataResults"]:
            sums[result["Id"]] = sum(result["Values"])
    return {key: figure_text(sums.get(f"f{index}", 0), sums.get(f"b{index}", 0))
            for index, (key, _, _) in enumerate(wanted)}


def _name(tags: list[dict] | None, fallback: str) -> str:
    return next((t["Value"] for t in tags or [] if t["Key"] == "Name"), fallback)


class _Builder:
    """Turns every account's holdings into one ``Topology``."""

    def __init__(self, everything: list[Holdings], figures: dict[str, str]) -> None:
        self.everything = everything
        self.figures = figures
        self.lines: list[Line] = []
        self.connections: dict[str, Connection] = {}
        self.services = {s["ServiceId"]: (h, s) for h in everything for s in h.services}
        self.balancers = {b["LoadBalancerArn"]: (h, b) for h in everything
                          for b in h.balancers}
        self.endpoints = {e["VpcEndpointId"] for h in everything for e in h.endpoints}
        self.vpcs = {v["VpcId"] for h in everything for v in h.vpcs}

    def href(self, found: Holdings, kind: str, resource: str) -> str:
        return console_href(kind, resource, found.account, found.region)

    def topology(self) -> Topology:
        accounts = tuple(self.account(found) for found in self.everything)
        return Topology(accounts, tuple(self.lines), tuple(self.connections.values()),
                        self.figures)

    def account(self, found: Holdings) -> Account:
        remote_services: dict[str, Chip] = {}
        for endpoint in found.endpoints:
            self.endpoint_lines(found, endpoint, remote_services)
        vpcs = tuple(self.vpc(found, vpc) for vpc in found.vpcs)
        bands = [Band("Endpoint services", tuple(self.service(found, s) for s in found.services)),
                 Band("Target groups", tuple(chip for group in found.groups
                                             for chip in self.group(found, group))),
                 Band("Endpoint services of other accounts", tuple(remote_services.values())),
                 Band("Endpoints of other accounts", tuple(
                     self.remote_endpoint(found, c) for c in found.connections
                     if c["VpcEndpointId"] not in self.endpoints))]
        return Account(found.account, found.region, vpcs, tuple(b for b in bands if b.chips))

    def vpc(self, found: Holdings, vpc: dict) -> Vpc:
        vpc_id = vpc["VpcId"]
        own: list[Chip] = []
        gateways = {}
        for gateway in found.internet_gateways:
            if any(a["VpcId"] == vpc_id for a in gateway.get("Attachments", [])):
                gateways[vpc_id] = gateway["InternetGatewayId"]
                own.append(Chip(gateway["InternetGatewayId"], "gateway", "Internet gateway",
                                gateway["InternetGatewayId"], self.href(found, "vpc/vpcs", vpc_id),
                                f"Internet gateway {gateway['InternetGatewayId']} of {vpc_id}"))
        for peering in found.peerings:
            own.extend(self.peering(found, peering, vpc_id))
        for endpoint in found.endpoints:
            if endpoint["VpcId"] == vpc_id and endpoint["VpcEndpointType"] != "Interface":
                own.append(Chip(endpoint["VpcEndpointId"], "endpoint", endpoint["VpcEndpointId"],
                                f"{endpoint['VpcEndpointType']} · {endpoint['ServiceName']}",
                                self.href(found, "vpc/endpoints", endpoint["VpcEndpointId"]),
                                f"{endpoint['VpcEndpointType']} endpoint to "
                                f"{endpoint['ServiceName']}, {endpoint['State']}"))
        for balancer in found.balancers:
            if balancer["VpcId"] == vpc_id:
                own.append(self.balancer(found, balancer))
        subnets = sorted((s for s in found.subnets if s["VpcId"] == vpc_id),
                         key=lambda s: (s["AvailabilityZone"], s["CidrBlock"]))
        cidr = vpc.get("CidrBlock", "")
        return Vpc(vpc_id, f"{_name(vpc.get('Tags'), vpc_id)} · {vpc_id} · {cidr}"
                   if _name(vpc.get("Tags"), "") else f"{vpc_id} · {cidr}",
                   self.href(found, "vpc/vpcs", vpc_id), tuple(own),
                   tuple(self.subnet(found, s, gateways.get(vpc_id)) for s in subnets))

    def subnet(self, found: Holdings, subnet: dict, gateway: str | None) -> Subnet:
        subnet_id = subnet["SubnetId"]
        chips = [Chip(i["InstanceId"], "instance", _name(i.get("Tags"), i["InstanceId"]),
                      f"{i.get('PrivateIpAddress', '')} · {i['State']['Name']}",
                      self.href(found, "ec2/instances", i["InstanceId"]),
                      f"Instance {i['InstanceId']}, {i['State']['Name']}, "
                      f"{i.get('PrivateIpAddress', 'no address')}")
                 for i in found.instances if i.get("SubnetId") == subnet_id]
        for endpoint in found.endpoints:
            for eni_id in endpoint.get("NetworkInterfaceIds", []):
                eni = found.interfaces.get(eni_id)
                if eni is None or eni["SubnetId"] != subnet_id:
                    continue
                vpce = endpoint["VpcEndpointId"]
                chips.append(Chip(f"{vpce}/{subnet_id}", "endpoint", vpce,
                                  f"{eni.get('PrivateIpAddress', '')} · {endpoint['State']}",
                                  self.href(found, "vpc/endpoints", vpce),
                                  f"Interface endpoint {vpce} to {endpoint['ServiceName']}, "
                                  f"{endpoint['State']}, its network interface {eni_id}",
                                  endpoint_key(vpce, subnet_id)))
        for balancer in found.balancers:
            for zone in balancer.get("AvailabilityZones", []):
                if zone.get("SubnetId") != subnet_id:
                    continue
                address = next((a.get("PrivateIPv4Address", "") for a in
                                zone.get("LoadBalancerAddresses", [])), "")
                name = balancer["LoadBalancerName"]
                chips.append(Chip(f"{balancer['LoadBalancerArn']}/{subnet_id}", "node",
                                  f"{name} node", f"{address} · {zone['ZoneName']}",
                                  self.href(found, "ec2/load-balancers", name),
                                  f"Node of load balancer {name} in {zone['ZoneName']}"))
        for nat in found.nat_gateways:
            if nat["SubnetId"] != subnet_id:
                continue
            address = next((a.get("PrivateIp", "") for a in nat.get("NatGatewayAddresses", [])), "")
            chips.append(Chip(nat["NatGatewayId"], "gateway", "NAT gateway",
                              f"{nat['NatGatewayId']} · {address}",
                              self.href(found, "vpc/subnets", subnet_id),
                              f"NAT gateway {nat['NatGatewayId']}, {nat['State']}"))
            if gateway is not None:
                self.lines.append(Line(nat["NatGatewayId"], gateway, "route",
                                       f"{nat['NatGatewayId']} to the internet through {gateway}"))
        return Subnet(subnet_id, subnet["AvailabilityZone"], subnet["CidrBlock"],
                      self.href(found, "vpc/subnets", subnet_id), tuple(chips))

    def peering(self, found: Holdings, peering: dict, vpc_id: str) -> list[Chip]:
        sides = (peering["RequesterVpcInfo"], peering["AccepterVpcInfo"])
        for mine, theirs in (sides, sides[::-1]):
            if mine.get("VpcId") != vpc_id or mine.get("OwnerId") != found.account:
                continue
            pcx = peering["VpcPeeringConnectionId"]
            if mine is sides[0] and theirs["VpcId"] in self.vpcs:
                self.lines.append(Line(f"{pcx}/{vpc_id}", f"{pcx}/{theirs['VpcId']}", "peering",
                                       f"Peering {pcx}: {vpc_id} and {theirs['VpcId']}"))
            return [Chip(f"{pcx}/{vpc_id}", "gateway", pcx,
                         f"peer {theirs['VpcId']} · {peering['Status']['Code']}",
                         console_href("vpc/vpcs", theirs["VpcId"], theirs.get("OwnerId", ""),
                                      theirs.get("Region", found.region)),
                         f"Peering connection {pcx} to {theirs['VpcId']} of account "
                         f"{theirs.get('OwnerId', '')}, {peering['Status']['Code']}")]
        return []

    def balancer(self, found: Holdings, balancer: dict) -> Chip:
        arn, name = balancer["LoadBalancerArn"], balancer["LoadBalancerName"]
        for group in found.groups_of.get(arn, []):
            self.lines.append(Line(arn, group, "listener", f"{name} forwards to "
                                   f"{group.rsplit(':', 1)[-1]}"))
        return Chip(arn, "balancer", name, f"network · {balancer.get('Scheme', '')}",
                    self.href(found, "ec2/load-balancers", name),
                    f"Network load balancer {name}, {balancer.get('State', {}).get('Code', '')}",
                    balancer_key(arn))

    def service(self, found: Holdings, service: dict) -> Chip:
        service_id = service["ServiceId"]
        for arn in service.get("NetworkLoadBalancerArns", []):
            self.lines.append(Line(service_id, arn, "privatelink",
                                   f"{service_id} is served by {arn.rsplit('/', 2)[-2]}"))
        acceptance = "acceptance required" if service.get("AcceptanceRequired") else "auto-accept"
        return Chip(service_id, "service", service_id, acceptance,
                    self.href(found, "vpc/endpoint-services", service_id),
                    f"Endpoint service {service.get('ServiceName', service_id)}, "
                    f"{service.get('ServiceState', '')}", service_key(service_id))

    def group(self, found: Holdings, group: dict) -> list[Chip]:
        arn, name = group["TargetGroupArn"], group["TargetGroupName"]
        targets = found.health.get(arn, [])
        healthy = sum(1 for t in targets if t["TargetHealth"]["State"] == "healthy")
        chips = [Chip(arn, "group", name, f"{group.get('Protocol', '')}:{group.get('Port', '')}"
                      f" · {healthy}/{len(targets)} healthy",
                      self.href(found, "ec2/target-groups", name),
                      f"Target group {name}, {healthy} of {len(targets)} targets healthy")]
        for target in targets:
            target_id, state = target["Target"]["Id"], target["TargetHealth"]["State"]
            port = target["Target"].get("Port", group.get("Port", ""))
            chip_id = target_id
            if group.get("TargetType") != "instance":
                chip_id = f"{arn}/{target_id}:{port}"
                chips.append(Chip(chip_id, "ip", f"{target_id}:{port}", state,
                                  self.href(found, "ec2/target-groups", name),
                                  f"Target {target_id} port {port} of {name}, {state}"))
            self.lines.append(Line(arn, chip_id, "target" if state != "unhealthy"
                                   else "target unhealthy",
                                   f"{name} target {target_id}:{port}, {state}"))
        return chips

    def reach(self, service_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The NLBs behind a drawn service, and their targets with their health."""
        balancers: list[str] = []
        targets: list[str] = []
        service = self.services.get(service_id)
        for arn in service[1].get("NetworkLoadBalancerArns", []) if service else []:
            if arn not in self.balancers:
                continue
            owner, balancer = self.balancers[arn]
            balancers.append(balancer["LoadBalancerName"])
            for group in owner.groups_of.get(arn, []):
                targets += [f"{t['Target']['Id']} ({t['TargetHealth']['State']})"
                            for t in owner.health.get(group, [])]
        return tuple(balancers), tuple(targets)

    def endpoint_lines(self, found: Holdings, endpoint: dict,
                       remote: dict[str, Chip]) -> None:
        """An interface endpoint's lines to its service (drawn, or an other account's chip
        standing for it) and its row in the table."""
        if endpoint["VpcEndpointType"] != "Interface":
            return
        vpce, name = endpoint["VpcEndpointId"], endpoint["ServiceName"]
        service_id = _service_id(name)
        owner = found.service_owners.get(name, "")
        target = service_id
        balancers, targets = self.reach(service_id)
        if service_id in self.services:
            owner = self.services[service_id][0].account
        else:
            target = f"remote:{name}"
            if target not in remote:
                href = (console_href("vpc/endpoint-services", service_id, owner, found.region)
                        if service_id.startswith("vpce-svc-") and owner.isdigit()
                        else self.href(found, "vpc/endpoints", vpce))
                remote[target] = Chip(target, "remote", service_id,
                                      f"account {owner}" if owner else name, href,
                                      f"Endpoint service {name} of {owner or 'another account'}")
        for subnet_id in endpoint.get("SubnetIds", []):
            self.lines.append(Line(f"{vpce}/{subnet_id}", target, "privatelink",
                                   f"{vpce} in {subnet_id} to {name}"))
        self.connections[vpce] = Connection(
            vpce, found.account, self.href(found, "vpc/endpoints", vpce), endpoint["State"],
            service_id, owner, balancers, tuple(targets), endpoint_key(vpce))

    def remote_endpoint(self, found: Holdings, connection: dict) -> Chip:
        vpce, owner = connection["VpcEndpointId"], connection.get("VpcEndpointOwner", "")
        service_id = connection["ServiceId"]
        self.lines.append(Line(f"remote:{vpce}", service_id, "privatelink",
                               f"{vpce} of account {owner} to {service_id}"))
        key = service_key(service_id, vpce)
        if vpce not in self.connections:
            self.connections[vpce] = Connection(
                vpce, owner, console_href("vpc/endpoints", vpce, owner, found.region),
                connection.get("VpcEndpointState", ""), service_id, found.account,
                *self.reach(service_id), key)
        return Chip(f"remote:{vpce}", "remote", vpce,
                    f"account {owner} · {connection.get('VpcEndpointState', '')}",
                    console_href("vpc/endpoints", vpce, owner, found.region),
                    f"Endpoint {vpce} of account {owner} connected to {service_id}", key)


def build(everything: list[Holdings], figures: dict[str, str]) -> Topology:
    """The topology of several accounts' holdings (one, or every account on the machine)."""
    return _Builder(everything, figures).topology()
