"""Target groups: protocol, targets, health check settings with AWS's defaults and ranges,
attributes, and what DescribeTargetHealth reports."""

from __future__ import annotations

import ipaddress
import re

from pocketlink.api.context import RequestContext
from pocketlink.api.elbv2_common import (
    arn,
    attribute_changes,
    attributes_out,
    boolean_attribute,
    hex_id,
    integer_attribute,
    page,
    set_attributes,
    validation,
)
from pocketlink.api.errors import elbv2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import find, owned, require
from pocketlink.model.base import now
from pocketlink.model.ec2 import Instance, Vpc
from pocketlink.model.elbv2 import (
    TARGET_GROUP_ATTRIBUTES,
    Listener,
    LoadBalancer,
    Target,
    TargetGroup,
    drained,
)
from pocketlink.model.states import INSTANCE_STOPPED
from pocketlink.store import Store
from pocketlink.wire.numbers import integer

PROTOCOLS = ("TCP", "UDP", "TCP_UDP", "TLS")
HEALTH_PROTOCOLS = ("TCP", "HTTP", "HTTPS")
TARGET_TYPES = ("instance", "ip")
MAX_TARGETS = 1000
# The attributes that are numbers: their ranges as the ModifyTargetGroupAttributes
# reference gives them, and whether "off" is taken too (a count's top is "the maximum
# number of targets").
NUMBERS = {
    "deregistration_delay.timeout_seconds": (0, 3600, False),
    "target_health_state.unhealthy.draining_interval_seconds": (0, 360000, False),
    "target_group_health.dns_failover.minimum_healthy_targets.count": (1, MAX_TARGETS, True),
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": (1, 100, True),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":
        (1, MAX_TARGETS, False),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage":
        (1, 100, True),
}


def listeners_of(store: Store, group: TargetGroup) -> list[Listener]:
    return [lst for lst in store.all(Listener) if lst.target_group_arn == group.id]


def describe_target_group(store: Store, group: TargetGroup) -> dict:
    item: dict = {
        "TargetGroupArn": group.id,
        "TargetGroupName": group.name,
        "Protocol": group.protocol,
        "TargetType": group.target_type,
        "HealthCheckProtocol": group.health_check_protocol,
        "HealthCheckPort": group.health_check_port,
        "HealthCheckEnabled": group.health_check_enabled,
        "HealthCheckIntervalSeconds": group.health_check_interval,
        "HealthCheckTimeoutSeconds": group.health_check_timeout,
        "HealthyThresholdCount": group.healthy_threshold,
        "UnhealthyThresholdCount": group.unhealthy_threshold,
        "LoadBalancerArns": sorted({lst.load_balancer_arn for lst in listeners_of(store, group)}),
        "IpAddressType": group.ip_address_type,
    }
    if group.port is not None:
        item["Port"] = group.port
    if group.vpc_id:
        item["VpcId"] = group.vpc_id
    if group.health_check_path:
        item["HealthCheckPath"] = group.health_check_path
    if group.matcher:
        item["Matcher"] = {"HttpCode": group.matcher}
    return item


def _health_check(params: dict, protocol: str, current: TargetGroup | None = None) -> dict:
    """The health check settings, validated and completed with AWS's defaults."""
    check_protocol = params.get("HealthCheckProtocol") or (
        current.health_check_protocol if current else "TCP")
    if check_protocol not in HEALTH_PROTOCOLS:
        raise validation(f"Health check protocol '{check_protocol}' is not supported for "
                         "network load balancer target groups")
    if protocol in ("UDP", "TCP_UDP") and check_protocol not in HEALTH_PROTOCOLS:
        raise validation("UDP target groups need a TCP, HTTP or HTTPS health check")
    if params.get("HealthCheckEnabled") is False:
        # NLB target groups of instances and IPs always health-check (AWS: "health checks are
        # always enabled and can't be disabled"); only lambda targets may go without.
        raise elbv2.InvalidConfigurationRequestException(
            "Health check enabled must be true for target groups with target type "
            f"'{current.target_type if current else params.get('TargetType', 'instance')}'")
    http = check_protocol in ("HTTP", "HTTPS")
    path = params.get("HealthCheckPath")
    matcher = (params.get("Matcher") or {}).get("HttpCode")
    if not http and path:
        raise elbv2.InvalidConfigurationRequestException(
            "Health check paths are not supported for TCP health checks")
    if not http and matcher:
        raise elbv2.InvalidConfigurationRequestException(
            "Health check matchers are not supported for TCP health checks")
    port = str(params.get("HealthCheckPort") or (current.health_check_port if current
                                                  else "traffic-port"))
    if port != "traffic-port" and not 1 <= (integer(port) or 0) <= 65535:
        raise validation(f"Health check port '{port}' must be 'traffic-port' or 1-65535")
    default_timeout = 6 if check_protocol == "HTTP" else 10
    interval = params.get("HealthCheckIntervalSeconds",
                          current.health_check_interval if current else 30)
    timeout = params.get("HealthCheckTimeoutSeconds",
                         current.health_check_timeout if current and
                         "HealthCheckProtocol" not in params else default_timeout)
    healthy = params.get("HealthyThresholdCount", current.healthy_threshold if current else 5)
    unhealthy = params.get("UnhealthyThresholdCount",
                           current.unhealthy_threshold if current else 2)
    for name, value, low, high in (("HealthCheckIntervalSeconds", interval, 5, 300),
                                   ("HealthCheckTimeoutSeconds", timeout, 2, 120),
                                   ("HealthyThresholdCount", healthy, 2, 10),
                                   ("UnhealthyThresholdCount", unhealthy, 2, 10)):
        if not low <= value <= high:
            raise validation(f"1 validation error detected: Value '{value}' at "
                             f"'{name[0].lower() + name[1:]}' failed to satisfy constraint: "
                             f"Member must have value between {low} and {high}")
    if timeout > interval:
        raise elbv2.InvalidConfigurationRequestException(
            "Health check timeout must be smaller than or equal to the interval")
    if http:
        path = path or (current.health_check_path if current else None) or "/"
        if not path.startswith("/"):
            raise validation("Health check path must begin with a '/' character")
        if matcher:
            _check_matcher(matcher)
        matcher = matcher or (current.matcher if current else None) or "200-399"
    return {"health_check_protocol": check_protocol, "health_check_port": port,
            "health_check_enabled": True,
            "health_check_path": path if http else None,
            "health_check_interval": interval, "health_check_timeout": timeout,
            "healthy_threshold": healthy, "unhealthy_threshold": unhealthy,
            "matcher": matcher if http else None}


def _check_matcher(matcher: str) -> None:
    """A Network Load Balancer's HTTP codes, as the model documents them: from 200 to 599,
    one, several (``200,202``) or a range (``200-299``), in ASCII digits (the words are
    pocketlink's: AWS's are not in its references)."""
    for part in matcher.split(","):
        low, dash, high = part.strip().partition("-")
        first, last = integer(low), integer(high) if dash else integer(low)
        if first is None or last is None or not 200 <= first <= last <= 599:
            raise validation(f"Health check matcher HTTP code '{matcher}' must be codes from "
                             "200 to 599: one, several separated by commas, or a range")


# AWS's pattern for a target group's name, which its request validation quotes.
GROUP_NAME_PATTERN = r"(?!.*--)(?!^-)(?!.*-$)^[A-Za-z0-9-]+$"


def _check_group_name(name: str) -> None:
    """A target group's name, refused in AWS's three messages (moto's
    test_create_invalid_target_group_* in tests/test_elbv2/test_elbv2_target_groups.py)."""
    if len(name) > 32:
        raise validation(f"Target group name '{name}' cannot be longer than '32' characters")
    if not re.fullmatch(r"[A-Za-z0-9-]*", name):
        raise validation(f"Target group name '{name}' can only contain characters that are "
                         "alphanumeric characters or hyphens(-)")
    if not re.match(GROUP_NAME_PATTERN, name):
        raise validation(f"1 validation error detected: Value '{name}' at "
                         "'targetGroup.targetGroupArn.targetGroupName' failed to satisfy "
                         f"constraint: Member must satisfy regular expression pattern: "
                         f"{GROUP_NAME_PATTERN}")


@operation("elbv2", "CreateTargetGroup")
def create_target_group(context: RequestContext, params: dict) -> dict:
    name = params["Name"]
    _check_group_name(name)
    protocol = params.get("Protocol")
    target_type = params.get("TargetType", "instance")
    if target_type not in TARGET_TYPES:
        raise validation(f"pocketlink supports target types instance and ip, not "
                         f"'{target_type}'")
    if protocol not in PROTOCOLS:
        raise validation(f"Protocol '{protocol}' is not supported by network load balancer "
                         f"target groups; use one of {', '.join(PROTOCOLS)}")
    port = params.get("Port")
    if port is None or not 1 <= port <= 65535:
        raise validation("A port between 1 and 65535 must be specified")
    vpc_id = params.get("VpcId")
    if not vpc_id:
        raise validation("A VPC ID must be specified")
    vpc = find(context, Vpc, vpc_id)
    if vpc is None:
        raise validation(f"The VPC ID '{vpc_id}' is not found")
    ip_address_type = params.get("IpAddressType", "ipv4")
    if ip_address_type not in ("ipv4", "ipv6"):
        raise validation(f"IP address type '{ip_address_type}' is not valid")
    health = _health_check(params, protocol)
    existing = next((g for g in owned(context, TargetGroup) if g.name == name), None)
    if existing is not None:
        if (existing.protocol, existing.port, existing.vpc_id) == (protocol, port, vpc_id):
            return {"TargetGroups": [describe_target_group(context.store, existing)]}
        raise elbv2.DuplicateTargetGroupNameException(
            "A target group with the same name exists, but with different settings")
    group = TargetGroup(
        id=arn(context, f"targetgroup/{name}/{hex_id()}"), account=context.account,
        region=context.region, name=name, protocol=protocol, port=port, vpc_id=vpc_id,
        target_type=target_type, ip_address_type=ip_address_type,
        tags={t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}, **health)
    with context.store.transaction() as tx:
        tx.put(group)
    return {"TargetGroups": [describe_target_group(context.store, group)]}


@operation("elbv2", "DescribeTargetGroups")
def describe_target_groups(context: RequestContext, params: dict) -> dict:
    groups = owned(context, TargetGroup)
    if params.get("LoadBalancerArn"):
        balancer = require(context, LoadBalancer, params["LoadBalancerArn"])
        attached = {lst.target_group_arn for lst in context.store.all(Listener)
                    if lst.load_balancer_arn == balancer.id}
        groups = [g for g in groups if g.id in attached]
    if params.get("TargetGroupArns"):
        wanted = params["TargetGroupArns"]
        groups = [g for g in groups if g.id in wanted]
        if len(groups) != len(set(wanted)):
            raise elbv2.TargetGroupNotFoundException("One or more target groups not found")
    if params.get("Names"):
        wanted = params["Names"]
        groups = [g for g in groups if g.name in wanted]
        if len(groups) != len(set(wanted)):
            raise elbv2.TargetGroupNotFoundException("One or more target groups not found")
    chunk, more = page(groups, params)
    return {"TargetGroups": [describe_target_group(context.store, g) for g in chunk], **more}


@operation("elbv2", "ModifyTargetGroup")
def modify_target_group(context: RequestContext, params: dict) -> dict:
    group = require(context, TargetGroup, params["TargetGroupArn"])
    health = _health_check(params, group.protocol, group)
    with context.store.transaction() as tx:
        mine = tx.edit(TargetGroup, group.id)
        for field, value in health.items():
            setattr(mine, field, value)
    return {"TargetGroups": [describe_target_group(context.store, mine)]}


@operation("elbv2", "DeleteTargetGroup")
def delete_target_group(context: RequestContext, params: dict) -> dict:
    group = require(context, TargetGroup, params["TargetGroupArn"])
    if listeners_of(context.store, group):
        raise elbv2.ResourceInUseException(
            f"Target group '{group.id}' is currently in use by a listener or a rule")
    with context.store.transaction() as tx:
        tx.delete(group)
    return {}


def _check_attribute(key: str, value: str) -> None:
    if key == "load_balancing.cross_zone.enabled":  # the one .enabled that is not a boolean
        if value not in ("true", "false", "use_load_balancer_configuration"):
            raise elbv2.InvalidConfigurationRequestException(
                f"The value of '{key}' must be 'true', 'false' or "
                "'use_load_balancer_configuration'")
    elif key.endswith(".enabled"):
        boolean_attribute(key, value)
    elif key in NUMBERS and not (NUMBERS[key][2] and value == "off"):
        integer_attribute(key, value, *NUMBERS[key][:2])
    elif key == "stickiness.type" and value != "source_ip":
        raise elbv2.InvalidConfigurationRequestException(
            "Network load balancer target groups support only 'source_ip' stickiness")


@operation("elbv2", "DescribeTargetGroupAttributes")
def describe_target_group_attributes(context: RequestContext, params: dict) -> dict:
    group = require(context, TargetGroup, params["TargetGroupArn"])
    return {"Attributes": attributes_out(group.attributes)}


@operation("elbv2", "ModifyTargetGroupAttributes")
def modify_target_group_attributes(context: RequestContext, params: dict) -> dict:
    group = require(context, TargetGroup, params["TargetGroupArn"])
    changes = attribute_changes(params, TARGET_GROUP_ATTRIBUTES, "Target group")
    for key, value in changes.items():
        _check_attribute(key, value)
    return set_attributes(context, group, changes)


def _check_target(context: RequestContext, group: TargetGroup, target: dict) -> Target:
    target_id = target["Id"]
    port = target.get("Port", group.port)
    if port is None or not 1 <= port <= 65535:
        raise validation(f"Port {port} of target '{target_id}' is not valid")
    zone = target.get("AvailabilityZone")
    if group.target_type == "instance":
        instance = context.store.get(Instance, target_id)
        if instance is None or instance.account != context.account or \
                instance.vpc_id != group.vpc_id:
            raise elbv2.InvalidTargetException(
                f"The following targets are not in the target group's VPC "
                f"'{group.vpc_id}': '{target_id}'")
        if instance.state not in ("pending", "running"):
            raise elbv2.InvalidTargetException(
                "The following targets are not in a running state and cannot be "
                f"registered: '{target_id}'")
        zone = instance.availability_zone
    else:
        try:
            address = ipaddress.ip_address(target_id)
        except ValueError:
            raise elbv2.InvalidTargetException(
                f"The IP address '{target_id}' is not a valid IP address") from None
        if (address.version == 6) != (group.ip_address_type == "ipv6"):
            raise elbv2.InvalidTargetException(
                f"The IP address '{target_id}' does not match the target group's IP "
                f"address type '{group.ip_address_type}'")
        vpc = context.store.get(Vpc, group.vpc_id or "")
        blocks = [a.cidr for a in vpc.cidr_associations + vpc.ipv6_associations] if vpc else []
        inside = any(address in ipaddress.ip_network(b) for b in blocks)
        if not inside and zone != "all":
            raise elbv2.InvalidTargetException(
                f"The IP address '{target_id}' is not within the target group's VPC; "
                "register it with AvailabilityZone 'all'")
    return Target(id=target_id, port=port, availability_zone=zone, registered=now().isoformat())


@operation("elbv2", "RegisterTargets")
def register_targets(context: RequestContext, params: dict) -> dict:
    group = require(context, TargetGroup, params["TargetGroupArn"])
    new = [_check_target(context, group, t) for t in params["Targets"]]
    with context.store.transaction() as tx:
        mine = tx.edit(TargetGroup, group.id)
        for target in new:
            mine.targets = [t for t in mine.targets
                            if (t.id, t.port) != (target.id, target.port)]
            mine.targets.append(target)
        if len(mine.targets) > MAX_TARGETS:
            raise elbv2.TooManyTargetsException(
                f"You've reached the limit on the number of targets ({MAX_TARGETS})")
    return {}


@operation("elbv2", "DeregisterTargets")
def deregister_targets(context: RequestContext, params: dict) -> dict:
    group = require(context, TargetGroup, params["TargetGroupArn"])
    doomed = set()
    for target in params["Targets"]:
        key = (target["Id"], target.get("Port", group.port))
        if not any((t.id, t.port) == key and t.deregistered is None for t in group.targets):
            raise elbv2.InvalidTargetException(
                f"The following targets are not registered in target group "
                f"'{group.id}': '{target['Id']}'")
        doomed.add(key)
    delay = int(group.attributes["deregistration_delay.timeout_seconds"])
    with context.store.transaction() as tx:
        mine = tx.edit(TargetGroup, group.id)
        if delay == 0 or not listeners_of(context.store, group):
            mine.targets = [t for t in mine.targets if (t.id, t.port) not in doomed]
        else:
            for target in mine.targets:
                if (target.id, target.port) in doomed:
                    target.deregistered = now().isoformat()
    return {}


def target_health(store: Store, group: TargetGroup, target: Target) -> dict:
    """What DescribeTargetHealth says of one target, as AWS names states and reasons."""
    if target.deregistered is not None:
        return {"State": "draining", "Reason": "Target.DeregistrationInProgress",
                "Description": "Target deregistration is in progress"}
    listeners = listeners_of(store, group)
    if not listeners:
        return {"State": "unused", "Reason": "Target.NotInUse",
                "Description": "Target group is not configured to receive traffic from the "
                               "load balancer"}
    if group.target_type == "instance":
        instance = store.get(Instance, target.id)
        if instance is None or instance.state in INSTANCE_STOPPED:  # unused: Target.InvalidState
            return {"State": "unused", "Reason": "Target.InvalidState",
                    "Description": "Target is in the stopped or terminated state"}
    zones = {node.availability_zone for lst in listeners
             for balancer in [store.get(LoadBalancer, lst.load_balancer_arn)] if balancer
             for node in balancer.nodes}
    if target.availability_zone not in (None, "all") and target.availability_zone not in zones:
        # An NLB sends nothing to a zone it has no node in, cross-zone or not.
        return {"State": "unused", "Reason": "Target.NotInUse",
                "Description": "Target is in an Availability Zone that is not enabled for the "
                               "load balancer"}
    health: dict = {"State": target.health}
    if target.health_reason:
        health["Reason"] = target.health_reason
        health["Description"] = {
            "Elb.InitialHealthChecking": "Initial health checks in progress",
            "Target.FailedHealthChecks": "Health checks failed",
            "Target.Timeout": "Request timed out",
            "Target.ResponseCodeMismatch": "Health checks failed with these codes",
        }.get(target.health_reason, target.health_reason)
    return health


def _health_row(store: Store, group: TargetGroup, target: Target) -> dict:
    described: dict = {"Id": target.id, "Port": target.port}
    if target.availability_zone:
        described["AvailabilityZone"] = target.availability_zone
    port = target.port if group.health_check_port == "traffic-port" else group.health_check_port
    return {"Target": described, "HealthCheckPort": str(port),
            "TargetHealth": target_health(store, group, target)}


@operation("elbv2", "DescribeTargetHealth")
def describe_target_health(context: RequestContext, params: dict) -> dict:
    group = require(context, TargetGroup, params["TargetGroupArn"])
    moment = now()
    targets = [t for t in group.targets if not drained(group, t, moment)]
    if not params.get("Targets"):
        return {"TargetHealthDescriptions": [_health_row(context.store, group, t)
                                             for t in targets]}
    rows = []
    for wanted in params["Targets"]:
        port = wanted.get("Port", group.port)
        match = next((t for t in targets if t.id == wanted["Id"] and t.port == port), None)
        if match is not None:
            rows.append(_health_row(context.store, group, match))
        else:
            rows.append({"Target": {"Id": wanted["Id"], "Port": port}, "TargetHealth": {
                "State": "unused", "Reason": "Target.NotRegistered",
                "Description": "Target is not registered to the target group"}})
    return {"TargetHealthDescriptions": rows}
