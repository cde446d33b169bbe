"""The EC2 console's Instances: state (live), addresses, the console output
(GetConsoleOutput), and a Connect panel with the ``pocketlink exec`` command that opens a
shell in the instance's sandbox (pocketlink's Session Manager)."""

from __future__ import annotations

import base64
import binascii

from pocketlink.console.layout import Page
from pocketlink.console.markup import (
    copyable,
    dash,
    details,
    esc,
    link,
    live_region,
    name_tag,
    status,
    table,
    when,
)
from pocketlink.console.routing import get
from pocketlink.console.view import Json, View

BASE = "ec2/instances"
LIVE = "/_pocketlink/console/live/instances"
SETTLED = "running stopped terminated"


def _all(view: View, **params) -> list[dict]:
    return [i for r in view.ec2.describe_instances(**params)["Reservations"]
            for i in r["Instances"]]


def _ipv6(instance: dict) -> str:
    return ", ".join(a["Ipv6Address"] for n in instance.get("NetworkInterfaces", [])
                     for a in n.get("Ipv6Addresses", []))


@get(BASE)
def instances(view: View) -> Page:
    rows = [[esc(name_tag(i)) or "&ndash;", link(f"{BASE}/{i['InstanceId']}", i["InstanceId"]),
             status(i["State"]["Name"], i["InstanceId"]), esc(i.get("InstanceType")),
             esc(i.get("Placement", {}).get("AvailabilityZone")), dash(i.get("PrivateIpAddress")),
             dash(_ipv6(i)), dash(i.get("PublicIpAddress")),
             ", ".join(link(f"vpc/security-groups/{g['GroupId']}", g["GroupName"])
                       for g in i.get("SecurityGroups", [])) or "&ndash;",
             when(i.get("LaunchTime"))] for i in _all(view)]
    return Page("Instances", table("Instances", [
        "Name", "Instance ID", "Instance state", "Instance type", "Availability Zone",
        "Private IPv4 address", "IPv6 IPs", "Public IPv4 address", "Security group name",
        "Launch time"], rows, empty="No instances", live=LIVE, settled=SETTLED))


@get("live/instances")
def live(view: View) -> Json:
    """The states of the instances ``?ids=`` names (comma-separated)."""
    asked = [{"Name": "instance-id", "Values": view.query.get("ids", "").split(",")}]
    return Json({i["InstanceId"]: i["State"]["Name"] for i in _all(view, Filters=asked)})


@get(f"{BASE}/{{id}}")
def instance(view: View) -> Page:
    [found] = _all(view, InstanceIds=[view.params["id"]])
    instance_id = found["InstanceId"]
    panel = details([
        ("Instance ID", esc(instance_id)), ("Instance state", status(found["State"]["Name"],
                                                                      instance_id)),
        ("Instance type", esc(found.get("InstanceType"))), ("AMI ID", esc(found.get("ImageId"))),
        ("Private IPv4 addresses", dash(found.get("PrivateIpAddress"))),
        ("IPv6 address", dash(_ipv6(found))),
        ("Public IPv4 address", dash(found.get("PublicIpAddress"))),
        ("Private IP DNS name", dash(found.get("PrivateDnsName"))),
        ("VPC ID", link(f"vpc/vpcs/{found['VpcId']}", found["VpcId"]) if found.get("VpcId")
         else "&ndash;"),
        ("Subnet ID", link(f"vpc/subnets/{found['SubnetId']}", found["SubnetId"])
         if found.get("SubnetId") else "&ndash;"),
        ("Security groups", ", ".join(link(f"vpc/security-groups/{g['GroupId']}", g["GroupId"])
                                      for g in found.get("SecurityGroups", [])) or "&ndash;"),
        ("State reason", dash((found.get("StateReason") or {}).get("Message"))),
        ("Launch time", when(found.get("LaunchTime")))], title="Instance summary")
    command = f"sudo pocketlink exec -it {instance_id} -- bash"
    connect = ('<section class="panel"><h2>Connect</h2><p>pocketlink\'s instances are Linux '
               'sandboxes in the VPC\'s network namespace: open a shell in one from the '
               f'machine that runs pocketlink.</p><p>{copyable(command, "command")}</p>'
               '</section>')
    output = view.ec2.get_console_output(InstanceId=instance_id).get("Output") or ""
    try:
        text = base64.b64decode(output).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        text = output
    console = (f'<section class="panel"><h2>Get system log</h2>'
               f'<pre class="log" tabindex="0">{esc(text) or "No output yet."}</pre></section>')
    return Page(name_tag(found) or instance_id, live_region(panel, LIVE, SETTLED)
                + connect + console, crumbs=[(BASE, "Instances")])
