"""The consumer's pages of PrivateLink: Endpoints (the list with live status, the details
with DNS names and copy buttons, Modify private DNS name / IP address type / subnets) and
Create endpoint (an AWS service from the list, or an endpoint service found by name and
checked with Verify service, which is DescribeVpcEndpointServices of that name)."""

from __future__ import annotations

import json
from collections import defaultdict

from botocore.exceptions import ClientError

from pocketlink.console.layout import Page
from pocketlink.console.markup import (
    button_link,
    choices,
    copyable,
    dash,
    details,
    esc,
    form,
    hidden,
    link,
    live_region,
    name_tag,
    select,
    status,
    submit,
    success_flash,
    table,
    tabs,
    text_field,
    textarea,
    when,
)
from pocketlink.console.routing import get, post
from pocketlink.console.view import Json, Redirect, View

BASE = "vpc/endpoints"
LIVE = "/_pocketlink/console/live/endpoints"
# States an endpoint leaves only by a new action: the page stops asking about it.
SETTLED = "available rejected failed deleted expired"
FULL_ACCESS = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                         "Resource": "*"}]}, indent=2)
_IP_TYPES = (("ipv4", "IPv4"), ("dualstack", "Dualstack"), ("ipv6", "IPv6"))
SERVICES_PAGE = 50  # AWS services a page of Create endpoint lists
_CATEGORIES = (("aws", "AWS services"),
               ("other", "Endpoint services that use NLBs and GWLBs"))


@get(BASE)
def endpoints(view: View) -> Page:
    found = view.ec2.describe_vpc_endpoints()["VpcEndpoints"]
    rows = [[esc(name_tag(e)) or "&ndash;", link(f"{BASE}/{e['VpcEndpointId']}", e["VpcEndpointId"]),
             link(f"vpc/vpcs/{e['VpcId']}", e["VpcId"]), esc(e["ServiceName"]),
             esc(e["VpcEndpointType"]), status(e["State"], e["VpcEndpointId"]),
             when(e.get("CreationTimestamp"))] for e in found]
    body = (button_link(f"{BASE}/create", "Create endpoint", primary=True)
            + table("Endpoints", ["Name", "VPC endpoint ID", "VPC ID", "Service name",
                                  "Endpoint type", "Status", "Creation time"], rows,
                    empty="No endpoints found", live=LIVE, settled=SETTLED))
    return Page("Endpoints", body)


@get("live/endpoints")
def live(view: View) -> Json:
    """The states of the endpoints ``?ids=`` names (comma-separated): those the page waits on."""
    found = view.ec2.describe_vpc_endpoints(Filters=[
        {"Name": "vpc-endpoint-id", "Values": view.query.get("ids", "").split(",")}])
    return Json({e["VpcEndpointId"]: e["State"] for e in found["VpcEndpoints"]})


# --- Create endpoint -------------------------------------------------------------------
@get(f"{BASE}/create")
def create_form(view: View) -> Page:
    return _create_page(view)


def _create_page(view: View, verified: dict | None = None) -> Page:
    category = view.value("category", "aws")
    vpc_list = view.ec2.describe_vpcs()["Vpcs"]
    vpc_id = view.value("vpc", vpc_list[0]["VpcId"] if vpc_list else "")
    chosen = _chosen_service(view, category, verified)
    fields = [text_field("name", "Name tag - optional", view.value("name")),
              choices("category", "Type", _CATEGORIES, [category], kind="radio",
                      refresh="category"),
              submit("Show services", "step", "category")]
    if category == "aws":
        fields += [text_field("service_filter", "Filter services", view.value("service_filter"),
                              hint="Part of a name: ssm, ecr, s3...", kind="search",
                              filters="aws_service"),
                   submit("Filter", "step", "filter"), _aws_services(view, chosen)]
    else:
        fields += [text_field("service_name", "Service name", view.value("service_name"),
                              placeholder="com.amazonaws.vpce.us-east-1.vpce-svc-..."),
                   submit("Verify service", "step", "verify")]
        if chosen:
            fields.append(success_flash("Service name verified."))
    fields.append(select("vpc", "VPC", [(v["VpcId"], f"{v['VpcId']} {name_tag(v)}".strip())
                                        for v in vpc_list], vpc_id, refresh="vpc"))
    fields.append(submit("Show subnets and security groups", "step", "vpc"))
    if vpc_id:
        fields += _network_fields(view, vpc_id, chosen)
    policy = view.value("policy", "full")
    if chosen is None or _type_of(chosen) == "Interface":
        fields += [choices("private_dns", "Additional settings", [("on", "Enable DNS name")],
                           view.values("private_dns") if view.value("step") == "create" else
                           (["on"] if chosen and chosen.get("PrivateDnsName") and
                            category == "aws" else view.values("private_dns"))),
                   choices("ip_type", "IP address type", _IP_TYPES,
                           [view.value("ip_type", "ipv4")], kind="radio")]
    fields += [choices("policy", "Policy", (("full", "Full access"), ("custom", "Custom")),
                       [policy], kind="radio"),
               textarea("policy_document", "Policy document", view.value("policy_document",
                                                                         FULL_ACCESS),
                        hint="Used with Custom: a JSON endpoint policy"),
               submit("Create endpoint", "step", "create", primary=True)]
    body = form(f"{BASE}/create", *fields, label="Create endpoint")
    return Page("Create endpoint", body, crumbs=[(BASE, "Endpoints")])


def _chosen_service(view: View, category: str, verified: dict | None) -> dict | None:
    """The service the form names (an AWS service's radio, or the name found), as
    DescribeVpcEndpointServices tells it; None until one is chosen."""
    if verified is not None:
        return verified
    name, kind = _named(view, category)
    if not name or not view.posted:
        return None
    try:
        found = view.ec2.describe_vpc_endpoint_services(ServiceNames=[name])["ServiceDetails"]
    except ClientError:
        return None
    return next((s for s in found if not kind or _type_of(s) == kind), None)


def _named(view: View, category: str) -> tuple[str, str]:
    """(service name, type) the form names: an AWS service's radio value is "name|type"
    (S3 and DynamoDB are offered both as Gateway and as Interface services)."""
    if category == "aws":
        name, _, kind = view.value("aws_service").partition("|")
        return name.strip(), kind
    return view.value("service_name").strip(), ""


def _type_of(service: dict) -> str:
    return service["ServiceType"][0]["ServiceType"]


def _aws_services(view: View, chosen: dict | None) -> str:
    """AWS's services, as DescribeVpcEndpointServices lists them (owner amazon), a page of
    ``SERVICES_PAGE`` at a time (NextToken, as AWS's console pages its table), those whose
    name has the filter's text when one is given (the API's wildcard filter)."""
    wanted, step = view.value("service_filter").strip(), view.value("step")
    asked = [{"Name": "owner", "Values": ["amazon"]}]
    if wanted:
        asked.append({"Name": "service-name", "Values": [f"*{wanted}*"]})
    token = {"more": view.value("services_next"), "filter": ""}.get(
        step, view.value("services_token"))
    params: dict = {"Filters": asked, "MaxResults": SERVICES_PAGE}
    if token:
        params["NextToken"] = token
    answer = view.ec2.describe_vpc_endpoint_services(**params)
    listed = answer["ServiceDetails"]
    if chosen and chosen not in listed:
        listed.insert(0, chosen)
    options = [(f'{s["ServiceName"]}|{_type_of(s)}', f'{esc(s["ServiceName"])} '
                f'<span class="hint">{esc(_type_of(s))}</span>') for s in listed]
    picked = [f'{chosen["ServiceName"]}|{_type_of(chosen)}'] if chosen else []
    paging = hidden("services_token", token)
    if answer.get("NextToken"):
        paging += hidden("services_next", answer["NextToken"]) + submit(
            "Next services", "step", "more")
    if token:
        paging += submit("First services", "step", "filter")
    return choices("aws_service", "Services", options, picked, kind="radio", scroll=True,
                   refresh="service") + paging


def _network_fields(view: View, vpc_id: str, service: dict | None) -> list[str]:
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    if service is not None and _type_of(service) == "Gateway":
        tables = view.ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
        options = [(t["RouteTableId"], f'{esc(t["RouteTableId"])} {esc(name_tag(t))}')
                   for t in tables]
        return [choices("route_tables", "Route tables", options, view.values("route_tables"),
                        hint="A gateway endpoint is a route on each table chosen")]
    subnet_list = view.ec2.describe_subnets(Filters=in_vpc)["Subnets"]
    zones = set(service.get("AvailabilityZones", [])) if service else set()
    by_zone: dict[str, list[dict]] = defaultdict(list)
    for subnet in subnet_list:
        by_zone[subnet["AvailabilityZone"]].append(subnet)
    per_zone = []
    for zone in sorted(by_zone):
        options = [("", "No subnet")] + [
            (s["SubnetId"], f"{s['SubnetId']} {name_tag(s)} ({s['CidrBlock']})".strip())
            for s in by_zone[zone]]
        offered = "" if not zones or zone in zones else " (the service is not in this zone)"
        zone_id = by_zone[zone][0].get("AvailabilityZoneId", "")
        per_zone.append(select(f"subnet:{zone}", f"{zone} ({zone_id}){offered}", options,
                               view.value(f"subnet:{zone}")))
    groups = view.ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
    group_options = [(g["GroupId"], f'{esc(g["GroupId"])} {esc(g["GroupName"])}') for g in groups]
    return [f'<fieldset><legend>Subnets</legend>{"".join(per_zone) or "No subnets"}</fieldset>',
            choices("groups", "Security groups", group_options, view.values("groups"))]


@post(f"{BASE}/create")
def create(view: View):
    step = view.value("step")
    if step == "verify":
        return _verify(view)
    if step != "create":  # another type, service or VPC chosen: the form again, for it
        return _create_page(view)
    category = view.value("category", "aws")
    name, service_type = _named(view, category)
    subnets = [v[0] for k, v in view.form.items() if k.startswith("subnet:") and v and v[0]]
    params: dict = {"VpcId": view.value("vpc"), "ServiceName": name,
                    "VpcEndpointType": service_type or _service_type(view, name)}
    if params["VpcEndpointType"] == "Gateway":
        params["RouteTableIds"] = view.values("route_tables")
    else:
        params.update(SubnetIds=subnets, SecurityGroupIds=view.values("groups"),
                      IpAddressType=view.value("ip_type", "ipv4"),
                      PrivateDnsEnabled=bool(view.values("private_dns")))
    if view.value("policy") == "custom":
        params["PolicyDocument"] = view.value("policy_document")
    params.update(view.name_tag_specifications("vpc-endpoint"))
    try:
        made = view.ec2.create_vpc_endpoint(**params)["VpcEndpoint"]
    except ClientError as error:
        view.failed(error)
        return _create_page(view)
    return Redirect(f"{BASE}/{made['VpcEndpointId']}",
                    f"Created VPC endpoint {made['VpcEndpointId']}")


def _service_type(view: View, name: str) -> str:
    """Interface unless the named service is a gateway one (S3, DynamoDB) only."""
    try:
        found = view.ec2.describe_vpc_endpoint_services(ServiceNames=[name])["ServiceDetails"]
    except ClientError:
        return "Interface"
    types = {t["ServiceType"] for s in found for t in s.get("ServiceType", [])}
    return "Gateway" if types == {"Gateway"} else "Interface"


def _verify(view: View) -> Page:
    """Verify service: the name, asked of DescribeVpcEndpointServices as the console does."""
    try:
        found = view.ec2.describe_vpc_endpoint_services(
            ServiceNames=[view.value("service_name").strip()])["ServiceDetails"]
    except ClientError as error:
        view.failed(error)
        return _create_page(view)
    return _create_page(view, verified=found[0] if found else None)


# --- Details and modifications ---------------------------------------------------------
def _endpoint(view: View) -> dict:
    [found] = view.ec2.describe_vpc_endpoints(VpcEndpointIds=[view.params["id"]])["VpcEndpoints"]
    return found


_TABS = (("details", "Details"), ("subnets", "Subnets"), ("groups", "Security groups"),
         ("policy", "Policy"))


@get(f"{BASE}/{{id}}")
def endpoint(view: View) -> Page:
    return _endpoint_page(view)


def _endpoint_page(view: View, tab: str = "") -> Page:
    found = _endpoint(view)
    endpoint_id = found["VpcEndpointId"]
    tab = tab or view.query.get("tab", "details")
    names = "".join(f"<li>{copyable(d['DnsName'], 'DNS name')}</li>"
                    for d in found.get("DnsEntries", []))
    panel = details([
        ("Endpoint ID", esc(endpoint_id)), ("Status", status(found["State"], endpoint_id)),
        ("Status message", dash((found.get("LastError") or {}).get("Message"))),
        ("VPC ID", link(f"vpc/vpcs/{found['VpcId']}", found["VpcId"])),
        ("Service name", copyable(found["ServiceName"], "service name")),
        ("Endpoint type", esc(found["VpcEndpointType"])),
        ("Private DNS names enabled", "Yes" if found.get("PrivateDnsEnabled") else "No"),
        ("IP address type", dash(found.get("IpAddressType"))),
        ("DNS record IP type", dash((found.get("DnsOptions") or {}).get("DnsRecordIpType"))),
        ("Creation time", when(found.get("CreationTimestamp"))),
        ("DNS names", f'<ul class="plain">{names}</ul>' if names else "&ndash;")],
        title="Details")
    if tab == "subnets":
        content = _subnets_tab(view, found)
    elif tab == "groups":
        content = _groups_tab(view, found)
    elif tab == "policy":
        content = (f'<section class="panel"><h2>Policy</h2><pre>'
                   f'{esc(_pretty(found.get("PolicyDocument", "")))}</pre></section>')
    else:
        content = _modify_forms(view, found)
    body = (live_region(panel, LIVE, SETTLED)
            + tabs(f"{BASE}/{endpoint_id}", tab, _TABS) + content
            + form(f"{BASE}/{endpoint_id}/delete", submit("Delete endpoint"),
                   label="Delete endpoint"))
    return Page(name_tag(found) or endpoint_id, body, crumbs=[(BASE, "Endpoints")])


def _pretty(document: str) -> str:
    try:
        return json.dumps(json.loads(document), indent=2)
    except ValueError:
        return document


def _subnets_tab(view: View, found: dict) -> str:
    interfaces = {}
    if found.get("NetworkInterfaceIds"):
        interfaces = {n["SubnetId"]: n for n in view.ec2.describe_network_interfaces(
            NetworkInterfaceIds=found["NetworkInterfaceIds"])["NetworkInterfaces"]}
    subnet_list = view.ec2.describe_subnets(SubnetIds=found["SubnetIds"])["Subnets"] \
        if found.get("SubnetIds") else []
    rows = [[link(f"vpc/subnets/{s['SubnetId']}", s["SubnetId"]), esc(s["AvailabilityZone"]),
             dash(interfaces.get(s["SubnetId"], {}).get("NetworkInterfaceId")),
             dash(interfaces.get(s["SubnetId"], {}).get("PrivateIpAddress")),
             dash(", ".join(a["Ipv6Address"] for a in
                            interfaces.get(s["SubnetId"], {}).get("Ipv6Addresses", [])))]
            for s in subnet_list]
    chosen = {s["AvailabilityZone"]: s["SubnetId"] for s in subnet_list}
    vpc_subnets = view.ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [found["VpcId"]]}])["Subnets"]
    by_zone: dict[str, list[dict]] = defaultdict(list)
    for subnet in vpc_subnets:
        by_zone[subnet["AvailabilityZone"]].append(subnet)
    selects = [select(f"subnet:{zone}", zone, [("", "No subnet")] + [
        (s["SubnetId"], f"{s['SubnetId']} ({s['CidrBlock']})") for s in by_zone[zone]],
        view.value(f"subnet:{zone}", chosen.get(zone, ""))) for zone in sorted(by_zone)]
    manage = form(f"{BASE}/{found['VpcEndpointId']}/subnets", *selects,
                  submit="Modify subnets", label="Manage subnets")
    return (table("Subnets", ["Subnet ID", "Availability Zone", "Network interface ID",
                              "IPv4 address", "IPv6 address"], rows, empty="No subnets")
            + f'<section class="panel"><h2>Manage subnets</h2>{manage}</section>')


def _groups_tab(view: View, found: dict) -> str:
    rows = [[link(f"vpc/security-groups/{g['GroupId']}", g["GroupId"]), esc(g["GroupName"])]
            for g in found.get("Groups", [])]
    return table("Security groups", ["Group ID", "Group name"], rows,
                 empty="No security groups")


def _modify_forms(view: View, found: dict) -> str:
    endpoint_id = found["VpcEndpointId"]
    dns = form(f"{BASE}/{endpoint_id}/private-dns",
               choices("private_dns", "Modify private DNS name", [("on", "Enable private DNS names")],
                       ["on"] if found.get("PrivateDnsEnabled") else []),
               submit="Save changes", label="Modify private DNS name")
    ip = form(f"{BASE}/{endpoint_id}/ip-type",
              choices("ip_type", "IP address type", _IP_TYPES, [found.get("IpAddressType", "")],
                      kind="radio"),
              submit="Save changes", label="Modify IP address type")
    return (f'<section class="panel"><h2>Modify private DNS name</h2>{dns}</section>'
            f'<section class="panel"><h2>Modify IP address type</h2>{ip}</section>')


def _modify(view: View, tab: str, done: str, **params) -> Page | Redirect:
    try:
        view.ec2.modify_vpc_endpoint(VpcEndpointId=view.params["id"], **params)
    except ClientError as error:
        view.failed(error)
        return _endpoint_page(view, tab)
    return Redirect(f"{BASE}/{view.params['id']}?tab={tab}", done)


@post(f"{BASE}/{{id}}/private-dns")
def modify_private_dns(view: View):
    return _modify(view, "details", "Modified the private DNS names",
                   PrivateDnsEnabled=bool(view.values("private_dns")))


@post(f"{BASE}/{{id}}/ip-type")
def modify_ip_type(view: View):
    ip_type = view.value("ip_type")
    return _modify(view, "details", "Modified the IP address type", IpAddressType=ip_type,
                   DnsOptions={"DnsRecordIpType": ip_type})


@post(f"{BASE}/{{id}}/subnets")
def modify_subnets(view: View):
    current = set(_endpoint(view).get("SubnetIds", []))
    wanted = {v[0] for k, v in view.form.items() if k.startswith("subnet:") and v and v[0]}
    params = {k: sorted(v) for k, v in (("AddSubnetIds", wanted - current),
                                        ("RemoveSubnetIds", current - wanted)) if v}
    return _modify(view, "subnets", "Modified the subnets", **params)


@post(f"{BASE}/{{id}}/delete")
def delete(view: View):
    try:
        result = view.ec2.delete_vpc_endpoints(VpcEndpointIds=[view.params["id"]])
    except ClientError as error:
        view.failed(error)
        return _endpoint_page(view)
    for item in result.get("Unsuccessful", []):
        view.failed(ClientError({"Error": item.get("Error", {})}, "DeleteVpcEndpoints"))
        return _endpoint_page(view)
    return Redirect(BASE, f"Deleted VPC endpoint {view.params['id']}")
