"""What an instance reads at http://169.254.169.254/latest/: its metadata as a tree of
folders and files, in the formats of AWS's instance metadata categories
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-categories.html)
and its identity document
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-identity-documents.html).

A folder lists its entries one a line, sub-folders with a trailing ``/``; a file is its
text. Role credentials are made only when their file is read (``Lazy``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime

from pocketlink.imds.roles import Profile
from pocketlink.model import regions
from pocketlink.model.ec2 import Instance, NetworkInterface, SecurityGroup, Subnet, Vpc
from pocketlink.model.iam import RoleSession
from pocketlink.store import Store

Lazy = Callable[[], str]
Node = str | bytes | Lazy | dict[str, "Node"]

VERSION_DATES = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                 "2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01",
                 "2012-01-12", "2014-02-25", "2014-11-05", "2015-10-20", "2016-04-19",
                 "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17", "2018-09-24",
                 "2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23", "2021-07-15",
                 "2022-09-24", "2024-04-11", "latest")
IDENTITY_VERSION = "2017-09-30"


def stamp(moment: datetime) -> str:
    """IMDS's timestamps: ``2012-04-26T16:39:16Z``."""
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def aws_json(document: dict) -> str:
    """JSON as IMDS prints it: two-space indent, `` : `` between a key and its value."""
    return json.dumps(document, indent=2, separators=(",", " : "))


def credentials_document(session: RoleSession) -> str:
    return aws_json({"Code": "Success", "LastUpdated": stamp(session.issued),
                     "Type": "AWS-HMAC", "AccessKeyId": session.id,
                     "SecretAccessKey": session.secret_access_key,
                     "Token": session.session_token, "Expiration": stamp(session.expiration)})


def instance_tree(store: Store, instance: Instance, profile: Profile | None,
                  credentials: Callable[[], RoleSession] | None, now: datetime) -> dict[str, Node]:
    """The whole ``/latest/`` of ``instance``. ``profile`` is IAM's answer for its
    instance profile (None: no ``iam/``), ``credentials`` makes its role's."""
    eni = store.get(NetworkInterface, instance.network_interface_id)
    subnet = store.get(Subnet, instance.subnet_id)
    vpc = store.get(Vpc, instance.vpc_id)
    ip = instance.private_ip_address or ""
    hostname = regions.private_dns_name(instance.region, ip) if ip else \
        f"{instance.id}.{regions.internal_domain(instance.region)}"
    groups = [g for g in (store.get(SecurityGroup, i) for i in instance.group_ids) if g]
    mac = eni.mac_address if eni else ""
    meta: dict[str, Node] = {
        "ami-id": instance.image_id,
        "ami-launch-index": str(instance.launch_index),
        "hostname": hostname,
        "instance-action": "none",
        "instance-id": instance.id,
        "instance-life-cycle": "on-demand",
        "instance-type": instance.instance_type,
        "local-hostname": hostname,
        "local-ipv4": ip,
        "mac": mac,
        "placement": {
            "availability-zone": instance.availability_zone,
            "availability-zone-id": subnet.availability_zone_id if subnet else "",
            "region": instance.region,
        },
        "reservation-id": instance.reservation_id,
        "security-groups": "\n".join(g.group_name for g in groups),
        "services": {"domain": "amazonaws.com", "partition": "aws"},
    }
    if not ip:
        del meta["local-ipv4"]
    if instance.ipv6_addresses:
        meta["ipv6"] = instance.ipv6_addresses[0]
    if eni is not None and subnet is not None and vpc is not None:
        meta["network"] = {"interfaces": {"macs": {mac: _interface(eni, subnet, vpc, groups,
                                                                   hostname)}}}
    if instance.metadata_options.instance_metadata_tags == "enabled":
        meta["tags"] = {"instance": dict(instance.tags)}
    if profile is not None:
        iam: dict[str, Node] = {"info": aws_json({
            "Code": "Success", "LastUpdated": stamp(now),
            "InstanceProfileArn": profile.arn, "InstanceProfileId": profile.profile_id})}
        if profile.roles and credentials is not None:
            make = credentials
            iam["security-credentials"] = {profile.roles[0].name:
                                           lambda: credentials_document(make())}
        meta["iam"] = iam
    latest: dict[str, Node] = {
        "dynamic": {"instance-identity": {"document": _identity(instance, ip)}},
        "meta-data": meta,
    }
    if instance.user_data:
        latest["user-data"] = base64.b64decode(instance.user_data)  # as given: bytes
    return latest


def _interface(eni: NetworkInterface, subnet: Subnet, vpc: Vpc, groups: list[SecurityGroup],
               hostname: str) -> dict[str, Node]:
    folder: dict[str, Node] = {
        "device-number": str(eni.device_index),
        "interface-id": eni.id,
        "local-hostname": hostname,
        "mac": eni.mac_address,
        "owner-id": eni.account,
        "security-group-ids": "\n".join(g.id for g in groups),
        "security-groups": "\n".join(g.group_name for g in groups),
        "subnet-id": subnet.id,
        "vpc-id": vpc.id,
        "vpc-ipv4-cidr-block": vpc.cidr_block,
        "vpc-ipv4-cidr-blocks": "\n".join([vpc.cidr_block] +
                                          [a.cidr for a in vpc.cidr_associations
                                           if a.cidr != vpc.cidr_block]),
    }
    if eni.private_ip_address:
        folder["local-ipv4s"] = eni.private_ip_address
    if subnet.cidr_block:
        folder["subnet-ipv4-cidr-block"] = subnet.cidr_block
    if eni.ipv6_addresses:
        folder["ipv6s"] = "\n".join(eni.ipv6_addresses)
    if subnet.ipv6_associations:
        folder["subnet-ipv6-cidr-blocks"] = "\n".join(a.cidr for a in subnet.ipv6_associations)
    if vpc.ipv6_associations:
        folder["vpc-ipv6-cidr-blocks"] = "\n".join(a.cidr for a in vpc.ipv6_associations)
    return folder


def _identity(instance: Instance, ip: str) -> str:
    return aws_json({
        "accountId": instance.account, "architecture": "x86_64",
        "availabilityZone": instance.availability_zone, "billingProducts": None,
        "devpayProductCodes": None, "marketplaceProductCodes": None,
        "imageId": instance.image_id, "instanceId": instance.id,
        "instanceType": instance.instance_type, "kernelId": None,
        "pendingTime": stamp(instance.created), "privateIp": ip or None, "ramdiskId": None,
        "region": instance.region, "version": IDENTITY_VERSION})


def lookup(tree: dict[str, Node], path: str) -> bytes | None:
    """The text at ``path`` under the tree (a folder's listing), or None: not there."""
    node: Node = tree
    for part in [p for p in path.split("/") if p]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict):
        node = "\n".join(f"{k}/" if isinstance(v, dict) else k for k, v in sorted(node.items()))
    elif callable(node):
        node = node()
    return node if isinstance(node, bytes) else node.encode()
