"""The consumer's side: interface endpoints, their states, names, ENIs, IP types, quotas."""

from __future__ import annotations

import ipaddress
import re

import pytest

from tests.privatelink.conftest import HEX17, REGION, aws_error, ipv6_blocks, new_account

LABEL = r"[a-z0-9]{8}"


def enis(consumer, endpoint: dict) -> list[dict]:
    ids = endpoint["NetworkInterfaceIds"]
    if not ids:
        return []
    return consumer.ec2.describe_network_interfaces(NetworkInterfaceIds=ids)["NetworkInterfaces"]


def enis_of(consumer, endpoint_id: str) -> list[dict]:
    return consumer.ec2.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [f"VPC Endpoint Interface {endpoint_id}"]}])[
        "NetworkInterfaces"]


@pytest.fixture
def open_provider(make_provider):
    """A provider that accepts every endpoint and supports IPv4 and IPv6."""
    return make_provider(AcceptanceRequired=False, SupportedIpAddressTypes=["ipv4", "ipv6"])


@pytest.fixture
def open_consumer(make_consumer, open_provider):
    made = make_consumer(open_provider)
    open_provider.allow(made.account)
    return made


def ipv6_only_subnets(consumer, zones: list[str]) -> list[str]:
    blocks = ipv6_blocks(consumer.vpc, 8)[4:]
    return [consumer.ec2.create_subnet(VpcId=consumer.vpc_id, Ipv6Native=True,
                                       Ipv6CidrBlock=blocks[n], AvailabilityZoneId=zone)[
        "Subnet"]["SubnetId"] for n, zone in enumerate(zones)]


# Lifecycle

def test_acceptance_then_available(provider, consumer):
    endpoint = consumer.create_endpoint(provider.service_name)
    assert re.fullmatch(rf"vpce-{HEX17}", endpoint["VpcEndpointId"])
    assert (endpoint["State"], endpoint["VpcEndpointType"], endpoint["ServiceName"],
            endpoint["VpcId"], endpoint["OwnerId"]) == (
        "pendingAcceptance", "Interface", provider.service_name, consumer.vpc_id, consumer.account)
    assert consumer.state(endpoint["VpcEndpointId"]) == "pendingAcceptance"
    provider.accept(endpoint["VpcEndpointId"])
    assert consumer.state(endpoint["VpcEndpointId"]) in ("pending", "available")
    consumer.wait_state(endpoint["VpcEndpointId"], "available")


def test_without_acceptance_pending_then_available(open_provider, open_consumer):
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    assert endpoint["State"] == "pending"
    open_consumer.wait_state(endpoint["VpcEndpointId"], "available")


def test_the_providers_own_endpoint_waits_for_acceptance_too(provider, make_consumer):
    own = make_consumer(provider, account=provider.account, cidr="10.7.0.0/16")
    endpoint = own.create_endpoint(provider.service_name)
    assert endpoint["State"] == "pendingAcceptance"
    assert own.state(endpoint["VpcEndpointId"]) == "pendingAcceptance"


def test_dns_entries(open_provider, open_consumer):
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    endpoint_id, service_id = endpoint["VpcEndpointId"], open_provider.service_id
    tail = rf"\.{service_id}\.{REGION}\.vpce\.amazonaws\.com"
    regional, *zonal = endpoint["DnsEntries"]
    match = re.fullmatch(rf"{endpoint_id}-({LABEL}){tail}", regional["DnsName"])
    assert match, regional
    label = match.group(1)
    zones = sorted(s["AvailabilityZone"] for s in open_consumer.subnets)
    assert [e["DnsName"] for e in zonal] == [
        f"{endpoint_id}-{label}-{zone}.{service_id}.{REGION}.vpce.amazonaws.com" for zone in zones]
    assert {e["HostedZoneId"] for e in endpoint["DnsEntries"]} == {"Z7HUB22UULQXV"}
    assert open_consumer.describe(endpoint_id)["DnsEntries"] == endpoint["DnsEntries"]


def test_one_requester_managed_eni_per_subnet(open_provider, open_consumer):
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    found = enis(open_consumer, endpoint)
    assert sorted(e["SubnetId"] for e in found) == sorted(open_consumer.subnet_ids)
    for eni in found:
        assert (eni["InterfaceType"], eni["Description"], eni["RequesterManaged"]) == (
            "vpc_endpoint", f"VPC Endpoint Interface {endpoint['VpcEndpointId']}", True)
        assert ipaddress.ip_address(eni["PrivateIpAddress"]) in ipaddress.ip_network(
            next(s["CidrBlock"] for s in open_consumer.subnets if s["SubnetId"] == eni["SubnetId"]))
    assert sorted(e["NetworkInterfaceId"] for e in enis_of(open_consumer,
                                                          endpoint["VpcEndpointId"])) == \
        sorted(endpoint["NetworkInterfaceIds"])


def test_the_default_security_group_when_none_is_given(open_provider, open_consumer):
    [default] = open_consumer.ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [open_consumer.vpc_id]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    assert endpoint["Groups"] == [{"GroupId": default["GroupId"], "GroupName": "default"}]
    for eni in enis(open_consumer, endpoint):
        assert [g["GroupId"] for g in eni["Groups"]] == [default["GroupId"]]


def test_one_subnet_per_zone(open_provider, open_consumer):
    first = open_consumer.subnets[0]
    twin = open_consumer.ec2.create_subnet(VpcId=open_consumer.vpc_id, CidrBlock="10.1.99.0/24",
                                           AvailabilityZoneId=first["AvailabilityZoneId"])["Subnet"]
    with aws_error("DuplicateSubnetsInSameZone"):
        open_consumer.create_endpoint(open_provider.service_name,
                                      [first["SubnetId"], twin["SubnetId"]])


def test_a_subnet_outside_the_services_zones(open_provider, open_consumer):
    zones = open_consumer.ec2.describe_availability_zones()["AvailabilityZones"]
    elsewhere = next(z["ZoneId"] for z in zones
                     if z["ZoneId"] not in open_provider.service["AvailabilityZoneIds"])
    subnet = open_consumer.ec2.create_subnet(VpcId=open_consumer.vpc_id, CidrBlock="10.1.98.0/24",
                                             AvailabilityZoneId=elsewhere)["Subnet"]["SubnetId"]
    message = (f"The VPC endpoint service {open_provider.service_name} does not support the "
               f"availability zone of the subnet: {subnet}.")
    with aws_error("InvalidParameter", message):
        open_consumer.create_endpoint(open_provider.service_name, [subnet])


def test_subnets_of_another_vpc_are_refused(open_provider, open_consumer, make_consumer):
    other = make_consumer(open_provider, account=open_consumer.account, cidr="10.2.0.0/16")
    with aws_error("InvalidSubnetID.NotFound"):
        open_consumer.create_endpoint(open_provider.service_name, other.subnet_ids)
    with aws_error("InvalidSubnetID.Malformed"):
        open_consumer.create_endpoint(open_provider.service_name, ["subnet-1"])


# IP address types (the reference's table)

@pytest.mark.parametrize(("ip_type", "record_type", "allowed"), [
    ("ipv4", "ipv4", True), ("ipv4", "dualstack", False), ("ipv4", "ipv6", False),
    ("ipv4", "service-defined", False),
    ("dualstack", "ipv4", True), ("dualstack", "ipv6", True), ("dualstack", "dualstack", True),
    ("dualstack", "service-defined", True)])
def test_ip_address_type_and_dns_record_ip_type(open_provider, open_consumer, ip_type,
                                                record_type, allowed):
    def create() -> dict:
        return open_consumer.create_endpoint(open_provider.service_name, IpAddressType=ip_type,
                                             DnsOptions={"DnsRecordIpType": record_type})

    if not allowed:
        with aws_error("InvalidParameter"):
            create()
        return
    endpoint = create()
    assert (endpoint["IpAddressType"], endpoint["DnsOptions"]["DnsRecordIpType"]) == (
        ip_type, record_type)
    for eni in enis(open_consumer, endpoint):
        assert bool(eni["Ipv6Addresses"]) == (ip_type == "dualstack")
        assert eni["PrivateIpAddress"]


@pytest.mark.parametrize(("record_type", "allowed"), [
    ("ipv6", True), ("ipv4", False), ("dualstack", False), ("service-defined", False)])
def test_ipv6_endpoints_on_ipv6_only_subnets(open_provider, open_consumer, record_type, allowed):
    subnets = ipv6_only_subnets(open_consumer, open_provider.service["AvailabilityZoneIds"])

    def create() -> dict:
        return open_consumer.create_endpoint(open_provider.service_name, subnets,
                                             IpAddressType="ipv6",
                                             DnsOptions={"DnsRecordIpType": record_type})

    if not allowed:
        with aws_error("InvalidParameter"):
            create()
        return
    endpoint = create()
    assert (endpoint["IpAddressType"], endpoint["DnsOptions"]["DnsRecordIpType"]) == (
        "ipv6", "ipv6")
    for eni in enis(open_consumer, endpoint):
        assert "PrivateIpAddress" not in eni and eni["Ipv6Addresses"]


def test_ipv6_needs_ipv6_only_subnets(open_provider, open_consumer):
    with aws_error("InvalidParameter"):
        open_consumer.create_endpoint(open_provider.service_name, IpAddressType="ipv6")


def test_an_ipv4_service_refuses_ipv6_and_dualstack(provider, consumer):
    for ip_type in ("dualstack", "ipv6"):
        with aws_error("InvalidParameter"):
            consumer.create_endpoint(provider.service_name, IpAddressType=ip_type)


def test_the_default_ip_address_type_is_ipv4(open_provider, open_consumer):
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    assert (endpoint["IpAddressType"], endpoint["DnsOptions"]["DnsRecordIpType"]) == (
        "ipv4", "ipv4")


def test_seed_dual_stack_modification(provider, consumer):
    """Seed 000 section 2: the provider adds IPv6, the consumer makes its endpoint dualstack;
    the endpoint goes back to pending, then available, and keeps its ENIs and IPv4s."""
    endpoint = consumer.create_endpoint(provider.service_name)
    endpoint_id = endpoint["VpcEndpointId"]
    provider.accept(endpoint_id)
    consumer.wait_state(endpoint_id, "available")
    before = {e["NetworkInterfaceId"]: e["PrivateIpAddress"] for e in enis(consumer, endpoint)}
    with aws_error("InvalidParameter"):
        consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, IpAddressType="dualstack",
                                         DnsOptions={"DnsRecordIpType": "dualstack"})
    provider.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=provider.service_id, AddSupportedIpAddressTypes=["ipv6"])
    assert consumer.ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint_id, IpAddressType="dualstack",
        DnsOptions={"DnsRecordIpType": "dualstack"})["Return"] is True
    assert consumer.state(endpoint_id) in ("pending", "available")
    found = consumer.wait_state(endpoint_id, "available")
    assert (found["IpAddressType"], found["DnsOptions"]["DnsRecordIpType"]) == (
        "dualstack", "dualstack")
    after = enis(consumer, found)
    assert {e["NetworkInterfaceId"]: e["PrivateIpAddress"] for e in after} == before
    assert all(e["Ipv6Addresses"] for e in after)
    consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, IpAddressType="ipv4")
    found = consumer.wait_state(endpoint_id, "available")
    assert (found["IpAddressType"], found["DnsOptions"]["DnsRecordIpType"]) == ("ipv4", "ipv4")
    assert all(e["Ipv6Addresses"] == [] for e in enis(consumer, found))


# Modify and delete

def test_add_and_remove_subnets(open_provider, open_consumer):
    first, second = open_consumer.subnet_ids
    endpoint = open_consumer.create_endpoint(open_provider.service_name, [first])
    endpoint_id = endpoint["VpcEndpointId"]
    open_consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddSubnetIds=[second])
    found = open_consumer.describe(endpoint_id)
    assert sorted(found["SubnetIds"]) == sorted([first, second])
    assert sorted(e["SubnetId"] for e in enis(open_consumer, found)) == sorted([first, second])
    assert len(found["DnsEntries"]) == 3
    open_consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, RemoveSubnetIds=[first])
    found = open_consumer.wait_state(endpoint_id, "available")
    assert found["SubnetIds"] == [second]
    assert [e["SubnetId"] for e in enis_of(open_consumer, endpoint_id)] == [second]
    assert len(found["DnsEntries"]) == 2


def test_add_and_remove_security_groups(open_provider, open_consumer):
    group = open_consumer.ec2.create_security_group(
        GroupName="endpoint", Description="endpoint", VpcId=open_consumer.vpc_id)["GroupId"]
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    [default] = [g["GroupId"] for g in endpoint["Groups"]]
    open_consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                                          AddSecurityGroupIds=[group],
                                          RemoveSecurityGroupIds=[default])
    found = open_consumer.describe(endpoint["VpcEndpointId"])
    assert found["Groups"] == [{"GroupId": group, "GroupName": "endpoint"}]
    for eni in enis(open_consumer, found):
        assert [g["GroupId"] for g in eni["Groups"]] == [group]
    with aws_error("InvalidParameter"):
        open_consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                                              RemoveSecurityGroupIds=[group])


def test_delete_then_deleted_and_the_enis_go(open_provider, open_consumer):
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    endpoint_id = endpoint["VpcEndpointId"]
    open_consumer.wait_state(endpoint_id, "available")
    missing = "vpce-0123456789abcdef0"
    answer = open_consumer.ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id, missing])
    [failure] = answer["Unsuccessful"]
    assert (failure["ResourceId"], failure["Error"]["Code"]) == (
        missing, "InvalidVpcEndpointId.NotFound")
    assert open_consumer.state(endpoint_id) in ("deleting", "deleted")
    open_consumer.wait_state(endpoint_id, "deleted")
    assert enis_of(open_consumer, endpoint_id) == []
    with aws_error("IncorrectState"):
        open_consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddSubnetIds=[])


def test_unknown_and_malformed_endpoint_ids(open_consumer):
    with aws_error("InvalidVpcEndpointId.NotFound",
                   "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist"):
        open_consumer.ec2.describe_vpc_endpoints(VpcEndpointIds=["vpce-0123456789abcdef0"])
    with aws_error("InvalidVpcEndpointId.Malformed"):
        open_consumer.ec2.describe_vpc_endpoints(VpcEndpointIds=["endpoint-1"])


def test_another_accounts_endpoint_is_not_found(open_provider, open_consumer, client):
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    with aws_error("InvalidVpcEndpointId.NotFound"):
        client("ec2", new_account()).describe_vpc_endpoints(
            VpcEndpointIds=[endpoint["VpcEndpointId"]])


def test_filters_tags_and_client_token(open_provider, open_consumer):
    endpoint = open_consumer.create_endpoint(
        open_provider.service_name, ClientToken="token-1",
        TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": "x"}]}])
    again = open_consumer.create_endpoint(open_provider.service_name, ClientToken="token-1")
    assert again["VpcEndpointId"] == endpoint["VpcEndpointId"]
    assert endpoint["Tags"] == [{"Key": "Name", "Value": "x"}]
    for name, value in (("vpc-id", open_consumer.vpc_id),
                        ("service-name", open_provider.service_name),
                        ("vpc-endpoint-type", "Interface"), ("tag:Name", "x")):
        found = open_consumer.ec2.describe_vpc_endpoints(Filters=[
            {"Name": name, "Values": [value]}])["VpcEndpoints"]
        assert [e["VpcEndpointId"] for e in found] == [endpoint["VpcEndpointId"]], name


# Types and quotas

@pytest.mark.parametrize("kind", ["GatewayLoadBalancer", "Resource", "ServiceNetwork"])
def test_unsupported_endpoint_types(open_provider, open_consumer, kind):
    with aws_error("InvalidParameter"):
        open_consumer.ec2.create_vpc_endpoint(VpcId=open_consumer.vpc_id, VpcEndpointType=kind,
                                              ServiceName=open_provider.service_name)


def test_without_a_type_an_endpoint_is_a_gateway(open_provider, open_consumer):
    with aws_error("InvalidVpcEndpointType"):
        open_consumer.ec2.create_vpc_endpoint(VpcId=open_consumer.vpc_id,
                                              ServiceName=open_provider.service_name)
    endpoint = open_consumer.ec2.create_vpc_endpoint(
        VpcId=open_consumer.vpc_id, ServiceName=f"com.amazonaws.{REGION}.s3")["VpcEndpoint"]
    assert (endpoint["VpcEndpointType"], endpoint["State"]) == ("Gateway", "available")


def test_fifty_interface_endpoints_per_vpc(make_consumer):
    consumer = make_consumer(["use1-az1"], dns_hostnames=False)
    ssm = f"com.amazonaws.{REGION}.ssm"
    for _ in range(50):
        consumer.create_endpoint(ssm, subnet_ids=[])
    with aws_error("VpcEndpointLimitExceeded"):
        consumer.create_endpoint(ssm, subnet_ids=[])
    other = make_consumer(["use1-az1"], account=consumer.account, dns_hostnames=False,
                          cidr="10.2.0.0/16")
    other.create_endpoint(ssm, subnet_ids=[])  # the quota is per VPC
    consumer.ec2.delete_vpc_endpoints(VpcEndpointIds=consumer.endpoints[:1])
    consumer.wait_state(consumer.endpoints[0], "deleted")
    consumer.create_endpoint(ssm, subnet_ids=[])


def test_a_policy_is_not_for_custom_services(open_provider, open_consumer):
    with aws_error("InvalidParameter"):
        open_consumer.create_endpoint(open_provider.service_name, PolicyDocument=(
            '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'))
    endpoint = open_consumer.create_endpoint(open_provider.service_name)
    assert "PolicyDocument" not in endpoint


# Endpoints to AWS services (seeds 002 and 003)

AWS_PRIVATE_NAMES = {
    "ec2": ["ec2.{r}.amazonaws.com"],
    "ecr.api": ["api.ecr.{r}.amazonaws.com"],
    "ecr.dkr": ["dkr.ecr.{r}.amazonaws.com", "*.dkr.ecr.{r}.amazonaws.com"],
    "logs": ["logs.{r}.amazonaws.com"],
    "ssm": ["ssm.{r}.amazonaws.com"],
}


@pytest.mark.parametrize("short", sorted(AWS_PRIVATE_NAMES))
def test_endpoints_to_aws_services(make_consumer, short):
    consumer = make_consumer(["use1-az1", "use1-az2", "use1-az3"])
    name = f"com.amazonaws.{REGION}.{short}"
    endpoint = consumer.create_endpoint(name)
    endpoint_id = endpoint["VpcEndpointId"]
    assert (endpoint["State"], endpoint["PrivateDnsEnabled"]) == ("pending", True)
    found = consumer.wait_state(endpoint_id, "available")
    dns_form = ".".join(reversed(short.split(".")))
    regional, *zonal = [e["DnsName"] for e in found["DnsEntries"][:4]]
    assert re.fullmatch(rf"{endpoint_id}-{LABEL}\.{re.escape(dns_form)}\.{REGION}"
                        rf"\.vpce\.amazonaws\.com", regional)
    assert len(zonal) == 3
    private = [e["DnsName"] for e in found["DnsEntries"][4:]]
    assert private == [n.format(r=REGION) for n in AWS_PRIVATE_NAMES[short]]
    assert found["PolicyDocument"]  # AWS services take a policy


def test_aws_services_without_dns_hostnames_have_private_dns_off(make_consumer):
    consumer = make_consumer(["use1-az1"], dns_hostnames=False)
    endpoint = consumer.create_endpoint(f"com.amazonaws.{REGION}.logs")
    assert endpoint["PrivateDnsEnabled"] is False
    assert len(endpoint["DnsEntries"]) == 2


def test_aws_service_is_described_to_everyone(client):
    ec2 = client("ec2", new_account())
    [detail] = ec2.describe_vpc_endpoint_services(
        ServiceNames=[f"com.amazonaws.{REGION}.ecr.dkr"])["ServiceDetails"]
    assert (detail["Owner"], detail["ServiceType"], detail["AcceptanceRequired"],
            detail["VpcEndpointPolicySupported"]) == (
        "amazon", [{"ServiceType": "Interface"}], False, True)
    assert detail["BaseEndpointDnsNames"] == [f"dkr.ecr.{REGION}.vpce.amazonaws.com"]
    assert detail["PrivateDnsName"] == f"dkr.ecr.{REGION}.amazonaws.com"
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert detail["AvailabilityZones"] == sorted(z["ZoneName"] for z in zones)  # every zone


def test_every_regional_aws_service_is_listed_and_takes_an_endpoint(client, make_consumer):
    """AWS lists hundreds of services (issue 13); botocore's regional ones stand for them,
    each under its endpoint prefix read backwards (``runtime.sagemaker`` ->
    ``sagemaker.runtime``), its regional hostname its private DNS name. Global services
    (IAM, Route 53) have no endpoint at AWS, and none here."""
    ec2 = client("ec2", new_account())
    details = ec2.describe_vpc_endpoint_services()["ServiceDetails"]
    names = {d["ServiceName"] for d in details}
    assert len(names) > 250
    prefix = f"com.amazonaws.{REGION}."
    assert {prefix + s for s in ("athena", "sagemaker.runtime", "lambda", "ecr.dkr",
                                 "ssmmessages")} <= names
    assert not {prefix + s for s in ("iam", "route53", "cloudfront")} & names
    types = sorted(d["ServiceType"][0]["ServiceType"] for d in details
                   if d["ServiceName"] == prefix + "s3")
    assert types == ["Gateway", "Interface"]
    [athena] = [d for d in details if d["ServiceName"] == prefix + "athena"]
    assert (athena["Owner"], athena["BaseEndpointDnsNames"], athena["PrivateDnsName"]) == (
        "amazon", [f"athena.{REGION}.vpce.amazonaws.com"], f"athena.{REGION}.amazonaws.com")
    consumer = make_consumer(["use1-az1"])
    endpoint = consumer.create_endpoint(prefix + "sagemaker.runtime")
    found = consumer.wait_state(endpoint["VpcEndpointId"], "available")
    assert [e["DnsName"] for e in found["DnsEntries"]][-1] == \
        f"runtime.sagemaker.{REGION}.amazonaws.com"
    with aws_error("InvalidServiceName"):
        consumer.create_endpoint(prefix + "iam")
