"""Seed 003, step by step: what a NAT gateway costs a private subnet that talks to S3, and
how the S3 gateway endpoint takes that traffic off it.

The seed (a blog post on cutting NAT gateway costs with VPC endpoints) adds the S3 gateway
endpoint to the route table of subnets that reached AWS through a NAT gateway, and tells
what follows: "a sudden change in the NAT gateway's metrics in CloudWatch" and, in Cost
Explorer, in EC2-Other. Here that is measured, not told:

- a VPC with an internet gateway, a public subnet holding a NAT gateway with an Elastic IP,
  and a private subnet whose route table sends 0.0.0.0/0 to the NAT gateway, with an
  instance in it;
- the instance copies an object from S3 with the real AWS CLI (``aws s3 cp``, no endpoint
  URL): through the NAT gateway, whose ``BytesInFromDestination`` (CloudWatch's
  AWS/NATGateway, read with GetMetricStatistics) grows by the object's size;
- the S3 gateway endpoint is added to the private route table (the NAT route stays): the
  same copy goes through the endpoint, and the NAT's figure stays where it was;
- ``pocketlink cost`` bills both: the NAT gateway's GB the first copy, nothing for the
  gateway endpoint.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from boto3.s3.transfer import TransferConfig

from pocketlink.polling import wait_for
from pocketlink.seeds.clients import seed_client

ACCOUNT = "333333333333"
REGION = "us-east-1"  # the region of the price list `pocketlink cost` bills with
AMI = "ami-0c55b159cbfafe1f0"
BUCKET, KEY = "seed003-data", "200MB.bin"
MEGABYTE = 1_000_000
# The CloudWatch sampler writes a point a second: a figure is settled once two reads this
# far apart agree.
SETTLE = 2.5


@dataclass
class Copy:
    """One ``aws s3 cp`` inside the instance: what it printed and how long it took."""

    answer: subprocess.CompletedProcess
    seconds: float

    @property
    def bytes(self) -> int:
        """The bytes the copy wrote (``wc -c`` of its output); 0 when it failed."""
        words = self.answer.stdout.split()
        return int(words[0]) if self.answer.returncode == 0 and words else 0


@dataclass
class Seed003:
    endpoint: str
    say: Callable[[str], None] = print
    megabytes: int = 200  # the object's size (the tests copy less)
    ids: dict[str, str] = field(default_factory=dict)

    def client(self, service: str):
        return seed_client(self.endpoint, service, ACCOUNT, REGION)

    @property
    def size(self) -> int:
        return self.megabytes * MEGABYTE

    # --- the world ----------------------------------------------------------------------
    def build(self) -> None:
        ec2 = self.client("ec2")
        self.say("[VPC] aws ec2 create-vpc --cidr-block 10.0.0.0/16; create-internet-gateway; "
                 "attach-internet-gateway")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        subnets, tables = {}, {}
        for n, name in ((1, "public"), (2, "private")):
            subnets[name] = ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
            tables[name] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=tables[name], SubnetId=subnets[name])
        self.say(f"[VPC] public subnet {subnets['public']}: 0.0.0.0/0 -> {igw}")
        ec2.create_route(RouteTableId=tables["public"], DestinationCidrBlock="0.0.0.0/0",
                         GatewayId=igw)
        self.say("[VPC] aws ec2 allocate-address; aws ec2 create-nat-gateway --subnet-id "
                 f"{subnets['public']} --allocation-id eipalloc-...")
        eip = ec2.allocate_address(Domain="vpc")
        nat = ec2.create_nat_gateway(SubnetId=subnets["public"],
                                     AllocationId=eip["AllocationId"])["NatGateway"]["NatGatewayId"]
        ec2.get_waiter("nat_gateway_available").wait(
            NatGatewayIds=[nat], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        self.say(f"    {nat}: available, Elastic IP {eip['PublicIp']}")
        self.say(f"[VPC] private subnet {subnets['private']}: 0.0.0.0/0 -> {nat}; an "
                 "instance in it (no public IP)")
        ec2.create_route(RouteTableId=tables["private"], DestinationCidrBlock="0.0.0.0/0",
                         NatGatewayId=nat)
        [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                       SubnetId=subnets["private"])["Instances"]
        self.ids.update(vpc=vpc, igw=igw, nat=nat, eip=eip["PublicIp"],
                        public_table=tables["public"], private_table=tables["private"],
                        instance=instance["InstanceId"],
                        instance_ip=instance["PrivateIpAddress"])
        wait_for(lambda: ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
            "Reservations"][0]["Instances"][0]["State"]["Name"] == "running", "the instance",
            timeout=120)

    def put_object(self) -> None:
        """The object the instance copies, put from the host (in parts, as the CLI does)."""
        self.say(f"[Host] aws s3 mb s3://{BUCKET}; aws s3 cp {KEY} s3://{BUCKET}/ "
                 f"({self.megabytes} MB)")
        s3 = self.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_fileobj(io.BytesIO(os.urandom(self.size)), BUCKET, KEY,
                          Config=TransferConfig(max_concurrency=4))

    # --- the sections -------------------------------------------------------------------
    def add_s3_gateway_endpoint(self) -> None:
        ec2 = self.client("ec2")
        self.say(f"[VPC] aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id "
                 f"{self.ids['vpc']} --service-name com.amazonaws.{REGION}.s3 "
                 f"--route-table-ids {self.ids['private_table']}")
        endpoint = ec2.create_vpc_endpoint(
            VpcEndpointType="Gateway", VpcId=self.ids["vpc"],
            ServiceName=f"com.amazonaws.{REGION}.s3",
            RouteTableIds=[self.ids["private_table"]])["VpcEndpoint"]["VpcEndpointId"]
        wait_for(lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])[
            "VpcEndpoints"][0]["State"] == "available", "the gateway endpoint available")
        self.ids["s3_gateway"] = endpoint
        self.say(f"    {endpoint}: available; the private table keeps 0.0.0.0/0 -> "
                 f"{self.ids['nat']}, S3's prefix list now goes to {endpoint}")

    def copy(self) -> Copy:
        """``aws s3 cp`` of the object inside the instance, counted by ``wc -c``."""
        started = time.monotonic()
        answer = self.run("bash", "-o", "pipefail", "-c",
                          f"aws s3 cp s3://{BUCKET}/{KEY} - | wc -c", timeout=600)
        return Copy(answer, time.monotonic() - started)

    def run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """``command`` inside the instance, with the region and the account's keys (what an
        instance profile would give it) and one attempt per call."""
        return subprocess.run(
            [sys.executable, "-m", "pocketlink", "exec", self.ids["instance"], "--", "env",
             f"AWS_DEFAULT_REGION={REGION}", f"AWS_ACCESS_KEY_ID={ACCOUNT}",
             "AWS_SECRET_ACCESS_KEY=seed", "AWS_MAX_ATTEMPTS=1", *command],
            capture_output=True, text=True, timeout=timeout)

    def cost(self, state: str, since: int) -> subprocess.CompletedProcess:
        """``pocketlink cost`` of the daemon of ``state`` since ``since`` (epoch seconds)."""
        moment = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return subprocess.run([sys.executable, "-m", "pocketlink", "cost", "--state", state,
                               "--since", moment], capture_output=True, text=True, timeout=60)

    # --- what CloudWatch says -------------------------------------------------------------
    def nat_metric(self, name: str = "BytesInFromDestination") -> int:
        """The NAT gateway's ``name`` (AWS/NATGateway), its Sum over the last three hours,
        by GetMetricStatistics."""
        now = datetime.now(UTC)
        points = self.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/NATGateway", MetricName=name, Statistics=["Sum"], Period=60,
            Dimensions=[{"Name": "NatGatewayId", "Value": self.ids["nat"]}],
            StartTime=now - timedelta(hours=3), EndTime=now + timedelta(minutes=1))
        return int(sum(point["Sum"] for point in points["Datapoints"]))

    def settled_nat_metric(self, name: str = "BytesInFromDestination") -> int:
        """``nat_metric(name)`` once the sampler has put down every second of the traffic:
        two reads ``SETTLE`` seconds apart agree."""
        last = [self.nat_metric(name)]

        def settled() -> bool:
            time.sleep(SETTLE)
            now = self.nat_metric(name)
            same, last[0] = now == last[0], now
            return same

        wait_for(settled, f"{name} settled", timeout=60, every=0)
        return last[0]
