"""The AWS services' names as an instance sees them (issue 8): the public range and a
silent drop with no endpoint, the endpoint's ENIs with private DNS, only the vpce names
without, IPv6 for dual-stack endpoints, S3's vpce names, and the public DNS's answers.
Real daemon, real namespaces, real ``dig`` and ``curl`` inside an instance."""

from __future__ import annotations

import os
import re
import socket
import subprocess

import pytest

from pocketlink.dns.aws_public import public_names
from pocketlink.polling import wait_for
from tests.conftest import PROVIDER, ipv6_subnet
from tests.network.conftest import dual_stack_vpc, launch, run_in
from tests.privatelink.conftest import aws_error

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")

REGION = "us-west-2"
SSM = f"com.amazonaws.{REGION}.ssm"
S3 = f"com.amazonaws.{REGION}.s3"
PUBLIC = {n.name: n for n in public_names(REGION)}
# A concrete name for each wildcard: a bucket, an ECR registry.
CONCRETE = {"*.s3.": "my-bucket.s3.", "*.dkr.ecr.": "123456789012.dkr.ecr."}


def concrete(name: str) -> str:
    for star, label in CONCRETE.items():
        if name.startswith(star):
            return label + name.removeprefix(star)
    return name


@pytest.fixture(scope="module")
def world(make_daemon):
    """An isolated dual-stack VPC (no route out) in two zones, with one instance."""
    daemon = make_daemon()
    ec2 = daemon.client("ec2", PROVIDER, REGION)
    vpc, subnet = dual_stack_vpc(ec2, "10.0.0.0/16")
    block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    zones = {ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailabilityZone"]}
    zone = next(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]
                if z["ZoneName"] not in zones)
    second = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.2.0/24",
                               Ipv6CidrBlock=ipv6_subnet(block, 2),
                               AvailabilityZone=zone)["Subnet"]["SubnetId"]
    https = ec2.create_security_group(GroupName="https", Description="HTTPS from the VPC",
                                      VpcId=vpc["VpcId"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=https, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/16"}], "Ipv6Ranges": [{"CidrIpv6": block}]}])
    [instance] = launch(ec2, subnet, Ipv6AddressCount=1)
    return {"daemon": daemon, "ec2": ec2, "vpc": vpc["VpcId"], "subnets": [subnet, second],
            "group": https, "instance": instance["InstanceId"]}


def dig(world, name: str, rdtype: str = "A") -> list[str]:
    """What the VPC's resolver answers inside the instance, sorted."""
    done = run_in(world["instance"], "dig", "+short", "+time=2", "+tries=2", name, rdtype)
    assert done.returncode == 0, done.stderr
    return sorted(line for line in done.stdout.split() if not line.endswith("."))


def public_dig(world, name: str, rdtype: str = "A") -> list[str]:
    done = subprocess.run(["dig", "@127.0.0.1", "-p", str(world["daemon"].dns_port), "+short",
                           "+time=2", "+tries=2", name, rdtype],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return sorted(line for line in done.stdout.split() if not line.endswith("."))


def create(world, service: str = SSM, **params) -> dict:
    params.setdefault("SubnetIds", world["subnets"])
    params.setdefault("SecurityGroupIds", [world["group"]])
    endpoint = world["ec2"].create_vpc_endpoint(
        VpcId=world["vpc"], ServiceName=service, VpcEndpointType="Interface",
        **params)["VpcEndpoint"]
    wait_for(lambda: describe(world, endpoint["VpcEndpointId"])["State"] == "available",
             "the endpoint available")
    return describe(world, endpoint["VpcEndpointId"])


def describe(world, endpoint_id: str) -> dict:
    [found] = world["ec2"].describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    return found


def delete(world, endpoint: dict) -> None:
    world["ec2"].delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    wait_for(lambda: describe(world, endpoint["VpcEndpointId"])["State"] == "deleted",
             "the endpoint deleted")


def addresses(world, endpoint: dict) -> tuple[list[str], list[str]]:
    enis = world["ec2"].describe_network_interfaces(
        NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"]
    return (sorted(e["PrivateIpAddress"] for e in enis if e.get("PrivateIpAddress")),
            sorted(a["Ipv6Address"] for e in enis for a in e.get("Ipv6Addresses", [])))


def public_v4(name: str) -> list[str]:
    return [PUBLIC[name].ipv4]


def test_the_public_dns_answers_every_service_name(world):
    for name, found in PUBLIC.items():
        assert public_dig(world, concrete(name)) == [found.ipv4], name
        assert public_dig(world, concrete(name), "AAAA") == ([found.ipv6] if found.ipv6 else []), \
            name


def test_without_an_endpoint_the_names_are_public_and_a_call_times_out(world):
    """As at AWS: an isolated subnet's packets to AWS's public addresses go nowhere, so
    the client waits (curl's exit 28), rather than being refused at once (exit 7)."""
    name = f"ssm.{REGION}.amazonaws.com"
    assert dig(world, name) == public_v4(name)
    assert dig(world, f"my-bucket.s3.{REGION}.amazonaws.com") == public_v4(f"*.s3.{REGION}.amazonaws.com")
    for url, family in ((f"https://{name}/", "-4"), (f"https://ssm.{REGION}.api.aws/", "-6")):
        done = run_in(world["instance"], "curl", "-s", "-o", "/dev/null", family,
                      "--connect-timeout", "2", url)
        assert done.returncode == 28, (url, done.returncode, done.stderr)


def test_private_dns_points_the_regional_name_at_the_enis_until_deleted(world):
    name = f"ssm.{REGION}.amazonaws.com"
    endpoint = create(world)
    assert endpoint["PrivateDnsEnabled"] is True  # the default for AWS's services
    v4, _ = addresses(world, endpoint)
    assert len(v4) == 2
    wait_for(lambda: dig(world, name) == v4, "the regional name at the ENIs")
    assert dig(world, name, "AAAA") == []  # an ipv4 endpoint: no AAAA records
    assert dig(world, f"ssm.{REGION}.api.aws") == public_v4(f"ssm.{REGION}.api.aws")
    assert public_dig(world, name) == public_v4(name)  # outside the VPC: still public
    regional = endpoint["DnsEntries"][0]["DnsName"]
    assert dig(world, regional) == v4 and public_dig(world, regional) == v4

    delete(world, endpoint)
    wait_for(lambda: dig(world, name) == public_v4(name), "the regional name public again")
    again = create(world)
    wait_for(lambda: dig(world, name) == addresses(world, again)[0], "the ENIs again")
    delete(world, again)


def test_without_private_dns_only_the_vpce_names_reach_the_enis(world):
    name = f"ssm.{REGION}.amazonaws.com"
    endpoint = create(world, PrivateDnsEnabled=False)
    v4, _ = addresses(world, endpoint)
    entries = [e["DnsName"] for e in endpoint["DnsEntries"]]
    assert len(entries) == 3  # regional and two zonal names, no private one
    assert re.fullmatch(rf"vpce-[0-9a-f]{{17}}-[a-z0-9]{{8}}\.ssm\.{REGION}\.vpce\.amazonaws\.com",
                        entries[0])
    wait_for(lambda: dig(world, entries[0]) == v4, "the vpce name at the ENIs")
    for zonal in entries[1:]:
        assert len(dig(world, zonal)) == 1 and dig(world, zonal)[0] in v4
    assert dig(world, name) == public_v4(name)
    world["ec2"].modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                                     PrivateDnsEnabled=True)
    wait_for(lambda: dig(world, name) == v4, "the regional name at the ENIs once turned on")
    delete(world, endpoint)


def test_a_second_endpoint_with_private_dns_for_the_same_service_is_refused(world):
    endpoint = create(world)
    message = ("private-dns-enabled cannot be set because there is already a conflicting DNS "
               f"domain for ssm.{REGION}.amazonaws.com in the VPC {world['vpc']}")
    with aws_error("InvalidParameter", message):
        create(world)
    delete(world, endpoint)


def test_a_dualstack_endpoint_answers_aaaa_and_the_dual_stack_name(world):
    name, dual = f"ssm.{REGION}.amazonaws.com", f"ssm.{REGION}.api.aws"
    endpoint = create(world, IpAddressType="dualstack",
                      DnsOptions={"DnsRecordIpType": "dualstack"})
    v4, v6 = addresses(world, endpoint)
    assert len(v6) == 2
    wait_for(lambda: dig(world, name, "AAAA") == v6, "AAAA at the ENIs")
    assert dig(world, name) == v4
    assert (dig(world, dual), dig(world, dual, "AAAA")) == (v4, v6)
    assert public_dig(world, dual, "AAAA") == [PUBLIC[dual].ipv6]
    delete(world, endpoint)
    wait_for(lambda: dig(world, name, "AAAA") == [], "no AAAA once deleted")
    assert dig(world, dual, "AAAA") == [PUBLIC[dual].ipv6]


def test_s3_interface_endpoint_names(world):
    """DnsEntries in AWS's ``*.vpce-...s3.<region>.vpce.amazonaws.com`` form (AWS
    PrivateLink for Amazon S3, "Accessing Amazon S3 interface endpoints"); a bucket's name
    below them reaches the ENIs; private DNS is off unless asked for."""
    endpoint = create(world, S3)
    assert endpoint["PrivateDnsEnabled"] is False
    v4, _ = addresses(world, endpoint)
    entries = [e["DnsName"] for e in endpoint["DnsEntries"]]
    assert len(entries) == 3
    assert re.fullmatch(rf"\*\.vpce-[0-9a-f]{{17}}-[a-z0-9]{{8}}\.s3\.{REGION}\."
                        r"vpce\.amazonaws\.com", entries[0])
    for prefix in ("bucket", "accesspoint", "control"):
        wait_for(lambda p=prefix: public_dig(world, entries[0].replace("*", p)) == v4,
                 f"{prefix}.vpce-... at the ENIs")
        assert dig(world, entries[0].replace("*", prefix)) == v4
    zonal = dig(world, entries[1].replace("*", "bucket"))
    assert len(zonal) == 1 and zonal[0] in v4
    assert dig(world, f"my-bucket.s3.{REGION}.amazonaws.com") == public_v4(
        f"*.s3.{REGION}.amazonaws.com")
    delete(world, endpoint)


def test_s3_private_dns_and_the_inbound_resolver_option(world):
    """S3's private DNS is "only for inbound endpoints" by default, which needs the VPC's
    gateway endpoint and leaves the VPC's own names public (to the gateway); turned off,
    ``s3.<region>`` and ``*.s3.<region>`` resolve to the ENIs inside the VPC."""
    with aws_error("InvalidParameter", "To set PrivateDnsOnlyForInboundResolverEndpoint to "
                   "true, the VPC must have a Gateway endpoint for the service."):
        create(world, S3, PrivateDnsEnabled=True)
    gateway = world["ec2"].create_vpc_endpoint(VpcId=world["vpc"], ServiceName=S3,
                                               VpcEndpointType="Gateway")["VpcEndpoint"]
    inbound = create(world, S3, PrivateDnsEnabled=True)
    assert inbound["DnsOptions"]["PrivateDnsOnlyForInboundResolverEndpoint"] is True
    bucket = f"my-bucket.s3.{REGION}.amazonaws.com"
    assert dig(world, bucket) == public_v4(f"*.s3.{REGION}.amazonaws.com")
    delete(world, inbound)
    endpoint = create(world, S3, PrivateDnsEnabled=True,
                      DnsOptions={"PrivateDnsOnlyForInboundResolverEndpoint": False})
    v4, _ = addresses(world, endpoint)
    wait_for(lambda: dig(world, bucket) == v4, "a bucket's name at the ENIs")
    assert dig(world, f"s3.{REGION}.amazonaws.com") == v4
    assert dig(world, f"s3.dualstack.{REGION}.amazonaws.com") == public_v4(
        f"s3.dualstack.{REGION}.amazonaws.com")  # an ipv4 endpoint
    delete(world, endpoint)
    delete(world, gateway)


GAI = ("import socket, sys\n"
       "try:\n"
       "    socket.getaddrinfo(sys.argv[1], 443, socket.AF_INET6, socket.SOCK_STREAM)\n"
       "except socket.gaierror as error:\n"
       "    print(error.errno)\n")


def test_curl_6_to_an_ipv4_endpoint_ends_as_for_any_name_without_aaaa(world):
    """Issue 13: before dual-stack, an endpoint's name has no AAAA record and the VPC's
    resolver answers AAAA as it does for an instance's A-only compute.internal name:
    NOERROR, no answer. So a resolver asking for IPv6 only (curl 8's ``-6``, AWS's seed)
    gets EAI_NODATA, "Could not resolve host", exit 6. Debian's curl 7.88 asks A and AAAA
    together even with ``-6`` (strace shows both queries) and drops the IPv4 address
    afterwards, so it ends "(7) Couldn't connect" with no address tried, for both names
    alike: the difference is curl's, not the answers'."""
    [instance] = world["ec2"].describe_instances(InstanceIds=[world["instance"]])[
        "Reservations"][0]["Instances"]
    own = f"ip-{instance['PrivateIpAddress'].replace('.', '-')}.{REGION}.compute.internal"
    endpoint = create(world, PrivateDnsEnabled=False)
    name = endpoint["DnsEntries"][0]["DnsName"]
    wait_for(lambda: dig(world, name) == addresses(world, endpoint)[0], "the vpce name")
    headers, exits = [], []
    for host in (name, own):
        done = run_in(world["instance"], "dig", "+time=2", "+tries=2", host, "AAAA")
        header = re.search(r"status: (\w+).*\n.*ANSWER: (\d+), AUTHORITY: (\d+)", done.stdout)
        headers.append(header.groups() if header else done.stdout)
        gai = run_in(world["instance"], "python3", "-c", GAI, host)
        assert gai.stdout.strip() == str(socket.EAI_NODATA), (host, gai.stdout, gai.stderr)
        exits.append(run_in(world["instance"], "curl", "-sS", "-6", "-m", "5",
                            f"http://{host}/").returncode)
    assert headers == [("NOERROR", "0", "0")] * 2
    assert exits[0] == exits[1] and exits[0] in (6, 7), exits
    delete(world, endpoint)
