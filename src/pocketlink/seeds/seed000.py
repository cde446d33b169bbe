"""Seed 000, step by step: the provider's NLB behind an endpoint service, the consumer's
interface endpoint, acceptance, dual-stack, the private DNS name, proxy protocol v2.

Each method is one section of the walkthrough, made of the API calls its console clicks
stand for. ``pocketlink demo`` narrates them; the tests assert on them. The world:

- provider 111111111111: a dual-stack VPC 10.0.0.0/16 with subnets in two zones; two
  Apache httpd targets, one behind the NLB's port 80 (proxy protocol off: httpd sees the
  NLB's address) and one behind port 8080 (proxy protocol v2 on, read by mod_remoteip:
  httpd sees the consumer's own address); a dual-stack internal NLB; the endpoint service.
- consumer 222222222222: a dual-stack VPC with the same CIDR (PrivateLink does not care),
  a private instance, and the endpoint's security group that admits the instance's group
  (the seed's troubleshooting section).
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pocketlink.polling import wait_for
from pocketlink.seeds import private_dns
from pocketlink.seeds.clients import seed_client
from pocketlink.seeds.httpd import ACCESS_LOG, httpd_user_data

PROVIDER = "111111111111"
CONSUMER = "222222222222"
REGION = "us-west-2"
AMI = "ami-0c55b159cbfafe1f0"
PRIVATE_NAME = "demoprivatelink.shiun.me"
PLAIN_PORT, PROXY_PORT = 80, 8080


@dataclass
class Seed000:
    endpoint: str
    say: Callable[[str], None] = print
    ids: dict[str, str] = field(default_factory=dict)

    def client(self, service: str, account: str):
        return seed_client(self.endpoint, service, account, REGION)

    @property
    def provider(self):
        return self.client("ec2", PROVIDER)

    @property
    def consumer(self):
        return self.client("ec2", CONSUMER)

    # --- the worlds ---------------------------------------------------------------------
    def _vpc(self, ec2, zones: list[str] | None = None, zone_ids: list[str] | None = None
             ) -> tuple[dict, list[str]]:
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
        ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
        block = ipaddress.IPv6Network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
        sixes = list(block.subnets(new_prefix=64))
        placements = [{"AvailabilityZone": z} for z in zones or []] + \
            [{"AvailabilityZoneId": z} for z in zone_ids or []]
        subnets = [ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"10.0.{128 + 16 * i}.0/20",
                                     Ipv6CidrBlock=str(sixes[i + 1]), **where)["Subnet"]["SubnetId"]
                   for i, where in enumerate(placements)]
        return vpc, subnets

    def build_provider(self) -> None:
        ec2, elb = self.provider, self.client("elbv2", PROVIDER)
        self.say("[Provider] a dual-stack VPC, subnets in two zones, two httpd targets")
        vpc, subnets = self._vpc(ec2, zones=[f"{REGION}a", f"{REGION}b"])
        group = ec2.create_security_group(GroupName="httpd", Description="httpd targets",
                                          VpcId=vpc["VpcId"])["GroupId"]
        block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "IpRanges": [{"CidrIp": "10.0.0.0/16"}], "Ipv6Ranges": [{"CidrIpv6": block}]}])
        targets = {}
        for kind, proxy in (("plain", False), ("proxy", True)):
            [instance] = ec2.run_instances(
                ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnets[0],
                SecurityGroupIds=[group], Ipv6AddressCount=1,
                UserData=httpd_user_data(proxy_protocol=proxy),
                TagSpecifications=[{"ResourceType": "instance",
                                    "Tags": [{"Key": "Name", "Value": f"httpd-{kind}"}]}],
            )["Instances"]
            targets[kind] = instance["InstanceId"]
        self.say("[Provider] aws elbv2 create-load-balancer --type network --scheme internal "
                 "--ip-address-type dualstack")
        balancer = elb.create_load_balancer(
            Name="seed-nlb", Type="network", Scheme="internal", Subnets=subnets,
            IpAddressType="dualstack")["LoadBalancers"][0]
        for kind, port in (("plain", PLAIN_PORT), ("proxy", PROXY_PORT)):
            group_arn = elb.create_target_group(
                Name=f"seed-{kind}", Protocol="TCP", Port=80, VpcId=vpc["VpcId"],
                TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
            elb.modify_target_group_attributes(TargetGroupArn=group_arn, Attributes=[
                {"Key": "proxy_protocol_v2.enabled", "Value": str(kind == "proxy").lower()}])
            elb.register_targets(TargetGroupArn=group_arn, Targets=[{"Id": targets[kind]}])
            elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP",
                                Port=port, DefaultActions=[{"Type": "forward",
                                                            "TargetGroupArn": group_arn}])
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=balancer["LoadBalancerArn"],
            Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
        self.say("[Provider] aws ec2 create-vpc-endpoint-service-configuration "
                 "--network-load-balancer-arns ... --acceptance-required")
        service = ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]],
            AcceptanceRequired=True)["ServiceConfiguration"]
        ec2.modify_vpc_endpoint_service_permissions(
            ServiceId=service["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{CONSUMER}:root"])
        self.say(f"    service name: {service['ServiceName']}")
        self.ids.update(provider_vpc=vpc["VpcId"], service=service["ServiceId"],
                        service_name=service["ServiceName"], balancer=balancer["LoadBalancerArn"],
                        plain=targets["plain"], proxy=targets["proxy"],
                        zone=service["AvailabilityZoneIds"][0])

    def build_consumer(self) -> None:
        ec2 = self.consumer
        self.say("[Consumer] a dual-stack VPC (the same CIDR), a private instance, the "
                 "endpoint's security group admitting the instance's")
        vpc, [subnet] = self._vpc(ec2, zone_ids=[self.ids["zone"]])
        instance_group = ec2.create_security_group(
            GroupName="private-instance", Description="the private instance",
            VpcId=vpc["VpcId"])["GroupId"]
        endpoint_group = ec2.create_security_group(
            GroupName="vpce", Description="the interface endpoint", VpcId=vpc["VpcId"])["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
             "UserIdGroupPairs": [{"GroupId": instance_group}]}
            for port in (PLAIN_PORT, PROXY_PORT)])
        [instance] = ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnet, Ipv6AddressCount=1,
            SecurityGroupIds=[instance_group])["Instances"]
        self.ids.update(consumer_vpc=vpc["VpcId"], consumer_subnet=subnet,
                        instance=instance["InstanceId"], endpoint_group=endpoint_group,
                        instance_ipv4=instance["PrivateIpAddress"],
                        instance_ipv6=instance["Ipv6Address"])
        for account, ids in ((PROVIDER, [self.ids["plain"], self.ids["proxy"]]),
                             (CONSUMER, [instance["InstanceId"]])):
            client = self.client("ec2", account)
            wait_for(lambda c=client, i=ids: all(
                x["State"]["Name"] == "running" for r in c.describe_instances(
                    InstanceIds=i)["Reservations"] for x in r["Instances"]), "instances running")

    # --- the sections -------------------------------------------------------------------
    def endpoint_state(self) -> str:
        [endpoint] = self.consumer.describe_vpc_endpoints(
            VpcEndpointIds=[self.ids["endpoint"]])["VpcEndpoints"]
        return endpoint["State"]

    def wait_available(self) -> None:
        wait_for(lambda: self.endpoint_state() == "available", "the endpoint available")

    def section1_create_and_accept(self) -> dict:
        self.say("[Consumer] aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface "
                 f"--service-name {self.ids['service_name']}")
        endpoint = self.consumer.create_vpc_endpoint(
            VpcEndpointType="Interface", VpcId=self.ids["consumer_vpc"],
            ServiceName=self.ids["service_name"], SubnetIds=[self.ids["consumer_subnet"]],
            SecurityGroupIds=[self.ids["endpoint_group"]])["VpcEndpoint"]
        self.ids["endpoint"] = endpoint["VpcEndpointId"]
        self.say(f"    {endpoint['VpcEndpointId']}: {endpoint['State']}")
        self.say("[Provider] aws ec2 accept-vpc-endpoint-connections")
        self.provider.accept_vpc_endpoint_connections(
            ServiceId=self.ids["service"], VpcEndpointIds=[endpoint["VpcEndpointId"]])
        self.wait_available()
        self.say(f"    {endpoint['VpcEndpointId']}: available")
        self.ids["regional_name"] = endpoint["DnsEntries"][0]["DnsName"]
        self.ids["zonal_name"] = endpoint["DnsEntries"][1]["DnsName"]
        return endpoint

    def section2_dual_stack(self) -> None:
        self.say("[Provider] aws ec2 modify-vpc-endpoint-service-configuration "
                 "--add-supported-ip-address-types ipv6")
        self.provider.modify_vpc_endpoint_service_configuration(
            ServiceId=self.ids["service"], AddSupportedIpAddressTypes=["ipv6"])
        self.say("[Consumer] aws ec2 modify-vpc-endpoint --ip-address-type dualstack "
                 "--dns-options DnsRecordIpType=dualstack")
        self.consumer.modify_vpc_endpoint(VpcEndpointId=self.ids["endpoint"],
                                          IpAddressType="dualstack",
                                          DnsOptions={"DnsRecordIpType": "dualstack"})
        self.wait_available()

    def section3_private_dns(self) -> None:
        provider, route53 = self.provider, self.client("route53", PROVIDER)
        self.say(f"[Provider] aws ec2 modify-vpc-endpoint-service-configuration "
                 f"--private-dns-name {PRIVATE_NAME}")
        record = private_dns.name_service(provider, self.ids["service"], PRIVATE_NAME)
        self.say(f"    {record['Name']}.{PRIVATE_NAME} TXT \"{record['Value']}\": "
                 f"{record['State']}")
        self.say("[Provider] the TXT record in the public zone (Route 53), then "
                 "aws ec2 start-vpc-endpoint-service-private-dns-verification")
        zone = route53.create_hosted_zone(Name="shiun.me", CallerReference=f"seed-{time.time()}")
        private_dns.verify(provider, route53, self.ids["service"], zone["HostedZone"]["Id"],
                           PRIVATE_NAME, record)
        self.say("    verified")
        self.say("[Consumer] aws ec2 modify-vpc-endpoint --private-dns-enabled")
        self.consumer.modify_vpc_endpoint(VpcEndpointId=self.ids["endpoint"],
                                          PrivateDnsEnabled=True)
        self.wait_available()

    # --- inside the consumer's private instance -------------------------------------------
    def run(self, *command: str, timeout: float = 20, on: str = "instance"
            ) -> subprocess.CompletedProcess:
        """``command`` inside an instance: the consumer's (``on`` names another by its key
        in ``ids``: "plain", "proxy")."""
        return subprocess.run([sys.executable, "-m", "pocketlink", "exec", self.ids[on],
                               "--", *command], capture_output=True, text=True, timeout=timeout)

    def curl(self, *arguments: str) -> subprocess.CompletedProcess:
        return self.run("curl", "-sS", "-m", "5", *arguments)

    def access_log(self, kind: str) -> list[str]:
        """The httpd target's access log, read inside it (a log not written yet: none)."""
        return self.run("cat", ACCESS_LOG, on=kind).stdout.splitlines()
