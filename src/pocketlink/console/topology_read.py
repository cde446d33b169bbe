"""What the topology page draws: ``read_all`` gives accounts' ``Holdings`` (one account
in one region each), read with the AWS API, and ``figures`` their live figures
(console/topology_build.py turns them into the picture's model).

The console reads its accounts with the AWS API: every read is a call a CLI would send
(EC2's and ELBv2's Describe calls), made with botocore and signed with the account's key:
the console's own clients (console/aws.py), which hand the signed request to the gateway
in process. The calls block: the page makes them from worker threads
(console/topology_page.py), a few at once, in two waves (the lists, then what they name:
listeners, target health, connections); each runs on the event loop, so the loop is
never held by more than one call.

Figures are the ones the sampler writes to CloudWatch every second (metrics/sampler.py),
read where the sampler keeps their running sums (its ``totals``, since the daemon
started, under each metric's finest dimensions: a coarser figure is their sum), once a
page, not through GetMetricData: a Sum of hundreds of queries over CloudWatch's whole
retention was half of the page's time (docs/console-topology.md, "Limits"). Flows
(NewConnections, NewFlowCount) and bytes (BytesProcessed, ProcessedBytes) per endpoint,
per endpoint and subnet (each ENI), per endpoint service and its endpoints, and per NLB,
with the dimensions CloudWatch has them under; only for the resources the API has just
shown the account. No AWS API has figures per target (CloudWatch's NLB metrics stop at
the target group): those, flows ended and bytes per target address and port of a target
group, are read from the data plane's counters in process (dataplane/hyperplane.py
``target_counts``, ``target_figures`` here), only for the target groups of the accounts
the API has just answered for.

An account's answers are kept (``Answers``) while the daemon's store has not changed since
they were asked: every Describe answer the page keeps is the store's alone, so an
unchanged store (its change counter, which daemon.py hands the console as it hands it
the sampler's totals) answers as before, and the page asks again only after a change.
DescribeTargetHealth is asked every time: a draining target leaves it when its delay runs
out, with no change in the store.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pocketlink.console.aws import Clients
from pocketlink.console.topology import figure_text
from pocketlink.metrics.store import Metric

Totals = dict[Metric, tuple[float, str]]  # the sampler's counts since the daemon started


KEPT_ANSWERS = 4096  # lists kept at most: an account's dozen, for hundreds of accounts


class Answers:
    """The lists the API gave, by who asked (account, region, key) and what, kept while
    ``changes`` (the store's change counter) stays where it was when they were asked. A
    list asked while the store changed is kept under the count before, so it is asked
    again. The lists are shared by the pages that read them: nothing changes them."""

    def __init__(self, changes: Callable[[], object]) -> None:
        self.changes = changes
        self._lock = threading.Lock()
        self._at: object = None
        self._kept: dict[tuple, list[dict]] = {}

    def get(self, asked: tuple, call: Callable[[], list[dict]]) -> list[dict]:
        at = self.changes()
        with self._lock:
            if at != self._at or len(self._kept) >= KEPT_ANSWERS:
                self._at, self._kept = at, {}
            found = self._kept.get(asked)
        if found is not None:
            return found
        found = call()
        with self._lock:
            if self._at == at:
                self._kept[asked] = found
        return found


@dataclass(frozen=True)
class Api:
    """This daemon's own API, as one account in one region, signed with ``signing_key``
    (the console's clients: console/aws.py); its lists kept in ``answers`` while the
    store does not change."""

    account: str
    region: str
    signing_key: tuple[str, str]  # access key id, secret
    clients: Clients
    answers: Answers

    def client(self, service: str) -> Any:
        return self.clients.get(service, *self.signing_key, self.region)

    def all(self, service: str, operation: str, key: str, **params) -> list[dict]:
        """Every item of a Describe call, through its pages when it has them; the list
        the API gave last when the store has not changed since."""
        asked = (self.account, self.region, self.signing_key, service, operation,
                 json.dumps(params, sort_keys=True))
        return self.answers.get(asked, partial(self._all, service, operation, key, params))

    def _all(self, service: str, operation: str, key: str, params: dict) -> list[dict]:
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


def read_all(apis: list[Api], whole: bool = True, every: bool = False
             ) -> tuple[list[Holdings], dict[tuple[str, str], Exception]]:
    """Every account's holdings, and the accounts whose calls failed; without ``whole``
    only what the figures need (the feed's reads, every second or two). ``every``: the
    apis are every account the machine holds endpoints in. Blocking: made from a worker
    thread."""
    found = {(api.account, api.region): Holdings(api.account, api.region) for api in apis}
    with ThreadPoolExecutor(CALLS_AT_ONCE, thread_name_prefix="topology") as pool:
        reading = _Reading(pool)
        lists = {**_FIGURED, **(_DRAWN if whole else {})}
        reading.wave([_listing(api, found[(api.account, api.region)], name, call)
                      for api in apis for name, call in lists.items()])
        second = []
        drawn = {s["ServiceName"] for key, h in found.items() if key not in reading.failed
                 for s in h.services}
        # A provider's connections are drawn only for the endpoints not drawn themselves
        # (their owner's read is another's). On the whole machine every endpoint is its
        # owner's, read above, unless that read failed: DescribeVpcEndpointConnections
        # lists no deleted endpoint, as the drawing shows none. Its answer was the
        # largest of the page (100 connections: 118 kB of XML).
        connected = not every or bool(reading.failed)
        for api in apis:
            holdings = found[(api.account, api.region)]
            if holdings.services and connected:
                second.append(_listing(api, holdings, "connections", _CONNECTIONS))
            if whole:
                second += _details(api, holdings, drawn)
        reading.wave(second)
    return [h for key, h in found.items() if key not in reading.failed], reading.failed


def _details(api: Api, found: Holdings, drawn: set[str]) -> list[Call]:
    """The second wave of a whole read: what the first one's answers name. The owners of
    the services the endpoints connect to, but of those ``drawn`` (another account's read
    has them, and their owner)."""
    calls: list[Call] = []
    names = sorted({e["ServiceName"] for e in found.endpoints} - drawn)
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


def target_key(group_arn: str, address: str, port: object) -> str:
    return f"t:{group_arn}:{address}:{port}"


TargetCounts = dict[tuple[str, str, int], tuple[int, int]]  # (group, address, port) -> figures


def target_figures(counts: TargetCounts, readable: set[tuple[str, str]]) -> dict[str, str]:
    """Each target's figure text, for the target groups of ``readable`` (account,
    region) pairs only: a group's ARN names its region and account."""
    found = {}
    for (group, address, port), (flows, carried) in counts.items():
        parts = group.split(":")
        if len(parts) > 4 and (parts[4], parts[3]) in readable:
            found[target_key(group, address, port)] = figure_text(flows, carried)
    return found


def service_id_of(name: str) -> str:
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


# The dimension every view of a namespace's metrics has: what a figure's sums are found by.
_ANCHORS = {"AWS/PrivateLinkEndpoints": "VPC Endpoint Id", "AWS/PrivateLinkServices": "Service Id",
            "AWS/NetworkELB": "LoadBalancer"}


def figures(found: Holdings, totals: Totals) -> dict[str, str]:
    """Each figure key's text now: its flows and bytes since the daemon started. The
    sampler sums each metric under its finest dimensions only (an endpoint's per subnet,
    a service's per endpoint, an NLB's per zone, as its ``totals``); a coarser figure is
    the sum of the finest ones under it, as CloudWatch's is."""
    sums: dict[tuple[str, str, str], list[tuple[dict[str, str], float]]] = {}
    for metric, (value, _) in totals.items():
        anchor = _ANCHORS.get(metric.namespace)
        if (metric.account, metric.region) == (found.account, found.region) and anchor:
            sums.setdefault((metric.namespace, metric.name, metric.dimensions.get(anchor, "")),
                            []).append((metric.dimensions, value))

    def total(namespace: str, name: str, dims: dict[str, str]) -> float:
        return sum(value for finest, value in sums.get((namespace, name,
                                                        dims[_ANCHORS[namespace]]), [])
                   if dims.items() <= finest.items())
    return {key: figure_text(total(namespace, flows, dims), total(namespace, processed, dims))
            for key, (namespace, flows, processed), dims in _queries(found)}
