"""Every member read as a number gets, one by one, the values that fool ``str.isdigit`` or
``int()``: no 5xx, every error in the service's AWS format, no success that keeps them.

The random bends of test_fuzz.py seldom put such a value where a handler reads a number:
this walk puts it in each such place, on top of a request valid enough (the model's
required members, a known-good base for the operations whose handlers want more, ids of a
world made once) that the handler gets past its lookups to the number. The places are
found in the models: integer and long members (the wire parser reads those), string
members named or documented as numbers, and the keys of key/value members whose
documentation gives a number (ELBv2's attributes, DHCP options).
"""

from __future__ import annotations

import collections
import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from pocketlink.api.handlers import collect
from pocketlink.wire import specs
from tests.conftest import ipv6_subnet
from tests.wire.test_fuzz import Client, check, serialized

ACCOUNT = "888888888888"  # its own: test_fuzz's junk (a '²' in a tag) is not this test's
# What str.isdigit takes and int() refuses ('²', '1²', '-²') or reads though AWS would not
# (Arabic-Indic and fullwidth digits), what int() alone takes (spaces) or refuses, and more
# ASCII digits than int() reads (4,300).
VALUES = ("\u00b2", "1\u00b2", "\u0661\u0662", "\uff11", "-\u00b2", "0x10", "1e3", " 1", "1 ", "",
          "9" * 5000)

# A string member is a number by its name, or by its documentation.
NUMBER_NAME = re.compile(
    r"(Port|FromPort|ToPort|Version|MaxItems|MaxResults|IpProtocol|Ttl|TTL|Weight|Priority|"
    r"Seconds|Minutes|Hours|Days|Count|Size|LeaseTime|Interval|Timeout|Threshold|Limit|"
    r"Percentage|Period|Capacity|Asn)s?$")
NUMBER_DOC = re.compile(r"\b(an integer|a number (from|between)|port number|version number|"
                        r"between \d+ and \d+(?! characters)|from \d+ to \d+|\d+-\d+ seconds)", re.I)
# A key/value member's key is a number's when its entry (``<code>key</code> - ...``) says so.
KEYED_ENTRY = re.compile(r"<code>([a-z0-9_.:-]+)</code>\s*-\s*(.*?)</li>", re.S)
KEYED_NUMBER = re.compile(r"in seconds|range is|an integer|\(\d+, \d+|number of", re.I)
# Named like a number but never one: ELBv2's ProtocolVersion (HTTP1, HTTP2, GRPC). (A
# launch template Version may be $Latest, but a number where it is digits: it stays in.)
NOT_NUMBERS = frozenset({"ProtocolVersion"})


@dataclass(frozen=True)
class Place:
    """Where a number is read: an operation, a member path (``*``: a list's item), and for
    a key/value member, the key that makes its value a number."""

    service: str
    operation: str
    path: tuple[str, ...]
    key: str | None = None
    integer: bool = False  # the model's integer or long, which the wire parser reads

    def __str__(self) -> str:
        where = ".".join(self.path) + (f"[{self.key}]" if self.key else "")
        return f"{self.service}.{self.operation}:{where}"


def _scalars(shape: Shape, path: tuple[str, ...], seen: frozenset[str]):
    """Every scalar member under ``shape``, with its path (recursive shapes once)."""
    if isinstance(shape, StructureShape):
        if shape.name in seen:
            return
        for name, member in shape.members.items():
            if member.serialization.get("location") in (None, "uri", "querystring"):
                yield from _scalars(member, (*path, name), seen | {shape.name})
    elif isinstance(shape, ListShape):
        yield from _scalars(shape.member, (*path, "*"), seen)
    elif not isinstance(shape, MapShape):
        yield path, shape


def _keyed(service: str, operation_name: str, shape: StructureShape, path: tuple[str, ...]):
    """The number keys of a key/value structure, from its Key's or its operation's docs."""
    members = shape.members
    value = "Value" if "Value" in members else "Values" if "Values" in members else None
    if "Key" not in members or value is None or shape.name == "Tag":  # tags: free text
        return
    operation = specs.load(service).model.operation_model(operation_name)
    docs = (members["Key"].documentation or "") + (operation.documentation or "")
    for key, text in KEYED_ENTRY.findall(docs):
        if KEYED_NUMBER.search(re.sub("<[^>]+>", "", text)):
            where = (*path, value, "*") if value == "Values" else (*path, value)
            yield Place(service, operation_name, where, key)


def places() -> list[Place]:
    """Every place a number is read, in the operations pocketlink serves itself."""
    found: dict[Place, None] = {}
    for service, operation_name in sorted(collect()):
        shape = specs.load(service).model.operation_model(operation_name).input_shape
        if shape is None:
            continue
        for path, member in _scalars(shape, (), frozenset()):
            name = path[-1] if path[-1] != "*" else path[-2]
            if member.type_name == "string" and name == "Key":  # its value's the number
                for place in _keyed(service, operation_name, _shape_at(shape, path[:-1]),
                                    path[:-1]):
                    found[place] = None
            elif member.type_name in ("integer", "long"):
                found[Place(service, operation_name, path, integer=True)] = None
            elif member.type_name == "string" and not member.enum and name not in NOT_NUMBERS \
                    and (NUMBER_NAME.search(name) or NUMBER_DOC.search(member.documentation or "")):
                found[Place(service, operation_name, path)] = None
    return list(found)


def _shape_at(shape: Shape, path: tuple[str, ...]) -> Shape:
    for part in path:
        shape = shape.member if part == "*" else shape.members[part]
    return shape


PLACES = places()


# --- a request valid enough to reach the number ------------------------------------------

def _bases(world: dict, unique) -> dict[tuple[str, str], dict]:
    """Requests that pass their handlers' checks, for the operations whose handlers want
    more than the model's required members before they read a number."""
    permission = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                  "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    sg_rule = {"GroupId": world["GroupId"], "IpPermissions": [permission]}
    record = {"Name": f"n{unique()}.{world['ZoneName']}", "Type": "A", "TTL": 60,
              "ResourceRecords": [{"Value": "10.0.0.1"}]}
    template = {"LaunchTemplateId": world["LaunchTemplateId"]}
    return {
        ("ec2", "AuthorizeSecurityGroupIngress"): sg_rule,
        ("ec2", "AuthorizeSecurityGroupEgress"): sg_rule,
        ("ec2", "RevokeSecurityGroupIngress"): sg_rule,
        ("ec2", "RevokeSecurityGroupEgress"): sg_rule,
        ("ec2", "RunInstances"): {"ImageId": world["ImageId"], "MinCount": 1, "MaxCount": 1,
                                  "SubnetId": world["SubnetId"], "InstanceType": "t3.micro"},
        ("ec2", "CreateLaunchTemplate"): {"LaunchTemplateName": f"n{unique()}",
                                          "LaunchTemplateData": {"ImageId": world["ImageId"]}},
        ("ec2", "CreateLaunchTemplateVersion"): {**template,
                                                 "LaunchTemplateData": {"ImageId": world["ImageId"]}},
        ("ec2", "DescribeLaunchTemplateVersions"): template,
        ("ec2", "ModifyLaunchTemplate"): template,
        ("ec2", "DeleteLaunchTemplateVersions"): template,
        ("ec2", "CreateDhcpOptions"): {"DhcpConfigurations": [
            {"Key": "domain-name", "Values": ["example.com"]}]},
        ("elbv2", "CreateTargetGroup"): {"Name": f"n{unique()}", "Protocol": "TCP", "Port": 80,
                                         "VpcId": world["VpcId"], "TargetType": "instance",
                                         "HealthCheckProtocol": "HTTP"},  # it has a matcher
        ("elbv2", "ModifyTargetGroup"): {"TargetGroupArn": world["TargetGroupArn"],
                                         "HealthCheckProtocol": "HTTP"},
        ("elbv2", "CreateListener"): {"LoadBalancerArn": world["LoadBalancerArn"],
                                      "Protocol": "TCP", "Port": 1000 + unique(),
                                      "DefaultActions": [{"Type": "forward",
                                                          "TargetGroupArn":
                                                          world["TargetGroupArn"]}]},
        ("elbv2", "ModifyListener"): {"ListenerArn": world["ListenerArn"]},
        ("route53", "ChangeResourceRecordSets"): {
            "HostedZoneId": world["HostedZoneId"],
            "ChangeBatch": {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}},
        ("route53", "CreateHealthCheck"): {"CallerReference": f"n{unique()}", "HealthCheckConfig": {
            "Type": "TCP", "IPAddress": "198.51.100.10", "Port": 80}},
        ("route53", "UpdateHealthCheck"): {"HealthCheckId": world["HealthCheckId"]},
        ("autoscaling", "CreateAutoScalingGroup"): {
            "AutoScalingGroupName": f"n{unique()}", "MinSize": 0, "MaxSize": 1,
            "LaunchTemplate": {"LaunchTemplateId": world["LaunchTemplateId"]},
            "VPCZoneIdentifier": world["SubnetId"]},
    }


def _placeholder(name: str, shape: Shape, world: dict, unique):
    if isinstance(shape, StructureShape):
        if shape.is_tagged_union:
            first = next(iter(shape.members))
            return {first: _placeholder(first, shape.members[first], world, unique)}
        return {n: _placeholder(n, shape.members[n], world, unique)
                for n in shape.required_members}
    if isinstance(shape, ListShape):
        return [_placeholder(name.removesuffix("s"), shape.member, world, unique)]
    if isinstance(shape, MapShape):
        return {}
    kind = shape.type_name
    if kind == "string":
        if name in world:
            return world[name]
        return shape.enum[0] if shape.enum else f"n{unique()}"
    return {"integer": 1, "long": 1, "boolean": False, "float": 1.0, "double": 1.0,
            "timestamp": datetime.now(UTC), "blob": b"x"}[kind]


def _put(node, shape: Shape, path: tuple[str, ...], value, key: str | None, fill) -> None:
    """Sets the member at ``path`` under ``node`` (of ``shape``) to ``value``, making the
    structures and lists on the way (a structure with its required members: ``fill``);
    the ``key`` of a key/value structure goes beside its value."""
    part, rest = path[0], path[1:]
    child_shape = shape.member if part == "*" else shape.members[part]
    if part == "*":
        if not rest:
            node[:1] = [value]
            return
        if not node:
            node.append(fill(child_shape))
        child = node[0]
    else:
        if key and part in ("Value", "Values"):
            node["Key"] = key
        if not rest:
            node[part] = value
            return
        if not isinstance(node.get(part), dict | list):
            node[part] = fill(child_shape)
        child = node[part]
    _put(child, child_shape, rest, value, key, fill)


def request_for(place: Place, value: str, world: dict, unique) -> dict:
    """The operation's base (or its required members) with ``value`` put at ``place``."""
    shape = specs.load(place.service).model.operation_model(place.operation).input_shape
    params = _bases(world, unique).get((place.service, place.operation), {})
    for name in shape.required_members:
        params.setdefault(name, _placeholder(name, shape.members[name], world, unique))
    _put(params, shape, place.path, value, place.key,
         lambda member: _placeholder("", member, world, unique))
    return params


# --- the world, and what is kept --------------------------------------------------------

@pytest.fixture(scope="module")
def world(daemon) -> dict:
    """One of each resource whose id the requests name, so that lookups find it."""
    ec2 = daemon.client("ec2", ACCOUNT)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.8.1.0/24",
                               Ipv6CidrBlock=ipv6_subnet(block, 1))["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="numbers", Description="numbers",
                                      VpcId=vpc["VpcId"])["GroupId"]
    image = "ami-0123456789abcdef0"
    template = ec2.create_launch_template(LaunchTemplateName="numbers", LaunchTemplateData={
        "ImageId": image})["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=template,
                                       LaunchTemplateData={"ImageId": image})
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                 SubnetId=subnet)["Instances"][0]["InstanceId"]
    elb = daemon.client("elbv2", ACCOUNT)
    balancer = elb.create_load_balancer(Name="numbers", Type="network", Scheme="internal",
                                        Subnets=[subnet])["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elb.create_target_group(Name="numbers", Protocol="TCP", Port=80,
                                           VpcId=vpc["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=balancer, Protocol="TCP", Port=80,
                                   DefaultActions=[{"Type": "forward",
                                                    "TargetGroupArn": target_group}]
                                   )["Listeners"][0]["ListenerArn"]
    route53 = daemon.client("route53", ACCOUNT)
    zone = route53.create_hosted_zone(Name="numbers.example.com", CallerReference="numbers")
    check_id = route53.create_health_check(CallerReference="numbers", HealthCheckConfig={
        "Type": "TCP", "IPAddress": "198.51.100.10", "Port": 80})["HealthCheck"]["Id"]
    daemon.client("autoscaling", ACCOUNT).create_auto_scaling_group(
        AutoScalingGroupName="numbers", MinSize=0, MaxSize=1,
        LaunchTemplate={"LaunchTemplateId": template}, VPCZoneIdentifier=subnet)
    return {"VpcId": vpc["VpcId"], "VPCId": vpc["VpcId"], "SubnetId": subnet, "Subnet": subnet,
            "GroupId": group, "SecurityGroupId": group, "SecurityGroup": group, "ImageId": image,
            "LaunchTemplateId": template, "LaunchTemplateName": "numbers",
            "InstanceId": instance, "LoadBalancerArn": balancer,
            "TargetGroupArn": target_group, "ListenerArn": listener,
            "HostedZoneId": zone["HostedZone"]["Id"].split("/")[-1],
            "Id": zone["HostedZone"]["Id"].split("/")[-1], "ZoneName": "numbers.example.com",
            "HealthCheckId": check_id, "AutoScalingGroupName": "numbers"}


def foreign_digits(text: str) -> list[str]:
    """The digits in ``text`` that are not ASCII ones (what ``str.isdigit`` takes too)."""
    return [c for c in text if (c.isdigit() or c.isnumeric()) and not c.isascii()]


def test_the_places_are_found_in_the_models() -> None:
    """The walk finds the known places (a list the test prints, for the record)."""
    shown = sorted(str(p) for p in PLACES)
    print(f"{len(shown)} places read as numbers:", *shown, sep="\n  ")
    for known in ("ec2.AuthorizeSecurityGroupIngress:IpPermissions.*.IpProtocol",
                  "ec2.CreateDhcpOptions:DhcpConfigurations.*.Values.*"
                  "[ipv6-address-preferred-lease-time]",
                  "ec2.DescribeLaunchTemplateVersions:Versions.*",
                  "elbv2.CreateTargetGroup:HealthCheckPort",
                  "elbv2.ModifyTargetGroupAttributes:Attributes.*.Value"
                  "[deregistration_delay.timeout_seconds]",
                  "route53.ListHostedZones:MaxItems",
                  "route53.ChangeResourceRecordSets:ChangeBatch.Changes.*.ResourceRecordSet.TTL"):
        assert known in shown


def test_every_number_refuses_what_is_not_ascii_digits(daemon, world: dict) -> None:
    client = Client(daemon.endpoint, ACCOUNT)
    counter = itertools.count()
    unique = lambda: next(counter)  # noqa: E731 - one counter, shared by the builders
    failures: list[str] = []
    answers: collections.Counter[str] = collections.Counter()
    for place in PLACES:
        for value in VALUES:
            params = request_for(place, value, world, unique)
            status, body = client.send(place.service,
                                       serialized(place.service, place.operation, params))
            answers[_code(body) if status >= 300 else "success"] += 1
            try:
                check(place.service, place.operation, status, body)
                if status < 300:
                    # The wire parser reads the model's integers: other digits never pass.
                    assert value.isascii() or not place.integer, "a success took it"
                    assert not foreign_digits(body.decode()), "a success kept it"
            except AssertionError as failed:
                failures.append(f"{place} = {value[:20]!r}: HTTP {status}: {failed}"[:600])
    print(f"{sum(answers.values())} requests; answers:", answers.most_common())
    failures += kept_anywhere(client)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


def _code(body: bytes) -> str:
    found = re.search(rb"<Code>([^<]+)</Code>|\"__type\": ?\"([^\"]+)\"", body)
    return (found.group(1) or found.group(2)).decode() if found else "?"


def kept_anywhere(client: Client) -> list[str]:
    """Read back: what the account's describe, list and get calls without a required
    member show, if it holds a foreign digit."""
    kept = []
    for service, operation_name in sorted(collect()):
        shape = specs.load(service).model.operation_model(operation_name).input_shape
        if operation_name.startswith(("Describe", "List", "Get")) and (
                shape is None or not shape.required_members):
            status, body = client.send(service, serialized(service, operation_name, {}))
            if status < 300 and foreign_digits(body.decode()):
                kept.append(f"{service}.{operation_name} shows {foreign_digits(body.decode())}")
    return kept
