"""Reachability Analyzer (EC2's API): network insights paths and their analyses.

One engine, two doors: an analysis is the ``diagnose`` walk (``pocketlink.diagnose``) of
the path's source instance to its destination's address and port, answered in AWS's
shapes: ``NetworkPathFound``, the walked components in ``ForwardPathComponents``, and for
the first failing hop an ``Explanation`` with AWS's explanation code
(docs.aws.amazon.com/vpc/latest/reachability/explanation-codes.html). What only
pocketlink gives (the fix command, the probe, whether a process listens) stays in the
CLI, ``pocketlink diagnose``.

The walk reads the store and nothing else, so an analysis finishes inside the request
that starts it: StartNetworkInsightsAnalysis already answers ``succeeded`` (AWS answers
``running`` and finishes within seconds; the waiters and terraform poll Describe either
way). pocketlink walks from an instance (or its ENI) over TCP to one port; a path it
cannot walk is refused when it is created, in AWS's words where AWS has them.
"""

from __future__ import annotations

from datetime import datetime

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.diagnose import Diagnosis, Hop, diagnose
from pocketlink.diagnose.walk import FAIL, NOTE
from pocketlink.model import ids
from pocketlink.model.ec2 import Instance, NetworkInterface, Subnet
from pocketlink.model.network_insights import NetworkInsightsAnalysis, NetworkInsightsPath
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.store import Store
from pocketlink.wire.errors import ServiceError

PROTOCOLS = ("tcp", "udp")
# The ARN's resource type of each id prefix a path may name.
ARN_TYPES = {"i": "instance", "eni": "network-interface", "vpce": "vpc-endpoint",
             "sg": "security-group", "vpc": "vpc", "subnet": "subnet"}

# The explanation code of each hop that can fail: AWS's where AWS has one; where AWS's
# analysis does not look (target health, an injected fault) the nearest, BAD_STATE
# ("This component is not in a functional state"), a pocketlink choice.
EXPLANATIONS = {
    "instance": "BAD_STATE",
    "instance IPv6": "NO_ROUTE_TO_DESTINATION",
    "DNS": "NO_PATH",
    "instance SG egress": "ENI_SG_RULES_MISMATCH",
    "route": "NO_ROUTE_TO_DESTINATION",
    "destination": "NO_POSSIBLE_DESTINATION",
    "endpoint": "UNKNOWN_RESOURCE",
    "endpoint state": "BAD_STATE",
    "endpoint SG ingress": "ENI_SG_RULES_MISMATCH",
    "service": "BAD_STATE",
    "NLB": "UNKNOWN_RESOURCE",
    "zone": "VPCE_SERVICE_NOT_INSTALLED_IN_AZ",
    "NLB SG ingress": "ENI_SG_RULES_MISMATCH",
    "NLB SG egress": "ENI_SG_RULES_MISMATCH",
    "NLB listener": "ELBV2_LISTENERS_MISMATCH",
    "target group": "ELBV2_LISTENER_HAS_NO_TG",
    "cross-zone": "ELB_NOT_CROSSZONE",
    "target health": "BAD_STATE",
    "target SG ingress": "ENI_SG_RULES_MISMATCH",
    "destination SG ingress": "ENI_SG_RULES_MISMATCH",
    "return route": "NO_ROUTE_TO_DESTINATION",
    "fault": "BAD_STATE",
}
DIRECTIONS = {"instance SG egress": "egress", "endpoint SG ingress": "ingress",
              "NLB SG ingress": "ingress", "NLB SG egress": "egress",
              "target SG ingress": "ingress",
              "destination SG ingress": "ingress"}

PATH_FILTERS: dict[str, filters.Field] = {
    "source": lambda p: p.source,
    "destination": lambda p: p.destination,
    "protocol": lambda p: p.protocol,
    "destination-port": lambda p: p.destination_port,
    "source-ip": lambda p: p.source_ip,
    "destination-ip": lambda p: p.destination_ip,
    "filter-at-source.source-address": lambda p: p.filter_at_source.get("SourceAddress"),
    "filter-at-source.destination-address":
        lambda p: p.filter_at_source.get("DestinationAddress"),
    "filter-at-destination.source-address":
        lambda p: p.filter_at_destination.get("SourceAddress"),
    "filter-at-destination.destination-address":
        lambda p: p.filter_at_destination.get("DestinationAddress"),
}
ANALYSIS_FILTERS: dict[str, filters.Field] = {
    "path-found": lambda a: a.network_path_found,
    "status": lambda a: a.status,
}


def _arn(region: str, account: str, resource_id: str) -> str:
    kind = ARN_TYPES.get(resource_id.rsplit("-", 1)[0], "resource")
    return f"arn:aws:ec2:{region}:{account}:{kind}/{resource_id}"


def _id_of(reference: str) -> str:
    """An id given as itself or as its ARN (``arn:aws:ec2:...:instance/i-...``)."""
    return reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference


def _filter(given: dict | None) -> dict:
    """A PathRequestFilter as the path keeps and describes it (PathFilter)."""
    kept: dict = {}
    for key, value in (given or {}).items():
        if key.endswith("PortRange"):
            value = {k: v for k, v in value.items() if k in ("FromPort", "ToPort")}
        if value not in (None, {}):
            kept[key] = value
    return kept


def _source(context: RequestContext, reference: str) -> str:
    source = _id_of(reference)
    if source.startswith("eni-"):
        eni = require(context, NetworkInterface, source)
        if eni.instance_id is None:
            raise ec2.InvalidParameterValue(
                f"pocketlink analyses paths from an instance: {source} is attached to none")
        return source
    if source.startswith("i-"):
        require(context, Instance, source)
        return source
    raise ec2.InvalidParameterValue(
        f"pocketlink analyses paths from an instance or its network interface, not {reference}")


def _destination(context: RequestContext, reference: str) -> str:
    destination = _id_of(reference)
    kinds = {"i": Instance, "eni": NetworkInterface, "vpce": VpcEndpoint}
    kind = kinds.get(destination.rsplit("-", 1)[0])
    if kind is None:
        raise ec2.InvalidParameterValue(
            "pocketlink analyses paths to an instance, a network interface, a VPC endpoint "
            f"or an IP address, not {reference}")
    require(context, kind, destination)
    return destination


def _port(params: dict) -> int | None:
    port = params.get("DestinationPort")
    if port is None:
        port = (params.get("FilterAtSource") or {}).get("DestinationPortRange", {}).get(
            "FromPort")
    if port is not None and not 0 <= port <= 65535:
        raise ec2.InvalidParameterValue(f"Invalid destination port: {port}")
    return port


def describe_path(path: NetworkInsightsPath) -> dict:
    item: dict = {"NetworkInsightsPathId": path.id, "NetworkInsightsPathArn": path.arn,
                  "CreatedDate": path.created, "Source": path.source,
                  "SourceArn": _arn(path.region, path.account, path.source),
                  "Protocol": path.protocol, "Tags": tags.tag_set(path.tags)}
    if path.destination:
        item["Destination"] = path.destination
        item["DestinationArn"] = _arn(path.region, path.account, path.destination)
    optional = {"SourceIp": path.source_ip, "DestinationIp": path.destination_ip,
                "DestinationPort": path.destination_port,
                "FilterAtSource": path.filter_at_source,
                "FilterAtDestination": path.filter_at_destination}
    return item | {k: v for k, v in optional.items() if v not in (None, {})}


@operation("ec2", "CreateNetworkInsightsPath")
def create_path(context: RequestContext, params: dict) -> dict:
    protocol = params.get("Protocol", "")
    if protocol not in PROTOCOLS:
        raise invalid_value("protocol", protocol, "Valid values: tcp, udp")
    at_source = _filter(params.get("FilterAtSource"))
    destination_ip = params.get("DestinationIp")
    if not params.get("Destination") and not destination_ip and \
            not at_source.get("DestinationAddress"):
        raise ServiceError("The request must include either the Destination parameter or "
                           "the FilterAtSource.DestinationAddress parameter. Add the required "
                           "parameter and retry the request.", code="MissingParameter")
    source = _source(context, params["Source"])
    destination = _destination(context, params["Destination"]) \
        if params.get("Destination") else None
    port = _port(params)
    if port is None:
        # AWS analyses every port when none is given; pocketlink's walk needs one.
        raise ServiceError("pocketlink analyses one destination port: give DestinationPort "
                           "or FilterAtSource.DestinationPortRange.",
                           code="MissingParameter")
    path_id = ids.new_id("nip")
    path = NetworkInsightsPath(
        id=path_id, account=context.account, region=context.region,
        arn=f"arn:aws:ec2:{context.region}:{context.account}:network-insights-path/{path_id}",
        source=source, destination=destination, source_ip=params.get("SourceIp"),
        destination_ip=destination_ip, protocol=protocol,
        destination_port=params.get("DestinationPort"), filter_at_source=at_source,
        filter_at_destination=_filter(params.get("FilterAtDestination")),
        tags=tags.from_specifications(params, "network-insights-path"))
    with context.store.transaction() as tx:
        tx.put(path)
    return {"NetworkInsightsPath": describe_path(path)}


@operation("ec2", "DescribeNetworkInsightsPaths")
def describe_paths(context: RequestContext, params: dict) -> dict:
    found = select(context, NetworkInsightsPath, params.get("NetworkInsightsPathIds"))
    found = filters.apply(found, params.get("Filters"), PATH_FILTERS)
    chunk, more = pages.page(found, params, low=1, high=100,
                             ids_param="NetworkInsightsPathIds")
    return {"NetworkInsightsPaths": [describe_path(p) for p in chunk], **more}


@operation("ec2", "DeleteNetworkInsightsPath")
def delete_path(context: RequestContext, params: dict) -> dict:
    path = require(context, NetworkInsightsPath, params["NetworkInsightsPathId"])
    analyses = [a.id for a in owned(context, NetworkInsightsAnalysis) if a.path_id == path.id]
    if analyses:
        raise ec2.AnalysisExistsForNetworkInsightsPath(", ".join(analyses), path.id)
    with context.store.transaction() as tx:
        tx.delete(path)
    return {"NetworkInsightsPathId": path.id}


def _address(store: Store, path: NetworkInsightsPath, instance: Instance) -> str | None:
    """The address the path's traffic is for: the one given, or its destination's (an
    endpoint's ENI in the source's zone, as its zonal DNS name gives it)."""
    given = path.destination_ip or path.filter_at_source.get("DestinationAddress")
    if given or not path.destination:
        return given
    if path.destination.startswith("i-"):
        target = store.get(Instance, path.destination)
        return target.private_ip_address if target else None
    if path.destination.startswith("eni-"):
        eni = store.get(NetworkInterface, path.destination)
        return eni.private_ip_address if eni else None
    endpoint = store.get(VpcEndpoint, path.destination)
    enis = [e for i in (endpoint.network_interface_ids if endpoint else [])
            if (e := store.get(NetworkInterface, i)) is not None]
    here = store.get(Subnet, instance.subnet_id)
    zone = here.availability_zone_id if here else None
    enis.sort(key=lambda e: (getattr(store.get(Subnet, e.subnet_id), "availability_zone_id",
                                     None) != zone))
    return enis[0].private_ip_address if enis else None


def _component(hop: Hop, region: str, account: str) -> dict:
    component = hop.component or ""
    return {"Id": component} if component.startswith("arn:") else \
        {"Id": component, "Arn": _arn(region, account, component)}


def _explanation(hop: Hop, diagnosis: Diagnosis, region: str, account: str) -> dict:
    explanation = {"ExplanationCode": EXPLANATIONS.get(hop.name, "BAD_STATE"),
                   "Component": _component(hop, region, account)}
    if hop.name == "destination" and (hop.component or "").startswith("i-"):
        explanation["ExplanationCode"] = "BAD_STATE"
    if hop.name in DIRECTIONS:
        explanation["Direction"] = DIRECTIONS[hop.name]
        explanation["SecurityGroups"] = [explanation["Component"]]
        explanation["Port"] = diagnosis.port
    if hop.name in ("NLB listener", "zone", "cross-zone") and hop.component:
        explanation["LoadBalancerArn"] = hop.component
        explanation["LoadBalancerListenerPort"] = diagnosis.port
    if hop.name in ("NLB SG ingress", "NLB SG egress"):
        # The load balancer's security group component: the walk named the NLB itself
        # on the hop before (its zone, or the node the address is).
        explanation["LoadBalancerArn"] = next(
            h.component for h in reversed(diagnosis.hops)
            if h.component and ":loadbalancer/" in h.component)
    if diagnosis.address:
        explanation["Address"] = diagnosis.address
    return explanation


def _forward(diagnosis: Diagnosis, region: str, account: str) -> list[dict]:
    components: list[dict] = []
    for hop in diagnosis.hops:
        if hop.verdict == FAIL or not hop.component or (
                components and components[-1]["Component"]["Id"] == hop.component):
            continue
        item: dict = {"SequenceNumber": len(components) + 1,
                      "Component": _component(hop, region, account)}
        if hop.name in DIRECTIONS and hop.component.startswith("sg-"):
            item["SecurityGroupRule"] = {"Direction": DIRECTIONS[hop.name],
                                         "SecurityGroupId": hop.component,
                                         "Protocol": "tcp",
                                         "PortRange": {"From": diagnosis.port,
                                                       "To": diagnosis.port}}
        if hop.name == "NLB listener":
            item["ElasticLoadBalancerListener"] = {"Id": hop.component, "Arn": hop.component}
        components.append(item)
    return components


def analyse(store: Store, path: NetworkInsightsPath, analysis: NetworkInsightsAnalysis
            ) -> None:
    """Fills ``analysis`` from the walk of ``path``."""
    instance_id = path.source
    if instance_id.startswith("eni-"):
        eni = store.get(NetworkInterface, instance_id)
        instance_id = (eni.instance_id if eni else None) or instance_id
    instance = store.get(Instance, instance_id)
    address = _address(store, path, instance) if instance else None
    port = path.destination_port or path.filter_at_source.get(
        "DestinationPortRange", {}).get("FromPort")
    if path.protocol != "tcp":
        analysis.status, analysis.status_message = "failed", \
            "pocketlink analyses TCP paths only"
        return
    if instance is None or address is None:
        analysis.status = "succeeded"
        analysis.network_path_found = False
        analysis.explanations = [{"ExplanationCode": "NO_SOURCE_OR_DESTINATION"}]
        return
    diagnosis = diagnose(store, instance.id, address, int(port))
    analysis.status = "succeeded"
    analysis.network_path_found = diagnosis.reachable
    if diagnosis.reachable:
        analysis.forward_path_components = _forward(diagnosis, path.region, path.account)
        walked = {v for c in analysis.forward_path_components
                  for v in c["Component"].values()}
        missed = [arn for arn in analysis.filter_in_arns
                  if arn not in walked and _id_of(arn) not in walked]
        if missed:
            # "There is no path that traverses the specified component."
            analysis.network_path_found = False
            analysis.forward_path_components = []
            analysis.explanations = [{"ExplanationCode": "COMPONENT_FILTER_RESTRICTION",
                                      "Component": {"Id": _id_of(arn), "Arn": arn}}
                                     for arn in missed]
    else:
        failure = diagnosis.failure
        assert failure is not None
        analysis.explanations = [_explanation(failure, diagnosis, path.region, path.account)]
    if any(h.verdict == NOTE for h in diagnosis.hops):
        analysis.warning_message = "; ".join(f"{h.name}: {h.detail}" for h in diagnosis.hops
                                            if h.verdict == NOTE)


def describe_analysis(analysis: NetworkInsightsAnalysis) -> dict:
    item: dict = {"NetworkInsightsAnalysisId": analysis.id,
                  "NetworkInsightsAnalysisArn": analysis.arn,
                  "NetworkInsightsPathId": analysis.path_id, "StartDate": analysis.created,
                  "Status": analysis.status, "Tags": tags.tag_set(analysis.tags)}
    if analysis.filter_in_arns:
        item["FilterInArns"] = analysis.filter_in_arns
    if analysis.status_message:
        item["StatusMessage"] = analysis.status_message
    if analysis.warning_message:
        item["WarningMessage"] = analysis.warning_message
    if analysis.network_path_found is not None:
        item["NetworkPathFound"] = analysis.network_path_found
    if analysis.forward_path_components:
        item["ForwardPathComponents"] = analysis.forward_path_components
    if analysis.explanations:
        item["Explanations"] = analysis.explanations
    return item


@operation("ec2", "StartNetworkInsightsAnalysis")
def start_analysis(context: RequestContext, params: dict) -> dict:
    path = require(context, NetworkInsightsPath, params["NetworkInsightsPathId"])
    if params.get("AdditionalAccounts") or params.get("FilterOutArns"):
        raise ec2.InvalidParameterValue(
            "pocketlink analyses within the path's account, without FilterOutArns")
    analysis_id = ids.new_id("nia")
    analysis = NetworkInsightsAnalysis(
        id=analysis_id, account=context.account, region=context.region,
        arn=f"arn:aws:ec2:{context.region}:{context.account}:network-insights-analysis/"
            f"{analysis_id}",
        path_id=path.id, status="running", filter_in_arns=params.get("FilterInArns") or [],
        tags=tags.from_specifications(params, "network-insights-analysis"))
    analyse(context.store, path, analysis)
    with context.store.transaction() as tx:
        tx.put(analysis)
    return {"NetworkInsightsAnalysis": describe_analysis(analysis)}


def _within(analysis: NetworkInsightsAnalysis, params: dict) -> bool:
    start: datetime | None = params.get("AnalysisStartTime")
    end: datetime | None = params.get("AnalysisEndTime")
    return (start is None or analysis.created >= start) and \
        (end is None or analysis.created <= end)


@operation("ec2", "DescribeNetworkInsightsAnalyses")
def describe_analyses(context: RequestContext, params: dict) -> dict:
    found = select(context, NetworkInsightsAnalysis, params.get("NetworkInsightsAnalysisIds"))
    path_id = params.get("NetworkInsightsPathId")
    if path_id:
        require(context, NetworkInsightsPath, path_id)
        found = [a for a in found if a.path_id == path_id]
    found = [a for a in filters.apply(found, params.get("Filters"), ANALYSIS_FILTERS)
             if _within(a, params)]
    chunk, more = pages.page(found, params, low=1, high=100,
                             ids_param="NetworkInsightsAnalysisIds")
    return {"NetworkInsightsAnalyses": [describe_analysis(a) for a in chunk], **more}


@operation("ec2", "DeleteNetworkInsightsAnalysis")
def delete_analysis(context: RequestContext, params: dict) -> dict:
    analysis = require(context, NetworkInsightsAnalysis, params["NetworkInsightsAnalysisId"])
    with context.store.transaction() as tx:
        tx.delete(analysis)
    return {"NetworkInsightsAnalysisId": analysis.id}
