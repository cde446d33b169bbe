"""Private DNS names: the provider proves the domain with a TXT record in Route 53 (seed 000,
section 3), the consumer turns PrivateDnsEnabled on, and AWS's refusals when it cannot."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.privatelink.conftest import aws_error, dig, new_account, publish_txt


@pytest.fixture
def route53(client, provider):
    return client("route53", provider.account)


@pytest.fixture
def zone(route53) -> dict:
    """A public hosted zone for a domain of this test's own (the public DNS is shared)."""
    return route53.create_hosted_zone(Name=f"t{secrets.token_hex(4)}.example.com",
                                      CallerReference=secrets.token_hex(8))["HostedZone"]


@pytest.fixture
def private_name(zone) -> str:
    return "demoprivatelink." + zone["Name"].rstrip(".")


@pytest.fixture
def verified(provider, route53, zone, private_name) -> str:
    """The provider's service with ``private_name`` verified; gives the name."""
    assert provider.verify(route53, zone, private_name) == "verified"
    return private_name


def test_seed_verification_through_route53(daemon, provider, route53, zone, private_name):
    provider.ec2.modify_vpc_endpoint_service_configuration(ServiceId=provider.service_id,
                                                           PrivateDnsName=private_name)
    config = provider.describe_service()["PrivateDnsNameConfiguration"]
    assert (config["State"], config["Type"]) == ("pendingVerification", "TXT")
    record = f"{config['Name']}.{private_name}"
    info = publish_txt(route53, zone, record, config["Value"])
    assert route53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    assert dig(daemon, "TXT", record, "+short").strip() == f'"{config["Value"]}"'
    assert provider.private_dns_state() == "pendingVerification"  # nobody asked yet
    assert provider.start_verification() == "verified"
    found = provider.describe_service()
    assert found["PrivateDnsName"] == private_name
    assert found["PrivateDnsNameConfiguration"] == {**config, "State": "verified"}


def test_verification_fails_without_the_record_then_succeeds(provider, route53, zone,
                                                             private_name):
    provider.ec2.modify_vpc_endpoint_service_configuration(ServiceId=provider.service_id,
                                                           PrivateDnsName=private_name)
    assert provider.start_verification() == "failed"
    config = provider.describe_service()["PrivateDnsNameConfiguration"]
    publish_txt(route53, zone, f"{config['Name']}.{private_name}", config["Value"])
    assert provider.start_verification() == "verified"


def test_verification_fails_with_a_wrong_value(provider, route53, zone, private_name):
    assert provider.verify(route53, zone, private_name, value="vpce:not-the-token") == "failed"


def test_verification_fails_with_the_record_at_another_name(provider, route53, zone,
                                                            private_name):
    provider.ec2.modify_vpc_endpoint_service_configuration(ServiceId=provider.service_id,
                                                           PrivateDnsName=private_name)
    config = provider.describe_service()["PrivateDnsNameConfiguration"]
    publish_txt(route53, zone, f"{config['Name']}.{zone['Name']}", config["Value"])
    assert provider.start_verification() == "failed"


def test_verification_needs_a_private_dns_name(provider):
    with aws_error("InvalidParameter"):
        provider.ec2.start_vpc_endpoint_service_private_dns_verification(
            ServiceId=provider.service_id)


def test_a_new_name_needs_a_new_verification(provider, verified, zone):
    before = provider.describe_service()["PrivateDnsNameConfiguration"]
    provider.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=provider.service_id, PrivateDnsName="other." + zone["Name"].rstrip("."))
    after = provider.describe_service()["PrivateDnsNameConfiguration"]
    assert after["State"] == "pendingVerification"
    assert (after["Name"], after["Value"]) != (before["Name"], before["Value"])


def test_consumers_see_the_verified_name(provider, consumer, verified):
    [detail] = consumer.ec2.describe_vpc_endpoint_services(
        ServiceNames=[provider.service_name])["ServiceDetails"]
    assert (detail["PrivateDnsName"], detail["PrivateDnsNameVerificationState"]) == (
        verified, "verified")
    assert detail["PrivateDnsNames"] == [{"PrivateDnsName": verified}]


def test_private_dns_on_adds_the_name_to_dns_entries(provider, consumer, verified):
    endpoint = consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)
    assert endpoint["PrivateDnsEnabled"] is True
    *vpce, private = endpoint["DnsEntries"]
    assert private["DnsName"] == verified
    assert re.fullmatch(r"Z[A-Z0-9]+", private["HostedZoneId"])
    assert private["HostedZoneId"] != "Z7HUB22UULQXV"
    assert len(vpce) == 3 and all(e["DnsName"].endswith(".vpce.amazonaws.com") for e in vpce)


def test_seed_consumer_turns_private_dns_on_later(provider, consumer, verified):
    endpoint_id = consumer.create_endpoint(provider.service_name,
                                           PrivateDnsEnabled=False)["VpcEndpointId"]
    provider.accept(endpoint_id)
    consumer.wait_state(endpoint_id, "available")
    consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=True)
    assert consumer.state(endpoint_id) in ("pending", "available")
    found = consumer.wait_state(endpoint_id, "available")
    assert found["PrivateDnsEnabled"] is True
    assert found["DnsEntries"][-1]["DnsName"] == verified


def test_the_private_name_is_not_on_the_public_dns(daemon, provider, consumer, verified):
    """The seed's laptop: outside the consumer VPC the private name does not resolve."""
    consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)
    assert dig(daemon, "A", verified, "+short").strip() == ""
    assert dig(daemon, "AAAA", verified, "+short").strip() == ""
    # only the TXT record below it exists there: an empty non-terminal, no data
    assert "ANSWER: 0," in dig(daemon, "A", verified)


def test_private_dns_needs_the_vpc_attributes(provider, make_consumer, verified):
    consumer = make_consumer(provider, dns_hostnames=False)
    provider.allow(consumer.account)
    message = ("Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC "
               f"attributes set to true for {consumer.vpc_id}")
    with aws_error("InvalidParameter", message):
        consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)
    endpoint = consumer.create_endpoint(provider.service_name)
    assert endpoint["PrivateDnsEnabled"] is False
    with aws_error("InvalidParameter", message):
        consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                                         PrivateDnsEnabled=True)
    consumer.ec2.modify_vpc_attribute(VpcId=consumer.vpc_id, EnableDnsHostnames={"Value": True})
    consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                                     PrivateDnsEnabled=True)
    assert consumer.describe(endpoint["VpcEndpointId"])["PrivateDnsEnabled"] is True


def test_private_dns_needs_a_private_name(provider, consumer):
    message = (f"Private DNS can't be enabled because the service {provider.service_name} does "
               "not provide a private DNS name.")
    with aws_error("InvalidParameter", message):
        consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)


def test_private_dns_needs_a_verified_name(provider, consumer, route53, zone, private_name):
    provider.ec2.modify_vpc_endpoint_service_configuration(ServiceId=provider.service_id,
                                                           PrivateDnsName=private_name)
    with aws_error("InvalidParameter"):
        consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)
    assert provider.verify(route53, zone, private_name, value="vpce:wrong") == "failed"
    with aws_error("InvalidParameter"):
        consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)
    endpoint = consumer.create_endpoint(provider.service_name)
    assert endpoint["PrivateDnsEnabled"] is False


def test_one_endpoint_per_private_domain_in_a_vpc(provider, consumer, verified, make_consumer):
    first = consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)
    message = ("private-dns-enabled cannot be set because there is already a conflicting DNS "
               f"domain for {verified} in the VPC {consumer.vpc_id}")
    with aws_error("InvalidParameter", message):
        consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=True)
    second = consumer.create_endpoint(provider.service_name, PrivateDnsEnabled=False)
    with aws_error("InvalidParameter", message):
        consumer.ec2.modify_vpc_endpoint(VpcEndpointId=second["VpcEndpointId"],
                                         PrivateDnsEnabled=True)
    elsewhere = make_consumer(provider, account=consumer.account, cidr="10.2.0.0/16")
    assert elsewhere.create_endpoint(provider.service_name,
                                     PrivateDnsEnabled=True)["PrivateDnsEnabled"] is True
    consumer.ec2.delete_vpc_endpoints(VpcEndpointIds=[first["VpcEndpointId"]])
    consumer.wait_state(first["VpcEndpointId"], "deleted")
    consumer.ec2.modify_vpc_endpoint(VpcEndpointId=second["VpcEndpointId"], PrivateDnsEnabled=True)
    assert consumer.describe(second["VpcEndpointId"])["PrivateDnsEnabled"] is True


def test_an_aws_service_and_its_private_name_conflict_too(make_consumer):
    consumer = make_consumer(["use1-az1"])
    consumer.create_endpoint("com.amazonaws.us-east-1.ssm")
    with aws_error("InvalidParameter"):
        consumer.create_endpoint("com.amazonaws.us-east-1.ssm", PrivateDnsEnabled=True)
    assert consumer.create_endpoint("com.amazonaws.us-east-1.ssm",
                                    PrivateDnsEnabled=False)["PrivateDnsEnabled"] is False


def test_a_squatters_zone_does_not_verify_another_accounts_domain(client, provider, route53):
    """Issue 14: a second zone of a name is not the delegated one, so a TXT record in it
    proves nothing; the domain's owner's zone (the oldest) is the one asked."""
    domain = f"t{secrets.token_hex(4)}.example.com"
    owner = client("route53", new_account())
    owner.create_hosted_zone(Name=domain, CallerReference="owner")
    squatted = route53.create_hosted_zone(Name=domain, CallerReference="squatter")["HostedZone"]
    assert provider.verify(route53, squatted, f"api.{domain}") == "failed"
