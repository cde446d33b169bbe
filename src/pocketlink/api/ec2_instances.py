"""Instances: RunInstances with their primary ENI, Describe, Stop/Start, Terminate, and
their console output.

A handler only starts a move: an instance is born ``pending``, stops through ``stopping``
and terminates through ``shutting-down``. The reconciler finishes each move once it is
true: the namespace is up and UserData started, the processes are gone, the namespace is
removed. (With ``pocketlink up --no-network`` there is nothing to wait for.)
"""

from __future__ import annotations

import base64
import binascii
import dataclasses

from pocketlink.api import ec2_defaults as defaults
from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.ec2_elastic_ips import (
    describe_association,
    launch_address,
    public_address,
    public_dns_name,
)
from pocketlink.api.ec2_instance_metadata import (
    describe_metadata_options,
    describe_profile,
    instance_profile,
    metadata_options,
)
from pocketlink.api.ec2_interface_attachments import detach, let_go
from pocketlink.api.ec2_network_interfaces import (
    check_groups,
    describe_interface,
    group_refs,
    new_interface,
)
from pocketlink.api.ec2_route_tables import blackhole_routes
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require, select
from pocketlink.model import ids, regions
from pocketlink.model.base import now
from pocketlink.model.ec2 import Instance, NetworkInterface, SecurityGroup, Subnet
from pocketlink.model.internet import Address
from pocketlink.store import Store

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}
MAX_PER_CALL = 50
USER_DATA_LIMIT = 16 * 1024
DEFAULT_INSTANCE_TYPE = "m1.small"

INSTANCE_FILTERS: dict[str, filters.Field] = {
    "instance-id": lambda i: i.id,
    "instance-state-name": lambda i: i.state,
    "instance-state-code": lambda i: STATE_CODES[i.state],
    "instance-type": lambda i: i.instance_type,
    "image-id": lambda i: i.image_id,
    "subnet-id": lambda i: i.subnet_id,
    "vpc-id": lambda i: i.vpc_id,
    "availability-zone": lambda i: i.availability_zone,
    "private-ip-address": lambda i: i.private_ip_address,
    "network-interface.addresses.private-ip-address": lambda i: i.private_ip_address,
    "network-interface.ipv6-addresses.ipv6-address": lambda i: i.ipv6_addresses,
    "ipv6-address": lambda i: i.ipv6_addresses,
    "private-dns-name": lambda i: _dns_name(i),
    "reservation-id": lambda i: i.reservation_id,
    "owner-id": lambda i: i.account,
    "key-name": lambda i: i.key_name,
    "instance.group-id": lambda i: i.group_ids,
    "group-id": lambda i: i.group_ids,
    "network-interface.network-interface-id": lambda i: i.network_interface_id,
    "ami-launch-index": lambda i: i.launch_index,
    "client-token": lambda i: i.client_token,
}


def _dns_name(instance: Instance) -> str:
    if instance.private_ip_address:
        return regions.private_dns_name(instance.region, instance.private_ip_address)
    return f"{instance.id}.{regions.internal_domain(instance.region)}"


def _state(instance: Instance, name: str | None = None) -> dict:
    name = name or instance.state
    return {"Code": STATE_CODES[name], "Name": name}


def describe_instance(store: Store, instance: Instance) -> dict:
    eni = store.get(NetworkInterface, instance.network_interface_id)
    dns = _dns_name(instance)
    groups = group_refs(store, instance.group_ids)
    public = public_address(store, eni.id) if eni is not None else None
    item: dict = {
        "InstanceId": instance.id,
        "ImageId": instance.image_id,
        "State": _state(instance),
        "PrivateDnsName": dns if instance.state != "terminated" else "",
        "PublicDnsName": public_dns_name(store, public),
        "StateTransitionReason": instance.state_transition_reason,
        "AmiLaunchIndex": instance.launch_index,
        "ProductCodes": [],
        "InstanceType": instance.instance_type,
        "LaunchTime": instance.created,
        "Placement": {"AvailabilityZone": instance.availability_zone, "GroupName": "",
                      "Tenancy": "default"},
        "Monitoring": {"State": "disabled"},
        "Architecture": "x86_64",
        "RootDeviceType": "ebs",
        "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": [],
        "EbsOptimized": False,
        "EnaSupport": True,
        "Hypervisor": "xen",
        "VirtualizationType": "hvm",
        "SourceDestCheck": True,
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "SecurityGroups": groups,
        "PrivateDnsNameOptions": {"HostnameType": "ip-name" if instance.private_ip_address
                                  else "resource-name",
                                  "EnableResourceNameDnsARecord":
                                      instance.enable_resource_name_dns_a_record,
                                  "EnableResourceNameDnsAAAARecord":
                                      instance.enable_resource_name_dns_aaaa_record},
        "MetadataOptions": describe_metadata_options(instance.metadata_options),
        "NetworkInterfaces": [],
    }
    if instance.state != "terminated":
        item["SubnetId"] = instance.subnet_id
        item["VpcId"] = instance.vpc_id
        if instance.private_ip_address:
            item["PrivateIpAddress"] = instance.private_ip_address
        if public is not None:
            item["PublicIpAddress"] = public.public_ip
        if instance.ipv6_addresses:
            item["Ipv6Address"] = instance.ipv6_addresses[0]
    for key, value in (("KeyName", instance.key_name), ("ClientToken", instance.client_token)):
        if value:
            item[key] = value
    if instance.iam_instance_profile is not None:
        item["IamInstanceProfile"] = describe_profile(instance.iam_instance_profile)
    if instance.state_reason:
        item["StateReason"] = {"Code": instance.state_reason,
                               "Message": instance.state_reason_message or instance.state_reason}
    if instance.tags:
        item["Tags"] = tags.tag_set(instance.tags)
    if eni is not None:
        private = [{"Primary": True, "PrivateIpAddress": eni.private_ip_address,
                    "PrivateDnsName": dns}] if eni.private_ip_address else []
        private += [{"Primary": False, "PrivateIpAddress": ip,
                     "PrivateDnsName": regions.private_dns_name(eni.region, ip)}
                    for ip in eni.secondary_private_ip_addresses]
        item["NetworkInterfaces"] = [{
            "NetworkInterfaceId": eni.id, "SubnetId": eni.subnet_id, "VpcId": eni.vpc_id,
            "Description": eni.description, "OwnerId": eni.account, "Status": eni.status,
            "MacAddress": eni.mac_address, "SourceDestCheck": eni.source_dest_check,
            "Groups": groups, "InterfaceType": eni.interface_type,
            "Attachment": {"AttachmentId": eni.attachment_id, "DeviceIndex": 0,
                           "Status": "attached", "AttachTime": instance.created,
                           "DeleteOnTermination": eni.delete_on_termination,
                           "NetworkCardIndex": 0},
            "Ipv6Addresses": [{"Ipv6Address": ip, "IsPrimaryIpv6": False}
                              for ip in eni.ipv6_addresses],
            "PrivateIpAddresses": private,
            **({"PrivateIpAddress": eni.private_ip_address, "PrivateDnsName": dns}
               if eni.private_ip_address else {}),
            **({"Association": describe_association(store, public, instance=True)}
               if public else {}),
        }]
        item["NetworkInterfaces"] += [_attached(store, e) for e in sorted(
            (e for e in store.all(NetworkInterface) if e.instance_id == instance.id
             and e.id != eni.id and e.attachment_id), key=lambda e: e.device_index)]
    return item


def _attached(store: Store, eni: NetworkInterface) -> dict:
    """An ENI attached beside the primary one, as DescribeInstances lists it."""
    described = describe_interface(store, eni)
    item = {key: described[key] for key in (
        "NetworkInterfaceId", "SubnetId", "VpcId", "Description", "OwnerId", "Status",
        "MacAddress", "SourceDestCheck", "Groups", "InterfaceType", "Ipv6Addresses",
        "PrivateIpAddresses", "PrivateIpAddress", "PrivateDnsName") if key in described}
    attachment = described["Attachment"]
    item["Attachment"] = {key: attachment[key] for key in (
        "AttachmentId", "DeviceIndex", "Status", "AttachTime", "DeleteOnTermination",
        "NetworkCardIndex")}
    return item


def _reservations(store: Store, instances: list[Instance]) -> list[dict]:
    by_reservation: dict[str, list[Instance]] = {}
    for instance in instances:
        by_reservation.setdefault(instance.reservation_id, []).append(instance)
    return [{"ReservationId": rid, "OwnerId": members[0].account, "Groups": [],
             "Instances": [describe_instance(store, i) for i in members]}
            for rid, members in by_reservation.items()]


def _network_settings(params: dict) -> dict:
    """RunInstances' two spellings of the primary ENI, folded into one."""
    interfaces = params.get("NetworkInterfaces") or []
    if not interfaces:
        return _interface_spec(params, groups="SecurityGroupIds")
    if params.get("SubnetId") or params.get("SecurityGroupIds"):
        raise ec2.InvalidParameterCombination(
            "Network interfaces and an instance-level subnet ID or security groups "
            "may not be specified on the same request")
    primary = next((n for n in interfaces if n.get("DeviceIndex", 0) == 0), interfaces[0])
    if len(interfaces) > 1:
        raise ec2.InvalidParameterValue("pocketlink launches instances with one network interface")
    return _interface_spec(primary, groups="Groups")


def _interface_spec(given: dict, groups: str) -> dict:
    """One spelling's ENI fields; the instance-level one names its groups SecurityGroupIds."""
    return {
        "SubnetId": given.get("SubnetId"),
        "Groups": given.get(groups) or [],
        "PrivateIpAddress": given.get("PrivateIpAddress"),
        "Ipv6AddressCount": given.get("Ipv6AddressCount") or 0,
        "Ipv6Addresses": [a["Ipv6Address"] for a in given.get("Ipv6Addresses") or []
                          if "Ipv6Address" in a],
        "AssociatePublicIpAddress": given.get("AssociatePublicIpAddress"),
        "DeleteOnTermination": given.get("DeleteOnTermination", True),
    }


def _user_data(params: dict) -> str | None:
    user_data = params.get("UserData")
    if user_data is None:
        return None
    try:
        raw = base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        raise ec2.InvalidParameterValue("Invalid BASE64 encoding of user data.") from None
    if len(raw) > USER_DATA_LIMIT:
        raise ec2.InvalidParameterValue("User data is limited to 16384 bytes")
    return user_data


def _group_ids_by_name(context: RequestContext, vpc_id: str, names: list[str]) -> list[str]:
    found = []
    for name in names:
        group = next((g for g in context.store.all(SecurityGroup)
                      if g.account == context.account and g.vpc_id == vpc_id
                      and g.group_name == name), None)
        if group is None:
            raise ec2.InvalidGroupNotFound(name)
        found.append(group.id)
    return found


@operation("ec2", "RunInstances")
def run_instances(context: RequestContext, params: dict) -> dict:
    if params.get("LaunchTemplate"):
        # Imported here: the launch templates check their data with this module's rules.
        from pocketlink.api.ec2_launch_templates import launch_parameters
        params, _, _ = launch_parameters(context, params["LaunchTemplate"], params)
    token = params.get("ClientToken")
    earlier = [i for i in owned(context, Instance) if token and i.client_token == token]
    if earlier:  # a retry of a launch that happened: the same reservation, nothing new
        return {"ReservationId": earlier[0].reservation_id, "OwnerId": context.account,
                "Groups": [], "Instances": [describe_instance(context.store, i) for i in earlier]}
    image_id = params.get("ImageId")
    if not image_id:
        raise ec2.MissingParameter("ImageId")
    if not ids.looks_like("ami", image_id):
        raise ec2.InvalidAMIIDMalformed(image_id)
    low, high = params["MinCount"], params["MaxCount"]
    if low < 1 or high < 1:
        raise invalid_value("minCount", min(low, high),
                            "Expected a value greater than or equal to 1.")
    if low > high:
        raise ec2.InvalidParameterValue("MinCount value must be less than or equal to MaxCount")
    if low > MAX_PER_CALL:
        raise ec2.InstanceLimitExceeded(
            f"You have requested more instances ({low}) than your current instance "
            f"limit of {MAX_PER_CALL} allows.")
    count = min(high, MAX_PER_CALL)
    network = _network_settings(params)
    subnet = require(context, Subnet, network["SubnetId"]) if network["SubnetId"] else \
        defaults.launch_subnet(context, (params.get("Placement") or {}).get("AvailabilityZone"))
    if (network["PrivateIpAddress"] or network["Ipv6Addresses"]) and count > 1:
        if low > 1:
            what = "a private IP address" if network["PrivateIpAddress"] else "IPv6 addresses"
            raise ec2.InvalidParameterCombination(
                f"Cannot specify {what} when launching more than one instance")
        count = 1
    group_ids = network["Groups"] + _group_ids_by_name(context, subnet.vpc_id,
                                                       params.get("SecurityGroups") or [])
    group_ids = check_groups(context, subnet.vpc_id, group_ids)
    user_data = _user_data(params)
    options = metadata_options(params.get("MetadataOptions"))
    profile = instance_profile(context, params.get("IamInstanceProfile"))
    instance_tags = tags.from_specifications(
        {"TagSpecifications": [s for s in params.get("TagSpecifications") or []
                               if s.get("ResourceType") == "instance"]}, "instance")
    eni_tags = tags.from_specifications(
        {"TagSpecifications": [s for s in params.get("TagSpecifications") or []
                               if s.get("ResourceType") == "network-interface"]},
        "network-interface")
    for spec in params.get("TagSpecifications") or []:
        if spec.get("ResourceType") not in ("instance", "network-interface", "volume"):
            raise ec2.InvalidParameterValue(
                f"'{spec.get('ResourceType')}' is not a valid taggable resource "
                "type for this operation.")
    reservation_id = ids.new_id("r")
    taken: set[str] = set()
    # The subnet's MapPublicIpOnLaunch, unless the primary interface says otherwise.
    wants_public = network["AssociatePublicIpAddress"]
    if wants_public is None:
        wants_public = subnet.map_public_ip_on_launch and bool(subnet.cidr_block)
    public_taken: set[str] = set()
    launched: list[tuple[Instance, NetworkInterface]] = []
    for index in range(count):
        instance_id = ids.new_id("i")
        eni = new_interface(
            context, subnet, group_ids=group_ids, private_ip=network["PrivateIpAddress"],
            ipv6_count=network["Ipv6AddressCount"], ipv6_addresses=network["Ipv6Addresses"],
            taken=taken, tags=dict(eni_tags), status="in-use",
            attachment_id=ids.new_id("eni-attach"), instance_id=instance_id,
        )
        eni.delete_on_termination = network["DeleteOnTermination"]
        instance = Instance(
            id=instance_id, account=context.account, region=context.region,
            reservation_id=reservation_id, image_id=image_id,
            instance_type=params.get("InstanceType") or DEFAULT_INSTANCE_TYPE,
            subnet_id=subnet.id, vpc_id=subnet.vpc_id, availability_zone=subnet.availability_zone,
            network_interface_id=eni.id, private_ip_address=eni.private_ip_address,
            ipv6_addresses=list(eni.ipv6_addresses), group_ids=group_ids,
            key_name=params.get("KeyName"), user_data=user_data, launch_index=index,
            client_token=params.get("ClientToken"), tags=dict(instance_tags), state="pending",
            metadata_options=options, iam_instance_profile=profile and dataclasses.replace(
                profile, association_id=ids.new_id("iip-assoc")),
            enable_resource_name_dns_a_record=subnet.enable_resource_name_dns_a_record,
            enable_resource_name_dns_aaaa_record=subnet.enable_resource_name_dns_aaaa_record,
        )
        launched.append((instance, eni))
    public = [launch_address(context, subnet, eni, public_taken)
              for _, eni in launched if wants_public]
    with context.store.transaction() as tx:
        for instance, eni in launched:
            tx.put(instance)
            tx.put(eni)
        for address in public:
            tx.put(address)
    return {"ReservationId": reservation_id, "OwnerId": context.account, "Groups": [],
            "Instances": [describe_instance(context.store, i) | {"State": _state(i)}
                          for i, _ in launched]}


@operation("ec2", "DescribeInstances")
def describe_instances(context: RequestContext, params: dict) -> dict:
    instances = select(context, Instance, params.get("InstanceIds"))
    instances = filters.apply(instances, params.get("Filters"), INSTANCE_FILTERS)
    chunk, more = pages.page(instances, params, ids_param="InstanceIds")
    return {"Reservations": _reservations(context.store, chunk), **more}


def _transition(context: RequestContext, params: dict, via: str, final: str,
                allowed_from: tuple[str, ...]) -> list[dict]:
    """Start or stop: the instance goes to ``via`` now; the reconciler takes it to ``final``
    once its processes are up (or gone)."""
    instances = [require(context, Instance, i) for i in dict.fromkeys(params["InstanceIds"])]
    for instance in instances:
        if instance.state not in allowed_from and instance.state not in (via, final):
            raise ec2.IncorrectInstanceState(
                f"The instance '{instance.id}' is not in a state from which it can "
                f"be {'stopped' if final == 'stopped' else 'started'}.")
    changes = []
    with context.store.transaction() as tx:
        for instance in instances:
            changes.append({"InstanceId": instance.id, "PreviousState": _state(instance),
                            "CurrentState": _state(instance, instance.state
                                                   if instance.state in (via, final) else via)})
            if instance.state in (via, final):
                continue
            mine = tx.edit(Instance, instance.id)
            mine.state = via
            mine.state_transition_reason = f"User initiated ({now():%Y-%m-%d %H:%M:%S GMT})"
    return changes


@operation("ec2", "StopInstances")
def stop_instances(context: RequestContext, params: dict) -> dict:
    return {"StoppingInstances": _transition(context, params, "stopping", "stopped",
                                             ("pending", "running"))}


@operation("ec2", "StartInstances")
def start_instances(context: RequestContext, params: dict) -> dict:
    return {"StartingInstances": _transition(context, params, "pending", "running",
                                             ("stopped",))}


@operation("ec2", "TerminateInstances")
def terminate_instances(context: RequestContext, params: dict) -> dict:
    instances = [require(context, Instance, i) for i in dict.fromkeys(params["InstanceIds"])]
    changes = []
    with context.store.transaction() as tx:
        for instance in instances:
            gone = instance.state in ("shutting-down", "terminated")
            changes.append({"InstanceId": instance.id, "PreviousState": _state(instance),
                            "CurrentState": _state(instance, instance.state if gone
                                                   else "shutting-down")})
            if gone:
                continue
            mine = tx.edit(Instance, instance.id)
            mine.state = "shutting-down"
            mine.state_reason = "Client.UserInitiatedShutdown"
            mine.state_transition_reason = f"User initiated ({now():%Y-%m-%d %H:%M:%S GMT})"
            eni = context.store.get(NetworkInterface, instance.network_interface_id)
            if eni is not None and eni.delete_on_termination:
                tx.delete(eni)
            elif eni is not None:  # kept (DeleteOnTermination false): detached, and the
                # public IP EC2 gave at launch goes back, as at any stop or termination
                detach(tx, eni)
                for address in context.store.all(Address):
                    if not address.elastic and address.network_interface_id == eni.id:
                        tx.delete(address)
            let_go(tx, instance)
            blackhole_routes(tx, context, {instance.id, instance.network_interface_id})
    return {"TerminatingInstances": changes}


@operation("ec2", "DescribeInstanceStatus")
def describe_instance_status(context: RequestContext, params: dict) -> dict:
    instances = select(context, Instance, params.get("InstanceIds"))
    if not params.get("IncludeAllInstances"):
        instances = [i for i in instances if i.state == "running"]
    chunk, more = pages.page(instances, params, ids_param="InstanceIds")
    ok = {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]}
    return {"InstanceStatuses": [
        {"InstanceId": i.id, "AvailabilityZone": i.availability_zone,
         "InstanceState": _state(i), "InstanceStatus": ok, "SystemStatus": ok}
        for i in chunk], **more}


CONSOLE_LIMIT = 64 * 1024


@operation("ec2", "GetConsoleOutput")
def get_console_output(context: RequestContext, params: dict) -> dict:
    """The instance's console: what its UserData printed, the last 64 KiB, base64 as AWS."""
    instance = require(context, Instance, params["InstanceId"])
    result: dict = {"InstanceId": instance.id, "Timestamp": now()}
    path = context.consoles(instance.id) if context.consoles else None
    if path is not None and path.exists():
        data = path.read_bytes()[-CONSOLE_LIMIT:]
        result["Output"] = base64.b64encode(data).decode()
    return result
