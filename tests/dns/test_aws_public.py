"""The AWS services' public names and their addresses (no root, no daemon): the names come
from botocore's endpoint data, the addresses from the AWS public range, consistent with
the gateway services' prefix lists."""

from __future__ import annotations

import ipaddress

import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from pocketlink.daemon import KINDS
from pocketlink.dns.aws_public import public_names
from pocketlink.dns.public import public_zones
from pocketlink.dns.vpc import vpc_zones
from pocketlink.model.aws_services import (
    AWS_PUBLIC_IPV4,
    AWS_PUBLIC_IPV6,
    AWS_SERVICES,
    gateway_prefix_lists,
)
from pocketlink.model.ec2 import Vpc
from pocketlink.model.regions import REGIONS
from pocketlink.model.route53 import HostedZone, RecordSet
from pocketlink.store import Store

REGION = "us-west-2"
# The names an SDK calls in us-west-2 (botocore's endpoint resolver gives the same).
EXPECTED = {
    "ssm.us-west-2.amazonaws.com", "ssm.us-west-2.api.aws",
    "secretsmanager.us-west-2.amazonaws.com", "logs.us-west-2.amazonaws.com",
    "logs.us-west-2.api.aws", "sts.us-west-2.amazonaws.com", "sts.us-west-2.api.aws",
    "ec2.us-west-2.amazonaws.com", "ec2.us-west-2.api.aws", "kms.us-west-2.amazonaws.com",
    "dynamodb.us-west-2.amazonaws.com", "dynamodb.us-west-2.api.aws",
    "sqs.us-west-2.amazonaws.com", "sns.us-west-2.amazonaws.com",
    "s3.us-west-2.amazonaws.com", "*.s3.us-west-2.amazonaws.com",
    "s3.dualstack.us-west-2.amazonaws.com", "*.s3.dualstack.us-west-2.amazonaws.com",
    "api.ecr.us-west-2.amazonaws.com", "ecr.us-west-2.api.aws",
    "dkr.ecr.us-west-2.amazonaws.com", "*.dkr.ecr.us-west-2.amazonaws.com",
}


def by_name(region: str = REGION) -> dict:
    return {n.name: n for n in public_names(region)}


def test_the_names_an_sdk_calls():
    names = by_name()
    assert set(names) >= EXPECTED
    assert {n.service for n in names.values()} == {s.short for s in AWS_SERVICES}


def test_only_dual_stack_names_have_ipv6():
    for name, found in by_name().items():
        dual = ".api.aws" in name or ".dualstack." in name
        assert (found.ipv6 is not None) == dual, name


def test_a_service_not_in_botocore_has_its_regional_name_only():
    names = [n.name for n in public_names(REGION) if n.service == "ecr.dkr"]
    assert names == ["dkr.ecr.us-west-2.amazonaws.com", "*.dkr.ecr.us-west-2.amazonaws.com"]


@pytest.mark.parametrize("region", REGIONS)
def test_addresses_are_in_the_aws_public_range(region):
    for found in public_names(region):
        assert ipaddress.ip_address(found.ipv4) in AWS_PUBLIC_IPV4
        assert found.ipv6 is None or ipaddress.ip_address(found.ipv6) in AWS_PUBLIC_IPV6


def test_one_address_per_service_and_region():
    seen: dict[str, tuple[str, str]] = {}
    for region in (*REGIONS, "xx-south-7"):
        for found in public_names(region):
            for address in (found.ipv4, found.ipv6):
                if address is not None:
                    assert seen.setdefault(address, (region, found.service)) == (
                        region, found.service), address


def test_gateway_services_resolve_inside_their_prefix_list_and_no_other_does():
    """A gateway endpoint's route (its prefix list) must take exactly its service's
    traffic: S3's names are in S3's list, no other service's name is in any list."""
    lists = {r: {p.name.rsplit(".", 1)[1]: p.cidrs for p in gateway_prefix_lists(r)}
             for r in REGIONS}
    every_cidr = [ipaddress.ip_network(c) for r in lists.values() for cs in r.values()
                  for c in cs]
    for region in REGIONS:
        for found in public_names(region):
            address = ipaddress.ip_address(found.ipv4)
            mine = lists[region].get(found.service, ())
            assert any(address in ipaddress.ip_network(c) for c in mine) == bool(mine)
            if not mine:
                assert not any(address in c for c in every_cidr), found


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "state.db", KINDS)
    yield store
    store.close()


def lookup(store, name: str, rdtype: str):
    return public_zones(store).lookup(dns.name.from_text(name), dns.rdatatype.from_text(rdtype))


def test_the_public_dns_answers_them(store):
    names = by_name()
    assert lookup(store, "ssm.us-west-2.amazonaws.com.", "A").rcode == dns.rcode.REFUSED
    with store.transaction() as tx:  # a region's names are served once a VPC is there
        tx.put(Vpc(id="vpc-0123456789abcdef0", account="111111111111", region=REGION,
                   cidr_block="10.0.0.0/16"))
    answer = lookup(store, "ssm.us-west-2.amazonaws.com.", "A")
    assert [r.to_text() for r in answer.answer[0]] == [names["ssm.us-west-2.amazonaws.com"].ipv4]
    assert lookup(store, "ssm.us-west-2.amazonaws.com.", "AAAA").answer == []  # NODATA
    answer = lookup(store, "ssm.us-west-2.api.aws.", "AAAA")
    assert [r.to_text() for r in answer.answer[0]] == [names["ssm.us-west-2.api.aws"].ipv6]
    bucket = lookup(store, "my-bucket.s3.us-west-2.amazonaws.com.", "A")
    assert bucket.answer[0].name.to_text() == "my-bucket.s3.us-west-2.amazonaws.com."
    assert lookup(store, "nothing.us-west-2.amazonaws.com.", "A").rcode == dns.rcode.NXDOMAIN


def test_a_private_zone_for_amazonaws_com_shadows_the_public_names_below_it(store):
    """As Route 53 Resolver answers: once a private zone matches, nothing public below its
    name is asked (a centralized-endpoint zone for ``amazonaws.com`` answers ssm, or
    NXDOMAIN), except the names pocketlink publishes (vpce, elb)."""
    vpc = Vpc(id="vpc-0123456789abcdef0", account="111111111111", region=REGION,
              cidr_block="10.0.0.0/16")
    zone = HostedZone(id="ZPRIVATE", account="111111111111", region=REGION,
                      name="amazonaws.com.", caller_reference="c", private=True,
                      vpcs=[{"VPCRegion": REGION, "VPCId": vpc.id}], record_sets=[RecordSet(name=
                          "ssm.us-west-2.amazonaws.com.", type="A", ttl=60, values=["10.9.9.9"])])
    with store.transaction() as tx:
        tx.put(vpc)
        tx.put(zone)
    inside = vpc_zones(store, vpc.id)

    def answer(name: str):
        return inside.lookup(dns.name.from_text(name), dns.rdatatype.A)

    assert [r.to_text() for r in answer("ssm.us-west-2.amazonaws.com.").answer[0]] == [
        "10.9.9.9"]
    assert answer("kms.us-west-2.amazonaws.com.").rcode == dns.rcode.NXDOMAIN
    assert lookup(store, "kms.us-west-2.amazonaws.com.", "A").answer  # outside: public


def test_s3s_legacy_global_name_is_us_east_1s_and_in_its_prefix_list():
    """``s3.amazonaws.com`` (and a bucket below it): what older SDKs call for us-east-1;
    inside S3's us-east-1 prefix list, so a gateway endpoint there carries it. No other
    region has it."""
    [s3] = [p for p in gateway_prefix_lists("us-east-1") if p.name.endswith(".s3")]
    legacy = {n.name: n.ipv4 for n in public_names("us-east-1")
              if n.name.endswith("s3.amazonaws.com")}
    assert set(legacy) == {"s3.amazonaws.com", "*.s3.amazonaws.com"}
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network(s3.cidrs[0])
               for a in legacy.values())
    assert not [n for n in public_names("us-west-2") if n.name.endswith("s3.amazonaws.com")]
