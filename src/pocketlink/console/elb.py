"""The EC2 console's load balancing pages: Load Balancers with their listeners, and
Target Groups with their targets' health, live (DescribeTargetHealth)."""

from __future__ import annotations

from pocketlink.console.layout import Page
from pocketlink.console.markup import copyable, dash, details, esc, link, status, table, when
from pocketlink.console.routing import get
from pocketlink.console.view import Json, View


def _group_name(arn: str) -> str:
    return arn.split(":targetgroup/")[-1].split("/")[0]


@get("ec2/load-balancers")
def load_balancers(view: View) -> Page:
    rows = [[link(f"ec2/load-balancers/{b['LoadBalancerName']}", b["LoadBalancerName"]),
             esc(b.get("DNSName")), status(b["State"]["Code"]),
             link(f"vpc/vpcs/{b['VpcId']}", b["VpcId"]),
             esc(", ".join(z["ZoneName"] for z in b.get("AvailabilityZones", []))),
             esc(b["Type"]), esc(b["Scheme"]), esc(b.get("IpAddressType")),
             when(b.get("CreatedTime"))]
            for b in view.elbv2.describe_load_balancers()["LoadBalancers"]]
    return Page("Load balancers", table("Load balancers", [
        "Name", "DNS name", "State", "VPC ID", "Availability Zones", "Type", "Scheme",
        "IP address type", "Date created"], rows, empty="No load balancers"))


@get("ec2/load-balancers/{name}")
def load_balancer(view: View) -> Page:
    [found] = view.elbv2.describe_load_balancers(Names=[view.params["name"]])["LoadBalancers"]
    panel = details([
        ("Load balancer type", esc(found["Type"])), ("Status", status(found["State"]["Code"])),
        ("Scheme", esc(found["Scheme"])), ("IP address type", esc(found.get("IpAddressType"))),
        ("VPC", link(f"vpc/vpcs/{found['VpcId']}", found["VpcId"])),
        ("DNS name", copyable(found.get("DNSName", ""), "DNS name")),
        ("Load balancer ARN", copyable(found["LoadBalancerArn"], "ARN")),
        ("Date created", when(found.get("CreatedTime")))])
    mapping = [[esc(z["ZoneName"]), link(f"vpc/subnets/{z['SubnetId']}", z["SubnetId"]),
                dash(", ".join(a.get("PrivateIPv4Address") or a.get("IpAddress", "")
                               for a in z.get("LoadBalancerAddresses", []))),
                dash(", ".join(a.get("IPv6Address", "") for a in z.get("LoadBalancerAddresses", [])))]
               for z in found.get("AvailabilityZones", [])]
    listeners = view.elbv2.describe_listeners(
        LoadBalancerArn=found["LoadBalancerArn"])["Listeners"]
    rows = [[esc(f"{li['Protocol']}:{li['Port']}"),
             ", ".join(_action(a) for a in li.get("DefaultActions", [])),
             dash(li.get("SslPolicy")), esc(li["ListenerArn"].rsplit("/", 1)[-1])]
            for li in listeners]
    body = (panel + table("Network mapping", ["Zone", "Subnet", "IPv4 address", "IPv6 address"],
                          mapping)
            + table("Listeners", ["Protocol:Port", "Default action", "Security policy",
                                  "Listener ID"], rows, empty="No listeners"))
    return Page(found["LoadBalancerName"], body, crumbs=[("ec2/load-balancers", "Load balancers")])


def _action(action: dict) -> str:
    if not action.get("TargetGroupArn"):
        return esc(action["Type"])
    name = _group_name(action["TargetGroupArn"])
    return f"Forward to {link(f'ec2/target-groups/{name}', name)}"


@get("ec2/target-groups")
def target_groups(view: View) -> Page:
    balancers = {b["LoadBalancerArn"]: b["LoadBalancerName"]
                 for b in view.elbv2.describe_load_balancers()["LoadBalancers"]}
    rows = [[link(f"ec2/target-groups/{g['TargetGroupName']}", g["TargetGroupName"]),
             esc(g.get("Port")), esc(g.get("Protocol")), esc(g.get("TargetType")),
             ", ".join(link(f"ec2/load-balancers/{balancers[a]}", balancers[a])
                       for a in g.get("LoadBalancerArns", []) if a in balancers) or "None associated",
             link(f"vpc/vpcs/{g['VpcId']}", g["VpcId"]) if g.get("VpcId") else "&ndash;"]
            for g in view.elbv2.describe_target_groups()["TargetGroups"]]
    return Page("Target groups", table("Target groups", [
        "Name", "Port", "Protocol", "Target type", "Load balancer", "VPC ID"], rows,
        empty="No target groups"))


def _group(view: View) -> dict:
    [found] = view.elbv2.describe_target_groups(Names=[view.params["name"]])["TargetGroups"]
    return found


@get("ec2/target-groups/{name}")
def target_group(view: View) -> Page:
    found = _group(view)
    health = view.elbv2.describe_target_health(
        TargetGroupArn=found["TargetGroupArn"])["TargetHealthDescriptions"]
    rows = [[esc(h["Target"]["Id"]), esc(h["Target"].get("Port")),
             dash(h["Target"].get("AvailabilityZone")),
             status(h["TargetHealth"]["State"], _key(h)),
             dash(h["TargetHealth"].get("Description"))] for h in health]
    panel = details([
        ("Target type", esc(found.get("TargetType"))),
        ("Protocol : Port", esc(f"{found.get('Protocol')}: {found.get('Port')}")),
        ("VPC", link(f"vpc/vpcs/{found['VpcId']}", found["VpcId"]) if found.get("VpcId") else "&ndash;"),
        ("ARN", copyable(found["TargetGroupArn"], "ARN")),
        ("Health check", esc(f"{found.get('HealthCheckProtocol')} "
                             f"{found.get('HealthCheckPort')} {found.get('HealthCheckPath') or ''}"))])
    live = f"/_pocketlink/console/live/target-health/{found['TargetGroupName']}"
    return Page(found["TargetGroupName"], panel + table(
        "Registered targets", ["Target", "Port", "Zone", "Health status",
                               "Health status details"], rows, empty="No targets", live=live),
        crumbs=[("ec2/target-groups", "Target groups")])


def _key(health: dict) -> str:
    return f"{health['Target']['Id']}:{health['Target'].get('Port')}"


@get("live/target-health/{name}")
def live_health(view: View) -> Json:
    health = view.elbv2.describe_target_health(
        TargetGroupArn=_group(view)["TargetGroupArn"])["TargetHealthDescriptions"]
    return Json({_key(h): h["TargetHealth"]["State"] for h in health})
