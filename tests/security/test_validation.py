"""Issue 14, item 8: bad input that got through, now refused as AWS refuses it.

Route 53: TTLs out of the model's range, values that are not their type's data, types the
model does not have, batches over 1,000 values, an alias with a TTL, a body in another XML
namespace. EC2: CIDR blocks in ranges no VPC may hold or in a non-canonical text, tags with
control characters, a Unicode digit as a list index, NUL anywhere.
"""

from __future__ import annotations

import http.client
import secrets
from urllib.parse import urlencode, urlparse
from xml.etree import ElementTree

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.security.aws import REGION, client, refused

R53 = "https://route53.amazonaws.com/doc/2013-04-01/"


def new_account() -> str:
    return f"7{secrets.randbelow(10**11):011d}"


def send(daemon, account: str, service: str, method: str, path: str, body: bytes,
         content_type: str) -> tuple[int, ElementTree.Element]:
    """A raw request, signed as botocore signs; gives the status and the parsed XML answer."""
    request = AWSRequest(method, daemon.endpoint + path, data=body,
                         headers={"Content-Type": content_type})
    SigV4Auth(Credentials(account, "secret"), service, REGION).add_auth(request)
    url = urlparse(daemon.endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request(method, path, body=body, headers=dict(request.headers.items()))
    response = connection.getresponse()
    status, text = response.status, response.read()
    connection.close()
    return status, ElementTree.fromstring(text)


def error_code(root: ElementTree.Element) -> str:
    return next(e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Code")


# --- Route 53 -------------------------------------------------------------------------------

@pytest.fixture
def account() -> str:
    return new_account()


@pytest.fixture
def route53(daemon, account):
    return client(daemon, "route53", account, validate=False)


@pytest.fixture
def zone(route53) -> dict:
    return route53.create_hosted_zone(Name=f"t{secrets.token_hex(4)}.example.com",
                                      CallerReference=secrets.token_hex(8))["HostedZone"]


def change(route53, zone: dict, *sets: dict, action: str = "CREATE"):
    return route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={
        "Changes": [{"Action": action, "ResourceRecordSet": s} for s in sets]})


def record(zone: dict, kind: str, *values: str, ttl: int | None = 300, name: str = "www"
           ) -> dict:
    made = {"Name": f"{name}.{zone['Name']}", "Type": kind,
            "ResourceRecords": [{"Value": v} for v in values]}
    if ttl is not None:
        made["TTL"] = ttl
    return made


def stored(route53, zone: dict) -> list[str]:
    return [r["Type"] for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])[
        "ResourceRecordSets"] if r["Type"] not in ("SOA", "NS")]


@pytest.mark.parametrize("ttl, facet", [(-1, "minInclusive '0'"),
                                        (10**30, "maxInclusive '2147483647'"),
                                        (2147483648, "maxInclusive '2147483647'")])
def test_a_ttl_outside_the_models_range_is_invalid_input(route53, zone, ttl, facet):
    message = refused("InvalidInput",
                      lambda: change(route53, zone, record(zone, "A", "192.0.2.1", ttl=ttl)))
    assert facet in message
    assert stored(route53, zone) == []


def test_the_ends_of_the_ttl_range_are_taken(route53, zone):
    change(route53, zone, record(zone, "A", "192.0.2.1", ttl=0),
           record(zone, "TXT", '"x"', ttl=2147483647))
    assert stored(route53, zone) == ["A", "TXT"]


@pytest.mark.parametrize("kind, value", [
    ("A", "192.0.2"), ("A", "192.0.2.256"), ("AAAA", "2001:db8::g"), ("MX", "mail.example.com"),
    ("MX", "ten mail.example.com"), ("SRV", "1 2 mail.example.com"), ("SRV", "garbage"),
    ("CAA", "0 issue"), ("CAA", "256 issue \"ca.example\""), ("TXT", '"unterminated'),
    ("TXT", '"' + "x" * 256 + '"'), ("CNAME", "a b c"), ("DS", "1 2"), ("SSHFP", "x y z"),
])
def test_a_value_that_is_not_its_types_data_is_an_invalid_change_batch(route53, zone, kind,
                                                                        value):
    message = refused("InvalidChangeBatch",
                      lambda: change(route53, zone, record(zone, kind, value)))
    assert message.startswith("[Invalid Resource Record: FATAL problem: ")
    assert stored(route53, zone) == []


def test_well_formed_values_of_every_kind_are_taken(route53, zone):
    change(route53, zone, record(zone, "MX", "10 mail.example.com."),
           record(zone, "SRV", "1 2 443 svc.example.com.", name="_https._tcp"),
           record(zone, "CAA", '0 issue "amazon.com"'),
           record(zone, "TXT", '"v=spf1 -all"', '"two"', name="txt"))
    assert sorted(stored(route53, zone)) == ["CAA", "MX", "SRV", "TXT"]


def test_a_type_route53_does_not_have_is_invalid_input(route53, zone):
    message = refused("InvalidInput", lambda: change(route53, zone, record(zone, "ZZZ", "x")))
    assert "Value 'ZZZ' is not facet-valid" in message


def test_more_than_a_thousand_values_in_a_batch_is_refused(route53, zone):
    sets = [record(zone, "A", "192.0.2.1", name=f"h{i}") for i in range(2000)]
    assert refused("InvalidChangeBatch", lambda: change(route53, zone, *sets)) == \
        "[Number of records limit of 1000 exceeded.]"
    # an UPSERT counts twice, as at AWS
    assert refused("InvalidChangeBatch", lambda: change(route53, zone, *sets[:501],
                                                        action="UPSERT")).startswith("[Number")
    change(route53, zone, *sets[:500], action="UPSERT")
    assert route53.get_hosted_zone(Id=zone["Id"])["HostedZone"]["ResourceRecordSetCount"] == \
        500 + 2  # and the apex's SOA and NS


def test_an_alias_with_a_ttl_is_invalid_input(route53, zone):
    alias = {"Name": f"apex.{zone['Name']}", "Type": "A", "TTL": 60, "AliasTarget": {
        "HostedZoneId": zone["Id"].split("/")[-1], "DNSName": f"www.{zone['Name']}",
        "EvaluateTargetHealth": False}}
    message = refused("InvalidInput", lambda: change(route53, zone, alias))
    assert message.startswith("Invalid request: Expected exactly one of [AliasTarget")


def test_a_body_in_another_xml_namespace_is_refused(daemon, account, route53, zone):
    zone_id = zone["Id"].split("/")[-1]
    body = (f'<ChangeResourceRecordSetsRequest xmlns="https://evil.example/doc/">'
            "<ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet>"
            f"<Name>www.{zone['Name']}</Name><Type>A</Type><TTL>60</TTL><ResourceRecords>"
            "<ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords>"
            "</ResourceRecordSet></Change></Changes></ChangeBatch>"
            "</ChangeResourceRecordSetsRequest>").encode()
    for xml in (body, body.replace(b' xmlns="https://evil.example/doc/"', b"")):
        status, answer = send(daemon, account, "route53", "POST",
                              f"/2013-04-01/hostedzone/{zone_id}/rrset/", xml, "text/xml")
        assert (status, error_code(answer)) == (400, "InvalidInput")
    assert stored(route53, zone) == []
    status, _ = send(daemon, account, "route53", "POST",
                     f"/2013-04-01/hostedzone/{zone_id}/rrset/",
                     body.replace(b"https://evil.example/doc/", R53.encode()), "text/xml")
    assert status == 200


def test_a_route53_tag_with_a_control_character_is_invalid_input(route53, zone):
    refused("InvalidInput", route53.change_tags_for_resource, ResourceType="hostedzone",
            ResourceId=zone["Id"].split("/")[-1], AddTags=[{"Key": "env", "Value": "a\tb"}])


# --- EC2 ------------------------------------------------------------------------------------

@pytest.fixture
def ec2(daemon):
    return client(daemon, "ec2", new_account(), validate=False)


@pytest.mark.parametrize("cidr", ["127.0.0.0/16", "224.0.0.0/16", "169.254.0.0/16",
                                  "0.0.0.0/16", "240.0.0.0/16", "10.0.0.0/15", "10.0.0.0/29"])
def test_a_vpc_in_a_range_aws_refuses_is_invalid_vpc_range(ec2, cidr):
    assert refused("InvalidVpc.Range", ec2.create_vpc, CidrBlock=cidr) == \
        f"The CIDR '{cidr}' is invalid."


@pytest.mark.parametrize("cidr", ["10.0.0.0/016", "010.0.0.0/16", "10.0.0.0/ 16", "10.0.0.0",
                                  "10.0.0.0/16\x7f"])
def test_a_cidr_block_in_a_non_canonical_text_is_invalid(ec2, cidr):
    assert refused("InvalidParameterValue", ec2.create_vpc, CidrBlock=cidr).endswith(
        "This is not a valid CIDR block.")


@pytest.mark.parametrize("cidr", ["172.16.0.0/16", "100.64.0.0/16", "198.51.100.0/24"])
def test_private_and_public_ranges_are_taken(ec2, cidr):
    assert ec2.create_vpc(CidrBlock=cidr)["Vpc"]["CidrBlock"] == cidr


def test_associate_and_subnet_cidrs_are_checked_too(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    refused("InvalidVpc.Range", ec2.associate_vpc_cidr_block, VpcId=vpc,
            CidrBlock="127.0.0.0/16")
    refused("InvalidParameterValue", ec2.associate_vpc_cidr_block, VpcId=vpc,
            CidrBlock="10.1.0.0/016")
    refused("InvalidParameterValue", ec2.create_subnet, VpcId=vpc, CidrBlock="10.0.1.0/024")
    refused("InvalidParameterValue", ec2.create_subnet, VpcId=vpc, CidrBlock="10.0.01.0/24")


@pytest.mark.parametrize("key, value, message", [
    ("env", "a\tb", "Tag value contains invalid characters"),
    ("env", "a\x7fb", "Tag value contains invalid characters"),
    ("e\nv", "x", "Tag key contains invalid characters"),
    ("k" * 129, "x", None), ("env", "v" * 257, None),
])
def test_tags_with_control_characters_or_too_long_are_refused(ec2, key, value, message):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    text = refused("InvalidParameterValue", ec2.create_tags, Resources=[vpc],
                   Tags=[{"Key": key, "Value": value}])
    assert message is None or text == message
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"] == []


def test_nul_anywhere_is_refused_before_it_reaches_a_handler(daemon):
    account = new_account()
    for form in ({"Action": "CreateVpc", "CidrBlock": "10.0.0.0/16",
                  "TagSpecification.1.ResourceType": "vpc", "TagSpecification.1.Tag.1.Key": "k",
                  "TagSpecification.1.Tag.1.Value": "a\x00b"},
                 {"Action": "CreateSecurityGroup", "GroupName": "g\x00", "GroupDescription": "d"},
                 {"Action": "Describe\x00Vpcs"},
                 {"Action": "DescribeVpcs", "Bogus\x00": "x"}):
        body = urlencode({**form, "Version": "2016-11-15"}).encode()
        status, answer = send(daemon, account, "ec2", "POST", "/", body,
                              "application/x-www-form-urlencoded; charset=utf-8")
        assert status == 400 and error_code(answer) in (
            "InvalidParameterValue", "InvalidAction", "UnknownParameter"), form
    assert client(daemon, "ec2", account, validate=False).describe_vpcs(
        Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"] == []


@pytest.mark.parametrize("index", ["\u00b2", "\u0661", "\uff11", "1\u00b2"])
def test_a_unicode_digit_as_a_list_index_is_invalid_not_a_500(daemon, index):
    body = urlencode({"Action": "DescribeVpcs", "Version": "2016-11-15",
                      f"Filter.{index}.Name": "vpc-id", f"Filter.{index}.Value.1": "x"}).encode()
    status, answer = send(daemon, new_account(), "ec2", "POST", "/", body,
                          "application/x-www-form-urlencoded; charset=utf-8")
    assert (status, error_code(answer)) == (400, "InvalidParameterValue")


# --- numbers in ASCII digits only --------------------------------------------------------
# ``str.isdigit`` takes '²' (and other Unicode digits) that ``int()`` refuses: each of these
# answered 500 (RunInstances: a MalformedHttpRequestException) before they were read as
# ASCII digits only.

SUPERSCRIPT_TWO = "\u00b2"


def _ec2_form(daemon, account: str, **params: str) -> tuple[int, str]:
    status, answer = send(daemon, account, "ec2", "POST", "/", urlencode(
        {**params, "Version": "2016-11-15"}).encode(),
        "application/x-www-form-urlencoded; charset=utf-8")
    return status, error_code(answer) if status != 200 else ""


def test_a_unicode_digit_is_no_number_anywhere_a_number_is_read(daemon):
    account = new_account()
    ec2 = client(daemon, "ec2", account, validate=False)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
    ec2.create_launch_template(LaunchTemplateName="lt-digits", LaunchTemplateData={
        "ImageId": "ami-0123456789abcdef0"})
    two = SUPERSCRIPT_TWO
    refusals = {
        "IpProtocol": _ec2_form(daemon, account, Action="AuthorizeSecurityGroupIngress",
                                GroupId=group, **{"IpPermissions.1.IpProtocol": two,
                                                  "IpPermissions.1.IpRanges.1.CidrIp":
                                                      "0.0.0.0/0"}),
        "lease time": _ec2_form(daemon, account, Action="CreateDhcpOptions", **{
            "DhcpConfiguration.1.Key": "ipv6-address-preferred-lease-time",
            "DhcpConfiguration.1.Value.1": two}),
        "LaunchTemplateVersion": _ec2_form(daemon, account,
                                           Action="DescribeLaunchTemplateVersions",
                                           LaunchTemplateName="lt-digits",
                                           **{"LaunchTemplateVersion.1": two}),
        "MinVersion": _ec2_form(daemon, account, Action="DescribeLaunchTemplateVersions",
                                LaunchTemplateName="lt-digits", MinVersion=two),
        "SourceVersion": _ec2_form(daemon, account, Action="CreateLaunchTemplateVersion",
                                   LaunchTemplateName="lt-digits", SourceVersion=two,
                                   **{"LaunchTemplateData.ImageId": "ami-0123456789abcdef0"}),
        "LaunchTemplate.Version": _ec2_form(daemon, account, Action="RunInstances",
                                            MinCount="1", MaxCount="1", **{
                                                "LaunchTemplate.LaunchTemplateName": "lt",
                                                "LaunchTemplate.Version": two}),
    }
    elbv2 = client(daemon, "elbv2", account, validate=False)
    with pytest.raises(Exception) as refused_port:
        elbv2.create_target_group(Name="tg1", Protocol="TCP", Port=80, VpcId=vpc,
                                  HealthCheckPort=two)
    refusals["HealthCheckPort"] = (400, refused_port.value.response["Error"]["Code"])
    arn = elbv2.create_target_group(Name="tg2", Protocol="TCP", Port=80, VpcId=vpc)[
        "TargetGroups"][0]["TargetGroupArn"]
    with pytest.raises(Exception) as refused_attribute:
        elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "-" + two}])
    refusals["an integer attribute"] = (400, refused_attribute.value.response["Error"]["Code"])
    route53 = client(daemon, "route53", account, validate=False)
    with pytest.raises(Exception) as refused_items:
        route53.list_hosted_zones(MaxItems=two)
    refusals["MaxItems"] = (refused_items.value.response["ResponseMetadata"]["HTTPStatusCode"],
                            refused_items.value.response["Error"]["Code"])
    for what, (status, code) in refusals.items():
        assert status == 400 and code not in ("", "InternalError",
                                              "MalformedHttpRequestException"), (what, code)
    # a version to delete that is no number is one of the call's unsuccessful items, as AWS
    deleted = ec2.delete_launch_template_versions(LaunchTemplateName="lt-digits", Versions=[two])
    assert deleted["UnsuccessfullyDeletedLaunchTemplateVersions"][0]["VersionNumber"] == 0
    # ... and nothing was made of them
    assert not [o for o in ec2.describe_dhcp_options()["DhcpOptions"]
                if any(c["Key"] == "ipv6-address-preferred-lease-time"
                       for c in o["DhcpConfigurations"])]
    assert [v["VersionNumber"] for v in ec2.describe_launch_template_versions(
        LaunchTemplateName="lt-digits")["LaunchTemplateVersions"]] == [1]


def test_a_health_check_matcher_reads_ascii_digits_only():
    from pocketlink.dataplane.health import matches

    assert matches("200-399", 200) and matches("200,202", 202)
    assert not matches("\u00b200", 200) and not matches("200-\u00b299", 250)
