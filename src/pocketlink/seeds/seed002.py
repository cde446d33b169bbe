"""Seed 002, step by step: its CloudFormation template (seed002.yaml: the seed's text, its
indentation restored, its elided parts filled minimally: the group's sizes and subnets,
the launch template's image, type and a UserData starting the web server its security
group opens port 80 for, and only the three ingress rules the seed shows) deployed with
``aws cloudformation deploy``, then the seed's caveats and consumer steps:

- provider 111111111111: the template's parameters made first (a VPC 10.0.0.0/16, three
  private subnets in three zones, a public hosted zone ``seed002.example.com``); after the
  deploy, the private DNS name the template cannot set (``shop.seed002.example.com``, the
  certificate's name), verified by its TXT record in that zone.
- consumer 123456789012 (the template's AllowedPrincipals): a VPC with DNS support and
  hostnames, a private instance, an interface endpoint to the service found by its name;
  the provider accepts it; the consumer enables its private DNS name; the instance then
  ``curl https://shop.seed002.example.com/`` through the TLS listener, verified against
  pocketlink's ACM root (which instances trust).

``pocketlink demo 002`` narrates it; the tests assert on the template.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from botocore.exceptions import ClientError

from pocketlink.polling import wait_for
from pocketlink.seeds import private_dns
from pocketlink.seeds.clients import seed_client

TEMPLATE = resources.files("pocketlink.seeds").joinpath("seed002.yaml").read_text()
PROVIDER = "111111111111"
CONSUMER = "123456789012"  # the template's EndpointServicePermissions names this account
REGION = "us-east-1"
AMI = "ami-0123456789abcdef0"
STACK = "endpoint-service"
APPLICATION = "shop"
DOMAIN = "seed002.example.com"
PRIVATE_NAME = f"{APPLICATION}.{DOMAIN}"  # the certificate's DomainName
HTTPS = 443
DEPLOY_TIMEOUT = 900.0


def aws_cli() -> str | None:
    """The AWS CLI beside this Python (the venv's), else the one on PATH."""
    return shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")


@dataclass
class Seed002:
    endpoint: str
    say: Callable[[str], None] = print
    ids: dict[str, str] = field(default_factory=dict)

    def client(self, service: str, account: str):
        return seed_client(self.endpoint, service, account, REGION)

    # --- the provider -------------------------------------------------------------------
    def build_parameters(self) -> dict[str, str]:
        """The template's parameters, made first as the seed's reader has them."""
        ec2, route53 = self.client("ec2", PROVIDER), self.client("route53", PROVIDER)
        self.say("[Provider] a VPC, three private subnets in three zones, the public hosted "
                 f"zone {DOMAIN}")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()[
            "AvailabilityZones"]][:3]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{16 * i}.0/20",
                                     AvailabilityZone=zone)["Subnet"]["SubnetId"]
                   for i, zone in enumerate(zones)]
        zone = route53.create_hosted_zone(Name=DOMAIN, CallerReference=f"seed002-{time.time()}")
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        self.ids.update(provider_vpc=vpc, zone=zone_id)
        return {"Application": APPLICATION, "VpcId": vpc, "PrivateSubnetIds": ",".join(subnets),
                "HostedZoneId": zone_id, "HostedZoneDomainName": DOMAIN,
                "LogBucketName": f"{APPLICATION}-nlb-logs"}

    def deploy(self, parameters: dict[str, str], show: Callable[[dict], None]
               ) -> subprocess.CompletedProcess:
        """``aws cloudformation deploy`` of the template, ``show`` called with each stack
        event as it happens (DescribeStackEvents, polled while the CLI runs)."""
        aws = aws_cli()
        if aws is None:
            raise RuntimeError("the AWS CLI is not installed (scripts/setup installs it)")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": PROVIDER, "AWS_SECRET_ACCESS_KEY": "seed",
               "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": self.endpoint,
               "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        cfn = self.client("cloudformation", PROVIDER)
        with tempfile.TemporaryDirectory(prefix="pocketlink-seed002-") as folder:
            template = Path(folder) / "seed002.yaml"
            template.write_text(TEMPLATE)
            command = [aws, "cloudformation", "deploy", "--stack-name", STACK,
                       "--template-file", str(template), "--parameter-overrides",
                       *(f"{k}={v}" for k, v in parameters.items())]
            self.say("[Provider] aws cloudformation deploy --stack-name " + STACK +
                     " --template-file seed002.yaml --parameter-overrides " +
                     " ".join(f"{k}={v}" for k, v in parameters.items()))
            running = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            seen: set[str] = set()
            deadline = time.monotonic() + DEPLOY_TIMEOUT
            while True:
                done = running.poll() is not None
                for event in self._new_events(cfn, seen):
                    show(event)
                if done or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if running.poll() is None:
                running.kill()
            stdout, stderr = running.communicate()
        return subprocess.CompletedProcess(command, running.returncode, stdout, stderr)

    @staticmethod
    def _new_events(cfn, seen: set[str]) -> list[dict]:
        try:
            events = cfn.describe_stack_events(StackName=STACK)["StackEvents"]
        except ClientError:  # the CLI has not made the stack yet
            return []
        fresh = [e for e in reversed(events) if e["EventId"] not in seen]
        seen.update(e["EventId"] for e in fresh)
        return fresh

    def outputs(self) -> None:
        """What the stack made, by logical id."""
        cfn = self.client("cloudformation", PROVIDER)
        for resource in cfn.describe_stack_resources(StackName=STACK)["StackResources"]:
            self.ids[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
        [config] = self.client("ec2", PROVIDER).describe_vpc_endpoint_service_configurations(
            ServiceIds=[self.ids["EndpointService"]])["ServiceConfigurations"]
        self.ids.update(service=config["ServiceId"], service_name=config["ServiceName"],
                        zone_id=config["AvailabilityZoneIds"][0])

    def private_dns_name(self) -> None:
        """The seed's caveat: the private DNS name is set by hand (the template cannot),
        the certificate's name, verified by a TXT record."""
        provider, route53 = self.client("ec2", PROVIDER), self.client("route53", PROVIDER)
        self.say(f"[Provider] aws ec2 modify-vpc-endpoint-service-configuration "
                 f"--private-dns-name {PRIVATE_NAME}")
        record = private_dns.name_service(provider, self.ids["service"], PRIVATE_NAME)
        self.say(f"[Provider] {record['Name']}.{PRIVATE_NAME} TXT \"{record['Value']}\" in "
                 f"{DOMAIN}, then aws ec2 start-vpc-endpoint-service-private-dns-verification")
        private_dns.verify(provider, route53, self.ids["service"], self.ids["zone"], PRIVATE_NAME,
                           record, timeout=120)
        self.say("    verified")

    # --- the consumer -------------------------------------------------------------------
    def build_consumer(self) -> None:
        ec2 = self.client("ec2", CONSUMER)
        self.say(f"[Consumer {CONSUMER}] a VPC with DNS support and hostnames, a private "
                 "instance, the endpoint's security group admitting it on 443")
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/20",
                                   AvailabilityZoneId=self.ids["zone_id"])["Subnet"]["SubnetId"]
        instance_group = ec2.create_security_group(
            GroupName="private-instance", Description="the private instance",
            VpcId=vpc)["GroupId"]
        endpoint_group = ec2.create_security_group(
            GroupName="vpce", Description="the interface endpoint", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": HTTPS, "ToPort": HTTPS,
             "UserIdGroupPairs": [{"GroupId": instance_group}]}])
        [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnet,
                                       SecurityGroupIds=[instance_group])["Instances"]
        self.ids.update(consumer_vpc=vpc, consumer_subnet=subnet, endpoint_group=endpoint_group,
                        instance=instance["InstanceId"])
        wait_for(lambda: ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
            "Reservations"][0]["Instances"][0]["State"]["Name"] == "running",
            "the consumer's instance running", timeout=120)

    def connect(self) -> None:
        """The seed's steps: find the service by name, create the endpoint, the provider
        accepts, the consumer enables the private DNS name."""
        consumer, provider = self.client("ec2", CONSUMER), self.client("ec2", PROVIDER)
        self.say(f"[Consumer] aws ec2 describe-vpc-endpoint-services --service-names "
                 f"{self.ids['service_name']}  (Find service by name)")
        [found] = consumer.describe_vpc_endpoint_services(
            ServiceNames=[self.ids["service_name"]])["ServiceDetails"]
        self.say(f"    {found['ServiceName']}: private DNS name {found.get('PrivateDnsName')} "
                 f"({found.get('PrivateDnsNameVerificationState')}), acceptance required: "
                 f"{found['AcceptanceRequired']}")
        self.say("[Consumer] aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface")
        endpoint = consumer.create_vpc_endpoint(
            VpcEndpointType="Interface", VpcId=self.ids["consumer_vpc"],
            ServiceName=self.ids["service_name"], SubnetIds=[self.ids["consumer_subnet"]],
            SecurityGroupIds=[self.ids["endpoint_group"]],
            PrivateDnsEnabled=False)["VpcEndpoint"]
        self.ids["endpoint"] = endpoint["VpcEndpointId"]
        self.say(f"    {endpoint['VpcEndpointId']}: {endpoint['State']}")
        self.say("[Provider] aws ec2 accept-vpc-endpoint-connections")
        provider.accept_vpc_endpoint_connections(ServiceId=self.ids["service"],
                                                 VpcEndpointIds=[endpoint["VpcEndpointId"]])
        self._available()
        self.say("[Consumer] aws ec2 modify-vpc-endpoint --private-dns-enabled  (Modify "
                 "Private DNS names; the API asks for no second acceptance)")
        consumer.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"],
                                     PrivateDnsEnabled=True)
        self._available()
        self.say(f"    {endpoint['VpcEndpointId']}: available, {PRIVATE_NAME} resolves to it "
                 "in the consumer's VPC")

    def _available(self) -> None:
        consumer = self.client("ec2", CONSUMER)
        wait_for(lambda: consumer.describe_vpc_endpoints(VpcEndpointIds=[self.ids["endpoint"]])[
            "VpcEndpoints"][0]["State"] == "available", "the endpoint available", timeout=120)

    # --- inside the consumer's private instance -------------------------------------------
    def curl(self, *arguments: str, timeout: float = 20) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pocketlink", "exec", self.ids["instance"],
                               "--", "curl", "-sS", "-m", "5", *arguments],
                              capture_output=True, text=True, timeout=timeout)
