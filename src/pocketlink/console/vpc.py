"""The VPC console's pages: Your VPCs, Subnets, Route tables, Security groups (whose
inbound and outbound rules are added and removed here, with Authorize/Revoke
SecurityGroupIngress/Egress)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pocketlink.console.layout import Page
from pocketlink.console.markup import (
    dash,
    details,
    esc,
    form,
    hidden,
    link,
    name_tag,
    select,
    status,
    submit,
    table,
    tabs,
    text_field,
)
from pocketlink.console.routing import get, post
from pocketlink.console.view import Redirect, View
from pocketlink.wire.numbers import integer


def _ipv6(vpc_or_subnet: dict) -> str:
    return ", ".join(a.get("Ipv6CidrBlock", "") for a in
                     vpc_or_subnet.get("Ipv6CidrBlockAssociationSet", []))


# --- VPCs ------------------------------------------------------------------------------
@get("vpc/vpcs")
def vpcs(view: View) -> Page:
    found = view.ec2.describe_vpcs()["Vpcs"]
    rows = [[esc(name_tag(v)) or "&ndash;", link(f"vpc/vpcs/{v['VpcId']}", v["VpcId"]),
             status(v["State"]), esc(v["CidrBlock"]), dash(_ipv6(v)), dash(v.get("DhcpOptionsId")),
             "Yes" if v.get("IsDefault") else "No", esc(v.get("OwnerId"))] for v in found]
    return Page("Your VPCs", table("VPCs", ["Name", "VPC ID", "State", "IPv4 CIDR", "IPv6 CIDR",
                                            "DHCP option set", "Default VPC", "Owner ID"], rows,
                                   empty="No VPCs found in this Region"))


@get("vpc/vpcs/{id}")
def vpc(view: View) -> Page:
    vpc_id = view.params["id"]
    [found] = view.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    dns = {name: view.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)
           for name in ("enableDnsSupport", "enableDnsHostnames")}
    panel = details([
        ("VPC ID", esc(vpc_id)), ("State", status(found["State"])),
        ("IPv4 CIDR", esc(found["CidrBlock"])), ("IPv6 CIDR", dash(_ipv6(found))),
        ("DNS resolution", _enabled(dns["enableDnsSupport"]["EnableDnsSupport"]["Value"])),
        ("DNS hostnames", _enabled(dns["enableDnsHostnames"]["EnableDnsHostnames"]["Value"])),
        ("DHCP option set", dash(found.get("DhcpOptionsId"))),
        ("Default VPC", "Yes" if found.get("IsDefault") else "No"),
        ("Owner ID", esc(found.get("OwnerId")))])
    subnets = view.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return Page(name_tag(found) or vpc_id, panel + _subnet_table(subnets),
                crumbs=[("vpc/vpcs", "Your VPCs")])


def _enabled(value: bool) -> str:
    return "Enabled" if value else "Disabled"


# --- Subnets ---------------------------------------------------------------------------
def _subnet_table(found: list[dict]) -> str:
    rows = [[esc(name_tag(s)) or "&ndash;", link(f"vpc/subnets/{s['SubnetId']}", s["SubnetId"]),
             status(s["State"]), link(f"vpc/vpcs/{s['VpcId']}", s["VpcId"]), esc(s["CidrBlock"]),
             dash(_ipv6(s)), esc(s.get("AvailableIpAddressCount")), esc(s["AvailabilityZone"]),
             esc(s.get("AvailabilityZoneId"))] for s in found]
    return table("Subnets", ["Name", "Subnet ID", "State", "VPC", "IPv4 CIDR", "IPv6 CIDR",
                             "Available IPv4 addresses", "Availability Zone",
                             "Availability Zone ID"], rows, empty="No subnets found")


@get("vpc/subnets")
def subnets(view: View) -> Page:
    return Page("Subnets", _subnet_table(view.ec2.describe_subnets()["Subnets"]))


@get("vpc/subnets/{id}")
def subnet(view: View) -> Page:
    [found] = view.ec2.describe_subnets(SubnetIds=[view.params["id"]])["Subnets"]
    tables = view.ec2.describe_route_tables(Filters=[
        {"Name": "association.subnet-id", "Values": [found["SubnetId"]]}])["RouteTables"] or \
        view.ec2.describe_route_tables(Filters=[
            {"Name": "vpc-id", "Values": [found["VpcId"]]},
            {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    panel = details([
        ("Subnet ID", esc(found["SubnetId"])), ("State", status(found["State"])),
        ("VPC", link(f"vpc/vpcs/{found['VpcId']}", found["VpcId"])),
        ("IPv4 CIDR", esc(found["CidrBlock"])), ("IPv6 CIDR", dash(_ipv6(found))),
        ("Available IPv4 addresses", esc(found.get("AvailableIpAddressCount"))),
        ("Availability Zone", esc(found["AvailabilityZone"])),
        ("Availability Zone ID", esc(found.get("AvailabilityZoneId"))),
        ("Route table", ", ".join(link(f"vpc/route-tables/{t['RouteTableId']}", t["RouteTableId"])
                                  for t in tables) or "&ndash;"),
        ("Auto-assign public IPv4 address", "Yes" if found.get("MapPublicIpOnLaunch") else "No"),
        ("Owner", esc(found.get("OwnerId")))])
    return Page(name_tag(found) or found["SubnetId"], panel, crumbs=[("vpc/subnets", "Subnets")])


# --- Route tables ----------------------------------------------------------------------
@get("vpc/route-tables")
def route_tables(view: View) -> Page:
    rows = []
    for t in view.ec2.describe_route_tables()["RouteTables"]:
        explicit = [a["SubnetId"] for a in t.get("Associations", []) if a.get("SubnetId")]
        main = any(a.get("Main") for a in t.get("Associations", []))
        rows.append([esc(name_tag(t)) or "&ndash;",
                     link(f"vpc/route-tables/{t['RouteTableId']}", t["RouteTableId"]),
                     dash(", ".join(explicit)), "Yes" if main else "No",
                     link(f"vpc/vpcs/{t['VpcId']}", t["VpcId"]), esc(t.get("OwnerId"))])
    return Page("Route tables", table("Route tables", ["Name", "Route table ID",
                                                        "Explicit subnet associations", "Main",
                                                        "VPC", "Owner ID"], rows))


_TARGETS = ("GatewayId", "NatGatewayId", "VpcPeeringConnectionId", "NetworkInterfaceId",
            "InstanceId", "EgressOnlyInternetGatewayId", "TransitGatewayId")


@get("vpc/route-tables/{id}")
def route_table(view: View) -> Page:
    [found] = view.ec2.describe_route_tables(RouteTableIds=[view.params["id"]])["RouteTables"]
    routes = [[esc(r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock")
                   or r.get("DestinationPrefixListId")),
               esc(next((r[k] for k in _TARGETS if r.get(k)), "&ndash;")), status(r.get("State", "")),
               "Yes" if r.get("Origin") == "EnableVgwRoutePropagation" else "No"]
              for r in found.get("Routes", [])]
    associations = [[link(f"vpc/subnets/{a['SubnetId']}", a["SubnetId"]),
                     esc(a.get("AssociationState", {}).get("State"))]
                    for a in found.get("Associations", []) if a.get("SubnetId")]
    body = details([("Route table ID", esc(found["RouteTableId"])),
                    ("Main", "Yes" if any(a.get("Main") for a in found.get("Associations", []))
                     else "No"),
                    ("VPC", link(f"vpc/vpcs/{found['VpcId']}", found["VpcId"])),
                    ("Owner ID", esc(found.get("OwnerId")))])
    body += table("Routes", ["Destination", "Target", "Status", "Propagated"], routes)
    body += table("Explicit subnet associations", ["Subnet ID", "State"], associations,
                  empty="No subnet associations")
    return Page(name_tag(found) or found["RouteTableId"], body,
                crumbs=[("vpc/route-tables", "Route tables")])


# --- Security groups -------------------------------------------------------------------
@get("vpc/security-groups")
def security_groups(view: View) -> Page:
    rows = [[esc(name_tag(g)) or "&ndash;", link(f"vpc/security-groups/{g['GroupId']}", g["GroupId"]),
             esc(g["GroupName"]), link(f"vpc/vpcs/{g['VpcId']}", g["VpcId"]) if g.get("VpcId")
             else "&ndash;", esc(g["Description"]), esc(g.get("OwnerId")),
             esc(_count(g.get("IpPermissions", []))), esc(_count(g.get("IpPermissionsEgress", [])))]
            for g in view.ec2.describe_security_groups()["SecurityGroups"]]
    return Page("Security groups", table(
        "Security groups", ["Name", "Security group ID", "Security group name", "VPC ID",
                            "Description", "Owner", "Inbound rules count",
                            "Outbound rules count"], rows))


def _count(permissions: list[dict]) -> int:
    return sum(len(p.get("IpRanges", [])) + len(p.get("Ipv6Ranges", [])) +
               len(p.get("UserIdGroupPairs", [])) + len(p.get("PrefixListIds", []))
               for p in permissions)


_PROTOCOLS = (("tcp", "TCP"), ("udp", "UDP"), ("icmp", "ICMP"), ("icmpv6", "ICMPv6"),
              ("-1", "All traffic"))


def _protocol(rule: dict) -> str:
    return dict(_PROTOCOLS).get(rule["IpProtocol"], rule["IpProtocol"])


def _ports(rule: dict) -> str:
    if rule["IpProtocol"] == "-1":
        return "All"
    low, high = rule.get("FromPort"), rule.get("ToPort")
    return str(low) if low == high else f"{low} - {high}"


def _peer(rule: dict) -> str:
    group = rule.get("ReferencedGroupInfo", {}).get("GroupId")
    if group:
        return link(f"vpc/security-groups/{group}", group)
    return esc(rule.get("CidrIpv4") or rule.get("CidrIpv6") or rule.get("PrefixListId"))


@get("vpc/security-groups/{id}")
def security_group(view: View) -> Page:
    return _group_page(view)


def _group_page(view: View, editing: str = "") -> Page:
    group_id = view.params["id"]
    [found] = view.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    rules = view.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    tab = view.query.get("tab", editing or "inbound")
    egress = tab == "outbound"
    shown = [r for r in rules if r.get("IsEgress", False) == egress]
    direction = "outbound" if egress else "inbound"
    rows = [[esc(r["SecurityGroupRuleId"]), "IPv6" if r.get("CidrIpv6") else "IPv4",
             esc(_protocol(r)), esc(_ports(r)), _peer(r), dash(r.get("Description")),
             form(f"vpc/security-groups/{group_id}/revoke",
                  hidden("direction", direction), hidden("rule", r["SecurityGroupRuleId"]),
                  submit("Delete", primary=False), label=f"Delete rule {r['SecurityGroupRuleId']}")]
            for r in shown]
    panel = details([("Security group name", esc(found["GroupName"])),
                     ("Security group ID", esc(group_id)), ("Description", esc(found["Description"])),
                     ("VPC ID", link(f"vpc/vpcs/{found['VpcId']}", found["VpcId"])
                      if found.get("VpcId") else "&ndash;"),
                     ("Owner", esc(found.get("OwnerId"))),
                     ("Inbound rules count", esc(_count(found.get("IpPermissions", [])))),
                     ("Outbound rules count", esc(_count(found.get("IpPermissionsEgress", []))))])
    heading = "Outbound rules" if egress else "Inbound rules"
    where = "Destination" if egress else "Source"
    adding = form(f"vpc/security-groups/{group_id}/authorize",
                  hidden("direction", direction),
                  select("protocol", "Protocol", _PROTOCOLS, view.value("protocol", "tcp")),
                  text_field("ports", "Port range", view.value("ports"),
                             hint="A port (443) or a range (1024-2048); empty for all traffic"),
                  text_field("peer", where, view.value("peer"),
                             hint="A CIDR block (10.0.0.0/16, ::/0) or a security group ID"),
                  text_field("description", "Description - optional", view.value("description")),
                  submit=f"Add {direction} rule", label=f"Add {direction} rule")
    body = (panel + tabs(f"vpc/security-groups/{group_id}", tab,
                         [("inbound", "Inbound rules"), ("outbound", "Outbound rules")])
            + table(heading, ["Security group rule ID", "IP version", "Protocol", "Port range",
                              where, "Description", "Actions"], rows,
                    empty=f"No {direction} rules")
            + f'<section class="panel"><h2>Add {direction} rule</h2>{adding}</section>')
    return Page(found["GroupName"], body, crumbs=[("vpc/security-groups", "Security groups")])


def _permission(view: View) -> dict:
    protocol = view.value("protocol", "tcp")
    permission: dict = {"IpProtocol": protocol}
    ports = view.value("ports").strip()
    if protocol != "-1":
        low, _, high = ports.partition("-")
        low, high = integer(low.strip(), signed=True), integer(high.strip())
        permission["FromPort"] = -1 if low is None else low
        permission["ToPort"] = permission["FromPort"] if high is None else high
    peer, description = view.value("peer").strip(), view.value("description").strip()
    extra = {"Description": description} if description else {}
    if peer.startswith("sg-"):
        permission["UserIdGroupPairs"] = [{"GroupId": peer, **extra}]
    elif ":" in peer:
        permission["Ipv6Ranges"] = [{"CidrIpv6": peer, **extra}]
    else:
        permission["IpRanges"] = [{"CidrIp": peer, **extra}]
    return permission


def _change_rules(view: View, ingress, egress, done: str, **params) -> Page | Redirect:
    """One call on the group's inbound (``ingress``) or outbound (``egress``) rules, as the
    form's ``direction`` says; the group's page again, on that tab."""
    group_id, direction = view.params["id"], view.value("direction")
    call = egress if direction == "outbound" else ingress
    try:
        call(GroupId=group_id, **params)
    except ClientError as error:
        view.failed(error)
        return _group_page(view, direction)
    return Redirect(f"vpc/security-groups/{group_id}?tab={direction}", done)


@post("vpc/security-groups/{id}/authorize")
def authorize(view: View):
    return _change_rules(
        view, view.ec2.authorize_security_group_ingress, view.ec2.authorize_security_group_egress,
        f"Added an {view.value('direction')} rule to {view.params['id']}",
        IpPermissions=[_permission(view)])


@post("vpc/security-groups/{id}/revoke")
def revoke(view: View):
    return _change_rules(
        view, view.ec2.revoke_security_group_ingress, view.ec2.revoke_security_group_egress,
        f"Deleted rule {view.value('rule')}", SecurityGroupRuleIds=[view.value("rule")])
