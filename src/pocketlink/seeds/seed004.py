"""Seed 004, step by step: an application in a PRIVATE_ISOLATED subnet (no internet, no NAT)
reaching AWS services only through interface endpoints with private DNS.

The seed runs ECS on Fargate in ap-northeast-1 with interface endpoints for ecr.api,
ecr.dkr, logs, secretsmanager, ssm and ssmmessages, and an S3 gateway endpoint. Here the
application is an instance with an instance profile, calling the services with the real AWS
CLI, its credentials from the instance metadata service and no ``--endpoint-url``:

- with no endpoint each call times out, as the seed's ResourceInitializationError says;
- with the seed's endpoints (private DNS on) the same calls succeed, over verified TLS;
- an endpoint policy that denies ``ssm:GetParameter`` turns that call into AccessDenied;
- the task's image: pushed on the host to ECR (``skopeo copy`` through ``localhost:4566``),
  pulled inside the instance with ``aws ecr get-login-password`` and ``skopeo copy`` from
  ``ACCOUNT.dkr.ecr.REGION.amazonaws.com``: the token needs ecr.api, the manifest ecr.dkr
  and the layers S3 (ECR redirects each layer download to its S3 bucket).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pocketlink.polling import wait_for
from pocketlink.seeds import images
from pocketlink.seeds.clients import seed_client

APP = "444444444444"
REGION = "ap-northeast-1"
ZONES = (f"{REGION}a", f"{REGION}c")
AMI = "ami-0c55b159cbfafe1f0"
INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "ssmmessages")
PARAMETER, PARAMETER_VALUE = "/app/db-host", "db.app.internal"
SECRET = "app/db"
LOG_GROUP, LOG_STREAM = "/app/web", "instance"
REPOSITORY, IMAGE_TAG = "app/web", "v1"
IMAGE_FILES = {"index.html": b"<h1>seed 004's task, pulled from ECR</h1>\n"}
IMAGE = f"{APP}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:{IMAGE_TAG}"
# A call that cannot connect gives up after one attempt of CONNECT_TIMEOUT seconds (the
# CLI's default is 60 s and five attempts): the demo shows the failure, not the wait.
CONNECT_TIMEOUT = 3
DENY_GET_PARAMETER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "ssm:GetParameter", "Resource": "*"},
    ],
}


@dataclass
class Seed004:
    endpoint: str
    say: Callable[[str], None] = print
    dual_stack: bool = False  # the seed's VPC is IPv4; the tests add IPv6 to it
    ids: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)

    def client(self, service: str):
        return seed_client(self.endpoint, service, APP, REGION)

    # --- the world ----------------------------------------------------------------------
    def build(self) -> None:
        ec2 = self.client("ec2")
        self.say("[App] a VPC with two PRIVATE_ISOLATED subnets (no internet gateway, no NAT)")
        made = ec2.create_vpc(CidrBlock="10.0.0.0/16",
                              AmazonProvidedIpv6CidrBlock=self.dual_stack)["Vpc"]
        vpc = made["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        sixes = list(ipaddress.IPv6Network(made["Ipv6CidrBlockAssociationSet"][0][
            "Ipv6CidrBlock"]).subnets(new_prefix=64)) if self.dual_stack else []
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{16 * i}.0/20",
                                     AvailabilityZone=zone,
                                     **({"Ipv6CidrBlock": str(sixes[i])} if sixes else {})
                                     )["Subnet"]["SubnetId"]
                   for i, zone in enumerate(ZONES)]
        app_group = ec2.create_security_group(GroupName="app", Description="the application",
                                              VpcId=vpc)["GroupId"]
        # The CDK's InterfaceVpcEndpoint opens its port to the VPC's CIDR (open: true).
        endpoint_group = ec2.create_security_group(
            GroupName="vpce", Description="interface endpoints", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
             "Ipv6Ranges": [{"CidrIpv6": str(sixes[0].supernet(new_prefix=56))}] if sixes else []}])
        self.say("[App] an IAM role for the instance, and its instance profile")
        iam = self.client("iam")
        iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))
        iam.create_instance_profile(InstanceProfileName="app")
        iam.add_role_to_instance_profile(InstanceProfileName="app", RoleName="app")
        self.say(f"[App] aws ssm put-parameter --name {PARAMETER}; aws secretsmanager "
                 f"create-secret --name {SECRET}; aws logs create-log-group --log-group-name "
                 f"{LOG_GROUP}")
        self.client("ssm").put_parameter(Name=PARAMETER, Value=PARAMETER_VALUE, Type="String")
        self.client("secretsmanager").create_secret(
            Name=SECRET, SecretString=json.dumps({"username": "app", "password": "s3cr3t"}))
        logs = self.client("logs")
        logs.create_log_group(logGroupName=LOG_GROUP)
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=LOG_STREAM)
        self.say("[App] aws ec2 run-instances --iam-instance-profile Name=app "
                 "--metadata-options HttpTokens=required (no public IP)")
        [instance] = ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnets[0],
            SecurityGroupIds=[app_group], IamInstanceProfile={"Name": "app"},
            MetadataOptions={"HttpTokens": "required"},
            Ipv6AddressCount=1 if self.dual_stack else 0)["Instances"]
        self.ids.update(vpc=vpc, subnets=",".join(subnets), endpoint_group=endpoint_group,
                        instance=instance["InstanceId"],
                        instance_ipv6=instance.get("Ipv6Address", ""))
        wait_for(lambda: ec2.describe_instances(InstanceIds=[instance["InstanceId"]])[
            "Reservations"][0]["Instances"][0]["State"]["Name"] == "running", "the app running")
        route_tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
        self.ids["route_table"] = route_tables["RouteTables"][0]["RouteTableId"]

    # --- the sections -------------------------------------------------------------------
    def create_endpoints(self, services: tuple[str, ...] = INTERFACE_SERVICES,
                         s3_gateway: bool = True) -> None:
        ec2 = self.client("ec2")
        for short in services:
            name = f"com.amazonaws.{REGION}.{short}"
            self.say(f"[App] aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface "
                     f"--service-name {name} --private-dns-enabled")
            endpoint = ec2.create_vpc_endpoint(
                VpcEndpointType="Interface", VpcId=self.ids["vpc"], ServiceName=name,
                SubnetIds=self.ids["subnets"].split(","),
                SecurityGroupIds=[self.ids["endpoint_group"]],
                PrivateDnsEnabled=True, **self._endpoint_options(short))["VpcEndpoint"]
            self.endpoints[short] = endpoint["VpcEndpointId"]
        if s3_gateway:
            self.say(f"[App] aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway "
                     f"--service-name com.amazonaws.{REGION}.s3 --route-table-ids ...")
            gateway = ec2.create_vpc_endpoint(
                VpcEndpointType="Gateway", VpcId=self.ids["vpc"],
                ServiceName=f"com.amazonaws.{REGION}.s3",
                RouteTableIds=[self.ids["route_table"]])["VpcEndpoint"]
            self.endpoints["s3-gateway"] = gateway["VpcEndpointId"]
        ids = list(self.endpoints.values())
        wait_for(lambda: all(e["State"] == "available" for e in ec2.describe_vpc_endpoints(
            VpcEndpointIds=ids)["VpcEndpoints"]), "the endpoints available")
        self.say(f"    {len(ids)} endpoints available")

    def _endpoint_options(self, short: str) -> dict:
        options: dict = {}
        if self.dual_stack:
            options.update(IpAddressType="dualstack", DnsOptions={"DnsRecordIpType": "dualstack"})
        if short == "s3":  # S3's names inside the VPC go to the interface endpoint, not
            # to the gateway endpoint beside it
            options.setdefault("DnsOptions", {})["PrivateDnsOnlyForInboundResolverEndpoint"] = False
        return options

    def deny_get_parameter(self) -> None:
        self.say("[App] aws ec2 modify-vpc-endpoint --vpc-endpoint-id "
                 f"{self.endpoints['ssm']} --policy-document "
                 "'{... \"Effect\": \"Deny\", \"Action\": \"ssm:GetParameter\" ...}'")
        self.client("ec2").modify_vpc_endpoint(VpcEndpointId=self.endpoints["ssm"],
                                               PolicyDocument=json.dumps(DENY_GET_PARAMETER))

    # --- inside the application's instance -------------------------------------------------
    def aws(self, *arguments: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """The AWS CLI inside the instance: no endpoint URL, no keys, the default region
        only (as an application's configuration would give it)."""
        return self.run("aws", "--cli-connect-timeout", str(CONNECT_TIMEOUT), *arguments,
                        timeout=timeout)

    def run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """``command`` inside the instance, with the region set and one attempt per call."""
        return subprocess.run([sys.executable, "-m", "pocketlink", "exec", self.ids["instance"],
                               "--", "env", f"AWS_DEFAULT_REGION={REGION}", "AWS_MAX_ATTEMPTS=1",
                               *command], capture_output=True, text=True, timeout=timeout)

    def calls(self) -> list[tuple[str, subprocess.CompletedProcess]]:
        """The application's three calls, as the seed's task makes them at start."""
        commands = [
            ("aws ssm get-parameter", ("ssm", "get-parameter", "--name", PARAMETER,
                                       "--query", "Parameter.Value", "--output", "text")),
            ("aws secretsmanager get-secret-value",
             ("secretsmanager", "get-secret-value", "--secret-id", SECRET,
              "--query", "SecretString", "--output", "text")),
            ("aws logs put-log-events", ("logs", "put-log-events", "--log-group-name", LOG_GROUP,
                                         "--log-stream-name", LOG_STREAM, "--log-events",
                                         f"timestamp={int(time.time() * 1000)},message=started")),
        ]
        return [(shown, self.aws(*arguments)) for shown, arguments in commands]

    # --- the task's image ------------------------------------------------------------------
    def push_image(self, folder: Path) -> subprocess.CompletedProcess:
        """On the host: the repository, then the image built in ``folder`` pushed to it."""
        self.say(f"[App] aws ecr create-repository --repository-name {REPOSITORY}; skopeo "
                 f"copy oci:... docker://localhost:4566/{REPOSITORY}:{IMAGE_TAG} (on the host)")
        ecr = self.client("ecr")
        ecr.create_repository(repositoryName=REPOSITORY)
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = base64.b64decode(token).decode().partition(":")[2]
        layout = images.oci_layout(folder, IMAGE_FILES, IMAGE_TAG)
        return images.push(layout, IMAGE_TAG, self.endpoint, REPOSITORY, password)

    def pull_image(self) -> subprocess.CompletedProcess:
        """Inside the instance, as the task's agent pulls: the token, the manifest, the
        layers; then the image's index.html, read from its layer."""
        return self.run("sh", "-c", "rm -rf /tmp/image && " + images.pull_command(
            IMAGE, "/tmp/image", f"--cli-connect-timeout {CONNECT_TIMEOUT}") +
            " >/dev/null && " + images.read_command("/tmp/image", "index.html"))
