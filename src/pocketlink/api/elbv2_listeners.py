"""Listeners: a port and protocol on a load balancer, forwarding to one target group.

TCP and TCP_UDP carry traffic, and TLS: the data plane terminates it with the listener's
ACM certificates (elbv2_certificates.py adds the SNI ones), under its security policy.
"""

from __future__ import annotations

from pocketlink.api.context import RequestContext
from pocketlink.api.elbv2_certificates import check_tls, tls_settings
from pocketlink.api.elbv2_common import (
    arn,
    attribute_changes,
    attributes_out,
    hex_id,
    integer_attribute,
    page,
    set_attributes,
    validation,
)
from pocketlink.api.errors import elbv2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.model.elbv2 import LISTENER_ATTRIBUTES, Listener, LoadBalancer, TargetGroup

PROTOCOLS = ("TCP", "UDP", "TCP_UDP", "TLS")
# Which target group protocols a listener protocol may forward to.
COMPATIBLE = {"TCP": ("TCP", "TCP_UDP"), "UDP": ("UDP", "TCP_UDP"), "TCP_UDP": ("TCP_UDP",),
              "TLS": ("TCP", "TLS")}
MAX_LISTENERS = 50


def describe_listener(listener: Listener) -> dict:
    item: dict = {
        "ListenerArn": listener.id,
        "LoadBalancerArn": listener.load_balancer_arn,
        "Port": listener.port,
        "Protocol": listener.protocol,
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": listener.target_group_arn,
                            "ForwardConfig": {"TargetGroups": [
                                {"TargetGroupArn": listener.target_group_arn, "Weight": 1}],
                                "TargetGroupStickinessConfig": {"Enabled": False}}}],
    }
    if listener.certificates:  # the default only: DescribeListenerCertificates lists all
        item["Certificates"] = [{"CertificateArn": listener.certificates[0]}]
    if listener.ssl_policy:
        item["SslPolicy"] = listener.ssl_policy
    if listener.alpn_policy:
        item["AlpnPolicy"] = listener.alpn_policy
    return item


def _forward_target(context: RequestContext, actions: list[dict]) -> TargetGroup:
    if len(actions) != 1 or actions[0].get("Type") != "forward":
        raise elbv2.InvalidLoadBalancerActionException(
            "A network load balancer listener takes exactly one 'forward' action")
    action = actions[0]
    group_arn = action.get("TargetGroupArn")
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    if not group_arn and len(groups) == 1:
        group_arn = groups[0].get("TargetGroupArn")
    if not group_arn:
        raise elbv2.InvalidLoadBalancerActionException(
            "A network load balancer forwards to exactly one target group")
    return require(context, TargetGroup, group_arn)


def _check(context: RequestContext, balancer: LoadBalancer, protocol: str, port: int,
           group: TargetGroup, params: dict, listener: Listener | None = None) -> None:
    if protocol not in PROTOCOLS:
        raise elbv2.UnsupportedProtocolException(
            f"Protocol '{protocol}' is not supported by network load balancers")
    if not 1 <= port <= 65535:
        raise validation(f"Port {port} must be between 1 and 65535")
    if group.protocol not in COMPATIBLE[protocol]:
        raise elbv2.IncompatibleProtocolsException(
            f"Listener protocol '{protocol}' is not compatible with target group "
            f"protocol '{group.protocol}'")
    if group.vpc_id != balancer.vpc_id:
        raise elbv2.InvalidConfigurationRequestException(
            f"Target group '{group.id}' is in another VPC than load balancer "
            f"'{balancer.id}'")
    for other in context.store.all(Listener):
        if other.target_group_arn == group.id and other.load_balancer_arn != balancer.id:
            raise elbv2.TargetGroupAssociationLimitException(
                f"The following target groups cannot be associated with more than one "
                f"load balancer: {group.id}")
        if other.load_balancer_arn == balancer.id and other.port == port and \
                (listener is None or other.id != listener.id):
            raise elbv2.DuplicateListenerException("A listener already exists on this port "
                                                   "for this load balancer")
    check_tls(context, protocol, params, listener)


@operation("elbv2", "CreateListener")
def create_listener(context: RequestContext, params: dict) -> dict:
    balancer = require(context, LoadBalancer, params["LoadBalancerArn"])
    protocol = params.get("Protocol", "TCP")
    port = params.get("Port")
    if port is None:
        raise validation("A listener port must be specified")
    group = _forward_target(context, params["DefaultActions"])
    _check(context, balancer, protocol, port, group, params)
    if sum(1 for lst in context.store.all(Listener)
           if lst.load_balancer_arn == balancer.id) >= MAX_LISTENERS:
        raise elbv2.TooManyListenersException("You've reached the limit on the number of "
                                              "listeners per load balancer")
    listener = Listener(
        id=arn(context, f"listener/net/{balancer.name}/{balancer.load_balancer_id}/{hex_id()}"),
        account=context.account, region=context.region, load_balancer_arn=balancer.id,
        protocol=protocol, port=port, target_group_arn=group.id,
        **tls_settings(protocol, params, None),
        tags={t["Key"]: t.get("Value", "") for t in params.get("Tags") or []},
    )
    with context.store.transaction() as tx:
        tx.put(listener)
    return {"Listeners": [describe_listener(listener)]}


@operation("elbv2", "DescribeListeners")
def describe_listeners(context: RequestContext, params: dict) -> dict:
    listeners = owned(context, Listener)
    if params.get("LoadBalancerArn"):
        balancer = require(context, LoadBalancer, params["LoadBalancerArn"])
        listeners = [lst for lst in listeners if lst.load_balancer_arn == balancer.id]
    elif params.get("ListenerArns"):
        wanted = params["ListenerArns"]
        listeners = [lst for lst in listeners if lst.id in wanted]
        if len(listeners) != len(set(wanted)):
            raise elbv2.ListenerNotFoundException("One or more listeners not found")
    else:
        raise validation("You must specify either listener ARNs or a load balancer ARN")
    chunk, more = page(listeners, params)
    return {"Listeners": [describe_listener(lst) for lst in chunk], **more}


@operation("elbv2", "ModifyListener")
def modify_listener(context: RequestContext, params: dict) -> dict:
    listener = require(context, Listener, params["ListenerArn"])
    balancer = require(context, LoadBalancer, listener.load_balancer_arn)
    protocol = params.get("Protocol", listener.protocol)
    port = params.get("Port", listener.port)
    group = _forward_target(context, params["DefaultActions"]) if params.get(
        "DefaultActions") else require(context, TargetGroup, listener.target_group_arn)
    _check(context, balancer, protocol, port, group, params, listener)
    with context.store.transaction() as tx:
        mine = tx.edit(Listener, listener.id)
        mine.protocol, mine.port, mine.target_group_arn = protocol, port, group.id
        for key, value in tls_settings(protocol, params, listener).items():
            setattr(mine, key, value)
    return {"Listeners": [describe_listener(mine)]}


@operation("elbv2", "DeleteListener")
def delete_listener(context: RequestContext, params: dict) -> dict:
    listener = require(context, Listener, params["ListenerArn"])
    with context.store.transaction() as tx:
        tx.delete(listener)
    return {}


@operation("elbv2", "DescribeListenerAttributes")
def describe_listener_attributes(context: RequestContext, params: dict) -> dict:
    listener = require(context, Listener, params["ListenerArn"])
    return {"Attributes": attributes_out(listener.attributes)}


@operation("elbv2", "ModifyListenerAttributes")
def modify_listener_attributes(context: RequestContext, params: dict) -> dict:
    listener = require(context, Listener, params["ListenerArn"])
    changes = attribute_changes(params, LISTENER_ATTRIBUTES, "Listener")
    for key, value in changes.items():
        integer_attribute(key, value, 60, 6000)
    if listener.protocol not in ("TCP", "TLS", "TCP_UDP") and changes:
        raise elbv2.InvalidConfigurationRequestException(
            "The idle timeout can be set on TCP, TLS and TCP_UDP listeners only")
    return set_attributes(context, listener, changes)
