"""The provider's side: endpoint service configurations, permissions, connections."""

from __future__ import annotations

import re

import pytest

from tests.privatelink.conftest import HEX17, REGION, aws_error, new_account

SERVICE_NAME = rf"com\.amazonaws\.vpce\.{REGION}\.vpce-svc-{HEX17}"
MISSING = f"com.amazonaws.vpce.{REGION}.vpce-svc-0123456789abcdef0"


def test_a_new_service(provider):
    service = provider.service
    assert re.fullmatch(rf"vpce-svc-{HEX17}", service["ServiceId"])
    assert re.fullmatch(SERVICE_NAME, service["ServiceName"])
    assert service["ServiceName"].endswith(service["ServiceId"])
    assert service["BaseEndpointDnsNames"] == [
        f"{service['ServiceId']}.{REGION}.vpce.amazonaws.com"]
    assert (service["ServiceState"], service["AcceptanceRequired"],
            service["SupportedIpAddressTypes"], service["ServiceType"]) == (
        "Available", True, ["ipv4"], [{"ServiceType": "Interface"}])
    assert service["NetworkLoadBalancerArns"] == [provider.balancer_arn]
    assert service["AvailabilityZoneIds"] == sorted(s["AvailabilityZoneId"]
                                                    for s in provider.subnets)
    assert service["AvailabilityZones"] == sorted(s["AvailabilityZone"]
                                                  for s in provider.subnets)
    assert "PrivateDnsName" not in service
    assert provider.describe_service()["ServiceName"] == service["ServiceName"]


def test_acceptance_can_be_off_and_tags_given(make_provider):
    provider = make_provider(AcceptanceRequired=False, TagSpecifications=[
        {"ResourceType": "vpc-endpoint-service", "Tags": [{"Key": "Name", "Value": "api"}]}])
    found = provider.describe_service()
    assert found["AcceptanceRequired"] is False
    assert found["Tags"] == [{"Key": "Name", "Value": "api"}]


def test_ipv6_needs_a_dualstack_balancer(make_provider):
    provider = make_provider(dualstack=False, service=False)
    with aws_error("InvalidParameter"):
        provider.create_service(SupportedIpAddressTypes=["ipv4", "ipv6"])
    provider.create_service()
    with aws_error("InvalidParameter"):
        provider.ec2.modify_vpc_endpoint_service_configuration(
            ServiceId=provider.service_id, AddSupportedIpAddressTypes=["ipv6"])
    provider.elbv2.set_ip_address_type(LoadBalancerArn=provider.balancer_arn,
                                       IpAddressType="dualstack")
    provider.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=provider.service_id, AddSupportedIpAddressTypes=["ipv6"])
    assert provider.describe_service()["SupportedIpAddressTypes"] == ["ipv4", "ipv6"]


def test_a_balancer_belongs_to_one_service(provider):
    with aws_error("InvalidParameter"):
        provider.ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[provider.balancer_arn])


def test_a_service_needs_a_balancer_of_its_own_account(provider, make_provider):
    other = make_provider(service=False)
    with aws_error("InvalidParameter"):
        provider.ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[other.balancer_arn])


def test_modify_ip_address_types_and_acceptance(provider):
    modify = provider.ec2.modify_vpc_endpoint_service_configuration
    assert modify(ServiceId=provider.service_id, AddSupportedIpAddressTypes=["ipv6"],
                  AcceptanceRequired=False)["Return"] is True
    found = provider.describe_service()
    assert (found["SupportedIpAddressTypes"], found["AcceptanceRequired"]) == (
        ["ipv4", "ipv6"], False)
    modify(ServiceId=provider.service_id, RemoveSupportedIpAddressTypes=["ipv4"])
    assert provider.describe_service()["SupportedIpAddressTypes"] == ["ipv6"]
    with aws_error("InvalidParameter"):
        modify(ServiceId=provider.service_id, RemoveSupportedIpAddressTypes=["ipv6"])
    with aws_error("InvalidParameter"):
        modify(ServiceId=provider.service_id, AddSupportedIpAddressTypes=["ipv5"])


def test_a_private_dns_name_waits_for_verification(provider):
    provider.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=provider.service_id, PrivateDnsName="DemoPrivateLink.Example.com")
    found = provider.describe_service()
    assert found["PrivateDnsName"] == "demoprivatelink.example.com"
    config = found["PrivateDnsNameConfiguration"]
    assert (config["State"], config["Type"]) == ("pendingVerification", "TXT")
    assert re.fullmatch(r"_[a-z0-9]{20}", config["Name"])
    assert re.fullmatch(r"vpce:[A-Za-z0-9]+", config["Value"])
    provider.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=provider.service_id, RemovePrivateDnsName=True)
    found = provider.describe_service()
    assert "PrivateDnsName" not in found and "PrivateDnsNameConfiguration" not in found


def test_a_private_dns_name_given_at_creation(make_provider):
    provider = make_provider(PrivateDnsName="api.example.com")
    found = provider.describe_service()
    assert found["PrivateDnsName"] == "api.example.com"
    assert found["PrivateDnsNameConfiguration"]["State"] == "pendingVerification"


@pytest.mark.parametrize("name", ["not a name", "api.us-east-1.amazonaws.com", "-x.example.com"])
def test_bad_private_dns_names_are_refused(provider, name):
    with aws_error("InvalidParameter"):
        provider.ec2.modify_vpc_endpoint_service_configuration(
            ServiceId=provider.service_id, PrivateDnsName=name)


def test_unknown_and_malformed_service_ids(provider):
    with aws_error("InvalidVpcEndpointServiceId.NotFound"):
        provider.ec2.describe_vpc_endpoint_service_configurations(
            ServiceIds=["vpce-svc-0123456789abcdef0"])
    with aws_error("InvalidVpcEndpointServiceId.Malformed"):
        provider.ec2.modify_vpc_endpoint_service_configuration(ServiceId="svc-1",
                                                               AcceptanceRequired=False)


def test_a_service_with_connections_cannot_be_deleted(provider, consumer):
    endpoint = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    expected = [{"ResourceId": provider.service_id, "Error": {
        "Code": "ExistingVpcEndpointConnections",
        "Message": "Service has existing active VPC Endpoint connections!"}}]

    def delete() -> list[dict]:
        return provider.ec2.delete_vpc_endpoint_service_configurations(
            ServiceIds=[provider.service_id])["Unsuccessful"]

    assert delete() == expected  # pendingAcceptance
    provider.accept(endpoint)
    consumer.wait_state(endpoint, "available")
    assert delete() == expected  # available
    consumer.ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    consumer.wait_state(endpoint, "deleted")
    assert delete() == []
    assert provider.ec2.describe_vpc_endpoint_service_configurations()[
        "ServiceConfigurations"] == []


def test_balancers_can_be_added_and_removed(provider):
    second = provider.new_balancer()["LoadBalancerArn"]
    modify = provider.ec2.modify_vpc_endpoint_service_configuration
    modify(ServiceId=provider.service_id, AddNetworkLoadBalancerArns=[second])
    assert provider.describe_service()["NetworkLoadBalancerArns"] == [provider.balancer_arn, second]
    modify(ServiceId=provider.service_id, RemoveNetworkLoadBalancerArns=[provider.balancer_arn])
    assert provider.describe_service()["NetworkLoadBalancerArns"] == [second]
    with aws_error("InvalidParameter"):
        modify(ServiceId=provider.service_id, RemoveNetworkLoadBalancerArns=[second])


def test_a_balancer_with_connections_stays(provider, consumer):
    consumer.create_endpoint(provider.service_name)
    second = provider.new_balancer()["LoadBalancerArn"]
    with aws_error("ExistingVpcEndpointConnections"):
        provider.ec2.modify_vpc_endpoint_service_configuration(
            ServiceId=provider.service_id, AddNetworkLoadBalancerArns=[second],
            RemoveNetworkLoadBalancerArns=[provider.balancer_arn])
    assert provider.describe_service()["NetworkLoadBalancerArns"] == [provider.balancer_arn]


def test_deleting_unknown_services_is_unsuccessful(provider):
    [failure] = provider.ec2.delete_vpc_endpoint_service_configurations(
        ServiceIds=["vpce-svc-0123456789abcdef0"])["Unsuccessful"]
    assert failure["ResourceId"] == "vpce-svc-0123456789abcdef0"
    assert failure["Error"]["Code"] == "InvalidVpcEndpointServiceId.NotFound"


def test_permissions_of_each_principal_type(provider):
    account = new_account()
    principals = {f"arn:aws:iam::{account}:root": "Account",
                  f"arn:aws:iam::{account}:role/app": "Role",
                  f"arn:aws:iam::{account}:user/alice": "User", "*": "All"}
    added = provider.ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=provider.service_id, AddAllowedPrincipals=list(principals))
    assert added["ReturnValue"] is True
    assert {a["Principal"]: a["PrincipalType"] for a in added["AddedPrincipals"]} == principals
    for entry in added["AddedPrincipals"]:
        assert entry["ServiceId"] == provider.service_id
        assert re.fullmatch(rf"vpce-svc-perm-{HEX17}", entry["ServicePermissionId"])
    described = provider.ec2.describe_vpc_endpoint_service_permissions(
        ServiceId=provider.service_id)["AllowedPrincipals"]
    assert {a["Principal"]: a["PrincipalType"] for a in described} == principals
    provider.ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=provider.service_id, RemoveAllowedPrincipals=["*", f"arn:aws:iam::{account}:root"])
    described = provider.ec2.describe_vpc_endpoint_service_permissions(
        ServiceId=provider.service_id)["AllowedPrincipals"]
    assert sorted(a["PrincipalType"] for a in described) == ["Role", "User"]


def test_bad_principals_are_refused(provider):
    with aws_error("InvalidParameter"):
        provider.ec2.modify_vpc_endpoint_service_permissions(
            ServiceId=provider.service_id, AddAllowedPrincipals=["222222222222"])
    assert provider.ec2.describe_vpc_endpoint_service_permissions(
        ServiceId=provider.service_id)["AllowedPrincipals"] == []


def visible(ec2) -> list[str]:
    return ec2.describe_vpc_endpoint_services()["ServiceNames"]


def test_others_see_aws_services_and_allowed_services_only(provider, client):
    account = new_account()
    stranger = client("ec2", account)
    names = visible(stranger)
    assert f"com.amazonaws.{REGION}.s3" in names and f"com.amazonaws.{REGION}.ssm" in names
    assert provider.service_name not in names
    assert provider.service_name in visible(provider.ec2)  # its owner always sees it
    provider.allow(account)
    assert provider.service_name in visible(stranger)
    assert provider.service_name not in visible(client("ec2", new_account()))


def test_everyone_sees_a_service_open_to_all(provider, client):
    provider.allow("*")
    assert provider.service_name in visible(client("ec2", new_account()))


def test_a_hidden_service_is_as_missing_as_one_that_does_not_exist(provider, make_consumer):
    stranger = make_consumer(provider)
    for name in (provider.service_name, MISSING):
        message = f"The Vpc Endpoint Service '{name}' does not exist"
        with aws_error("InvalidServiceName", message):
            stranger.ec2.describe_vpc_endpoint_services(ServiceNames=[name])
        with aws_error("InvalidServiceName", message):
            stranger.create_endpoint(name)
    provider.allow(stranger.account)
    [detail] = stranger.ec2.describe_vpc_endpoint_services(
        ServiceNames=[provider.service_name])["ServiceDetails"]
    assert (detail["Owner"], detail["ServiceId"], detail["AcceptanceRequired"],
            detail["VpcEndpointPolicySupported"]) == (provider.account, provider.service_id,
                                                      True, False)
    assert detail["AvailabilityZoneIds"] == provider.service["AvailabilityZoneIds"]
    assert sorted(s["AvailabilityZone"] for s in stranger.subnets) == detail["AvailabilityZones"]
    assert detail["BaseEndpointDnsNames"] == provider.service["BaseEndpointDnsNames"]


def test_connections_as_the_provider_sees_them(provider, consumer):
    endpoint = consumer.create_endpoint(provider.service_name)
    [connection] = provider.connections()
    assert (connection["ServiceId"], connection["VpcEndpointId"], connection["VpcEndpointOwner"],
            connection["VpcEndpointState"]) == (provider.service_id, endpoint["VpcEndpointId"],
                                                consumer.account, "pendingAcceptance")
    assert connection["DnsEntries"] == endpoint["DnsEntries"]
    assert connection["NetworkLoadBalancerArns"] == [provider.balancer_arn]
    assert connection["IpAddressType"] == "ipv4"
    found = provider.connections(Filters=[
        {"Name": "vpc-endpoint-state", "Values": ["available"]}])
    assert found == []
    found = provider.connections(Filters=[
        {"Name": "vpc-endpoint-owner", "Values": [consumer.account]}])
    assert [c["VpcEndpointId"] for c in found] == [endpoint["VpcEndpointId"]]


def test_accept_then_available(provider, consumer):
    endpoint = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    assert provider.accept(endpoint) == []
    consumer.wait_state(endpoint, "available")
    [connection] = provider.connections()
    assert connection["VpcEndpointState"] == "available"


def test_only_the_consumer_deletes_its_endpoint(provider, consumer):
    endpoint = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    [failure] = provider.ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])["Unsuccessful"]
    assert failure["Error"]["Code"] == "InvalidVpcEndpointId.NotFound"
    assert consumer.state(endpoint) == "pendingAcceptance"
    assert provider.reject(endpoint) == []
    [connection] = provider.connections()
    assert connection["VpcEndpointState"] == "rejected"


def test_accept_and_reject_unknown_endpoints(provider, consumer):
    endpoint = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    missing = "vpce-0123456789abcdef0"
    for decide in (provider.accept, provider.reject):
        [failure] = decide(missing)
        assert failure["ResourceId"] == missing
        assert failure["Error"]["Code"] == "InvalidVpcEndpointId.NotFound"
    assert consumer.state(endpoint) == "pendingAcceptance"


def test_an_endpoint_of_another_service_cannot_be_accepted(provider, consumer, make_provider):
    other = make_provider()
    other.allow(consumer.account)
    endpoint = consumer.create_endpoint(other.service_name)["VpcEndpointId"]
    [failure] = provider.accept(endpoint)
    assert failure["Error"]["Code"] == "InvalidVpcEndpointId.NotFound"
    assert consumer.state(endpoint) == "pendingAcceptance"


def test_reject_a_pending_and_an_available_endpoint(provider, consumer):
    waiting = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    assert provider.reject(waiting) == []
    assert consumer.state(waiting) == "rejected"
    [failure] = provider.accept(waiting)
    assert failure["ResourceId"] == waiting
    accepted = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    provider.accept(accepted)
    consumer.wait_state(accepted, "available")
    assert provider.reject(accepted) == []
    assert consumer.state(accepted) == "rejected"
    consumer.ec2.delete_vpc_endpoints(VpcEndpointIds=[waiting, accepted])
    consumer.wait_state(accepted, "deleted")


def test_removing_a_permission_keeps_existing_connections(provider, consumer):
    endpoint = consumer.create_endpoint(provider.service_name)["VpcEndpointId"]
    provider.accept(endpoint)
    consumer.wait_state(endpoint, "available")
    provider.ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=provider.service_id,
        RemoveAllowedPrincipals=[f"arn:aws:iam::{consumer.account}:root"])
    assert consumer.state(endpoint) == "available"
    assert [c["VpcEndpointState"] for c in provider.connections()] == ["available"]
    with aws_error("InvalidServiceName"):
        consumer.create_endpoint(provider.service_name)
    group = consumer.ec2.create_security_group(GroupName="endpoint", Description="endpoint",
                                               VpcId=consumer.vpc_id)["GroupId"]
    consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, AddSecurityGroupIds=[group])
    assert group in [g["GroupId"] for g in consumer.describe(endpoint)["Groups"]]
