"""Fixtures of the PrivateLink suite: checked clients, fresh accounts, and two small worlds.

- Every client refuses an error that is not a proper AWS error (a code other than
  ``InternalError``, a message, and the HTTP status the service's model gives that code:
  400, or 404 for Route 53's NoSuchHostedZone), as tests/api/conftest.py does for EC2.
- Each test gets accounts of its own (``new_account``), so quotas and names of one test never
  meet another's on the shared daemon; only the seeds and the CLI flow use the fixed provider
  111111111111 and consumer 222222222222. Route 53 domains are per test too: the public DNS
  is one for all accounts, and the oldest zone of a name answers.
- ``make_provider`` builds the provider's side of seed 000: a dual-stack VPC, two subnets in
  two zones, an instance, an internal dual-stack NLB, a TCP target group and listener, and the
  endpoint service. ``make_consumer`` builds a VPC with one subnet in each zone of a service.
- The reconciler moves states right after each change: tests poll with ``wait_for``
  (``pocketlink.polling``).
"""

from __future__ import annotations

import ipaddress
import secrets
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pocketlink.polling import PATIENCE, wait_for
from tests.conftest import check_aws_error

AMI = "ami-0123456789abcdef0"
REGION = "us-east-1"
HEX17 = r"[0-9a-f]{17}"


def new_account() -> str:
    """A fresh 12-digit account id: an access key id that is one *is* that account."""
    return f"9{secrets.randbelow(10**11):011d}"


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@contextmanager
def aws_error(code: str, message: str | None = None) -> Iterator[pytest.ExceptionInfo]:
    """Expects a ClientError with ``code`` (and exactly ``message`` when given)."""
    with pytest.raises(ClientError) as caught:
        yield caught
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert error["Message"] == message


def dig(daemon, *args: str) -> str:
    """``dig @127.0.0.1 -p <public DNS port> ...``: what the public DNS answers, as text."""
    done = subprocess.run(["dig", "@127.0.0.1", "-p", str(daemon.dns_port), "+time=2",
                           "+tries=2", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def publish_txt(route53, zone: dict, name: str, value: str) -> dict:
    """UPSERTs ``"<value>"`` as the TXT record ``name`` of a Route 53 zone."""
    return route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": name, "Type": "TXT", "TTL": 300,
            "ResourceRecords": [{"Value": f'"{value}"'}]}}]})["ChangeInfo"]


def ipv6_blocks(vpc: dict, count: int = 4) -> list[str]:
    block = ipaddress.IPv6Network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    return [str(net) for net, _ in zip(block.subnets(new_prefix=64), range(count), strict=False)]


@pytest.fixture
def client(daemon) -> Callable[..., Any]:
    """``client(service, account, region, validate=True)``: a boto3 client whose errors are
    checked; ``validate=False`` turns botocore's own parameter checks off."""

    def make(service: str, account: str, region: str = REGION, validate: bool = True):
        made = daemon.client(service, account, region, validate=validate)
        made.meta.events.register("after-call", check_aws_error)
        return made

    return make


def zone_ids(ec2, count: int = 2) -> list[str]:
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    return sorted(z["ZoneId"] for z in zones)[:count]


@dataclass
class Provider:
    """Seed 000's provider: VPC, subnets, instance, NLB, target group, listener, service."""

    account: str
    ec2: Any
    elbv2: Any
    vpc: dict
    subnets: list[dict]
    instance: dict
    balancer: dict
    target_group: dict
    listener: dict
    service: dict | None = None

    @property
    def balancer_arn(self) -> str:
        return self.balancer["LoadBalancerArn"]

    @property
    def service_id(self) -> str:
        assert self.service is not None
        return self.service["ServiceId"]

    @property
    def service_name(self) -> str:
        assert self.service is not None
        return self.service["ServiceName"]

    def create_service(self, **params) -> dict:
        params.setdefault("NetworkLoadBalancerArns", [self.balancer_arn])
        self.service = self.ec2.create_vpc_endpoint_service_configuration(
            **params)["ServiceConfiguration"]
        return self.service

    def new_balancer(self, **params) -> dict:
        """Another internal NLB in the provider's subnets."""
        params.setdefault("IpAddressType", "dualstack")
        [made] = self.elbv2.create_load_balancer(
            Name=unique("nlb"), Type="network", Scheme="internal",
            Subnets=[s["SubnetId"] for s in self.subnets], **params)["LoadBalancers"]
        return made

    def describe_service(self) -> dict:
        [found] = self.ec2.describe_vpc_endpoint_service_configurations(
            ServiceIds=[self.service_id])["ServiceConfigurations"]
        self.service = found
        return found

    def allow(self, *principals: str) -> dict:
        return self.ec2.modify_vpc_endpoint_service_permissions(
            ServiceId=self.service_id,
            AddAllowedPrincipals=[p if p == "*" or p.startswith("arn:")
                                  else f"arn:aws:iam::{p}:root" for p in principals])

    def accept(self, *endpoint_ids: str) -> list[dict]:
        return self.ec2.accept_vpc_endpoint_connections(
            ServiceId=self.service_id, VpcEndpointIds=list(endpoint_ids))["Unsuccessful"]

    def reject(self, *endpoint_ids: str) -> list[dict]:
        return self.ec2.reject_vpc_endpoint_connections(
            ServiceId=self.service_id, VpcEndpointIds=list(endpoint_ids))["Unsuccessful"]

    def connections(self, **params) -> list[dict]:
        return self.ec2.describe_vpc_endpoint_connections(**params)["VpcEndpointConnections"]

    def service_zone_ids(self) -> list[str]:
        return self.describe_service()["AvailabilityZoneIds"]

    def private_dns_state(self) -> str:
        return self.describe_service()["PrivateDnsNameConfiguration"]["State"]

    def verify(self, route53, zone: dict, private_name: str, value: str | None = None) -> str:
        """Seed 000 section 3: names ``private_name``, publishes the TXT record in ``zone``
        (``value`` instead of the right one, if given), asks for verification and gives
        the state it ends in."""
        self.ec2.modify_vpc_endpoint_service_configuration(ServiceId=self.service_id,
                                                           PrivateDnsName=private_name)
        config = self.describe_service()["PrivateDnsNameConfiguration"]
        publish_txt(route53, zone, f"{config['Name']}.{private_name}", value or config["Value"])
        return self.start_verification()

    def start_verification(self) -> str:
        assert self.ec2.start_vpc_endpoint_service_private_dns_verification(
            ServiceId=self.service_id)["ReturnValue"] is True
        return wait_for(lambda: (state := self.private_dns_state()) != "pendingVerification"
                        and state, what="private DNS verification")


def build_provider(client, account: str, *, region: str = REGION, dualstack: bool = True,
                   service: bool = True, **service_params) -> Provider:
    ec2, elbv2 = client("ec2", account, region), client("elbv2", account, region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    blocks = ipv6_blocks(vpc)
    subnets = [ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"10.0.{n + 1}.0/24",
                                 Ipv6CidrBlock=blocks[n], AvailabilityZoneId=zone)["Subnet"]
               for n, zone in enumerate(zone_ids(ec2))]
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                   SubnetId=subnets[0]["SubnetId"])["Instances"]
    [balancer] = elbv2.create_load_balancer(
        Name=unique("nlb"), Type="network", Scheme="internal",
        IpAddressType="dualstack" if dualstack else "ipv4",
        Subnets=[s["SubnetId"] for s in subnets])["LoadBalancers"]
    [group] = elbv2.create_target_group(Name=unique("tg"), Protocol="TCP", Port=80,
                                        VpcId=vpc["VpcId"], TargetType="instance")["TargetGroups"]
    elbv2.register_targets(TargetGroupArn=group["TargetGroupArn"],
                           Targets=[{"Id": instance["InstanceId"]}])
    [listener] = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])["Listeners"]
    provider = Provider(account, ec2, elbv2, vpc, subnets, instance, balancer, group, listener)
    if service:
        provider.create_service(**service_params)
    return provider


@dataclass
class Consumer:
    """A VPC with one dual-stack subnet in each zone of a service, and its endpoints."""

    account: str
    ec2: Any
    vpc: dict
    subnets: list[dict]
    endpoints: list[str] = field(default_factory=list)

    @property
    def vpc_id(self) -> str:
        return self.vpc["VpcId"]

    @property
    def subnet_ids(self) -> list[str]:
        return [s["SubnetId"] for s in self.subnets]

    def create_endpoint(self, service_name: str, subnet_ids: list[str] | None = None,
                        **params) -> dict:
        params.setdefault("VpcEndpointType", "Interface")
        if params["VpcEndpointType"] == "Interface":
            params["SubnetIds"] = self.subnet_ids if subnet_ids is None else subnet_ids
        endpoint = self.ec2.create_vpc_endpoint(VpcId=self.vpc_id, ServiceName=service_name,
                                                **params)["VpcEndpoint"]
        self.endpoints.append(endpoint["VpcEndpointId"])
        return endpoint

    def describe(self, endpoint_id: str) -> dict:
        [found] = self.ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
        return found

    def state(self, endpoint_id: str) -> str:
        return self.describe(endpoint_id)["State"]

    def wait_state(self, endpoint_id: str, state: str, timeout: float = PATIENCE) -> dict:
        return wait_for(lambda: (found := self.describe(endpoint_id))["State"] == state
                        and found, f"{endpoint_id} {state}", timeout)


def build_consumer(client, account: str, zones: list[str], *, region: str = REGION,
                   dns_hostnames: bool = True, cidr: str = "10.1.0.0/16") -> Consumer:
    ec2 = client("ec2", account, region)
    vpc = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    if dns_hostnames:
        ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    network = ipaddress.IPv4Network(cidr)
    blocks = ipv6_blocks(vpc, len(zones))
    subnets = [ec2.create_subnet(VpcId=vpc["VpcId"],
                                 CidrBlock=str(list(network.subnets(new_prefix=24))[n + 1]),
                                 Ipv6CidrBlock=blocks[n], AvailabilityZoneId=zone)["Subnet"]
               for n, zone in enumerate(zones)]
    return Consumer(account, ec2, vpc, subnets)


@pytest.fixture
def make_provider(client) -> Callable[..., Provider]:
    """``make_provider(account=None, region=..., dualstack=True, service=True, **service params)``."""

    def make(account: str | None = None, **options) -> Provider:
        return build_provider(client, account or new_account(), **options)

    return make


@pytest.fixture
def make_consumer(client) -> Callable[..., Consumer]:
    """``make_consumer(provider_or_zone_ids, account=None, dns_hostnames=True, ...)``: a VPC with
    one subnet in each zone of the provider's service (matched by zone id)."""

    def make(of: Provider | list[str], account: str | None = None, **options) -> Consumer:
        zones = of.service_zone_ids() if isinstance(of, Provider) else of
        return build_consumer(client, account or new_account(), zones, **options)

    return make


@pytest.fixture
def provider(make_provider) -> Provider:
    """A provider whose service requires acceptance (AWS's default)."""
    return make_provider()


@pytest.fixture
def consumer(make_consumer, provider) -> Consumer:
    """A consumer in another account, allowed to see the provider's service."""
    made = make_consumer(provider)
    provider.allow(made.account)
    return made
