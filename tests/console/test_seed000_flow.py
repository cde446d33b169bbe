"""Seed 000 clicked through the console, in two accounts of one browser: the provider
creates the endpoint service and allows the consumer, the consumer finds it by name
(Verify service) and creates the interface endpoint, the provider accepts it in Endpoint
connections, names and verifies the private DNS name (its TXT record made in Route 53's
Create record), the consumer turns private DNS on; then ``curl`` from the consumer's
instance reaches the provider's httpd by the endpoint's DNS name and by the private name;
the provider's target group page shows its target turn healthy, and the NLB its listener.

The provider's network (VPC, subnets, httpd instance, NLB, listener, target group) and the
consumer's VPC and instance are made with the API, as the seed's prerequisites are; every
PrivateLink step is a click. Namespaces need root: skipped without it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from pocketlink.polling import wait_for
from pocketlink.seeds.httpd import httpd_user_data
from tests.conftest import settled
from tests.console.conftest import console_url, detail

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the network needs root")

PROVIDER, CONSUMER = "111111111111", "222222222222"
REGION = "us-west-2"
AMI = "ami-0c55b159cbfafe1f0"
ZONE_IDS = ("usw2-az1", "usw2-az2")
DOMAIN = "console-seed000.example.com"
PRIVATE_NAME = f"shop.{DOMAIN}"


def run_in(instance_id: str, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pocketlink", "exec", instance_id, "--",
                           *command], capture_output=True, text=True, timeout=60)


def curl_in(instance_id: str, url: str) -> str:
    done = run_in(instance_id, "curl", "-sS", "-m", "5", url)
    return done.stdout if done.returncode == 0 else ""


def provider_network(daemon) -> dict:
    ec2, elbv2 = daemon.client("ec2", PROVIDER, REGION), daemon.client("elbv2", PROVIDER, REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{128 + 16 * n}.0/20",
                                 AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
               for n, zone in enumerate(ZONE_IDS)]
    group = ec2.create_security_group(GroupName="httpd", Description="httpd targets",
                                      VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnets[0],
                                   SecurityGroupIds=[group], UserData=httpd_user_data())["Instances"]
    [balancer] = elbv2.create_load_balancer(Name="seed-nlb", Type="network", Scheme="internal",
                                            Subnets=subnets)["LoadBalancers"]
    # Health checks every 5 s, healthy after 2 (AWS's defaults, 30 s and 5, take minutes).
    [target_group] = elbv2.create_target_group(
        Name="seed-plain", Protocol="TCP", Port=80, VpcId=vpc, TargetType="instance",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2)["TargetGroups"]
    elbv2.register_targets(TargetGroupArn=target_group["TargetGroupArn"],
                           Targets=[{"Id": instance["InstanceId"]}])
    elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=80,
                          DefaultActions=[{"Type": "forward",
                                           "TargetGroupArn": target_group["TargetGroupArn"]}])
    route53 = daemon.client("route53", PROVIDER, REGION)
    zone = route53.create_hosted_zone(Name=DOMAIN, CallerReference=f"console-{time.time()}")
    assert settled(ec2, [instance["InstanceId"]], timeout=120)[instance["InstanceId"]] == "running"
    return {"vpc": vpc, "balancer": "seed-nlb", "instance": instance["InstanceId"],
            "zone": zone["HostedZone"]["Id"].rsplit("/", 1)[-1]}


def consumer_network(daemon) -> dict:
    ec2 = daemon.client("ec2", CONSUMER, REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.128.0/20",
                               AvailabilityZoneId=ZONE_IDS[0])["Subnet"]["SubnetId"]
    instance_group = ec2.create_security_group(GroupName="private-instance",
                                               Description="the private instance",
                                               VpcId=vpc)["GroupId"]
    endpoint_group = ec2.create_security_group(GroupName="vpce", Description="the endpoint",
                                               VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "UserIdGroupPairs": [{"GroupId": instance_group}]}])
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnet,
                                   SecurityGroupIds=[instance_group])["Instances"]
    assert settled(ec2, [instance["InstanceId"]], timeout=120)[instance["InstanceId"]] == "running"
    return {"vpc": vpc, "subnet": subnet, "group": endpoint_group,
            "instance": instance["InstanceId"]}


def test_seed_000_clicked_through_the_console(make_daemon, open_console):
    daemon = make_daemon()
    provider_world, consumer_world = provider_network(daemon), consumer_network(daemon)

    # [Provider] Create endpoint service: the NLB, acceptance required.
    provider = open_console(daemon, PROVIDER, "vpc/endpoint-services/create", region=REGION)
    provider.get_by_label(re.compile("^seed-nlb")).check()
    expect(provider.get_by_label("Acceptance required")).to_be_checked()
    provider.get_by_role("button", name="Create", exact=True).click()
    expect(provider.get_by_role("status")).to_contain_text("Created endpoint service")
    service_id = detail(provider, "Service ID")
    service_name = detail(provider, "Service name")
    assert service_name.endswith(service_id)

    # [Provider] Allow principals: the consumer's account.
    provider.get_by_role("link", name="Allow principals").click()
    provider.get_by_label("Principal ARN").fill(f"arn:aws:iam::{CONSUMER}:root")
    provider.get_by_role("button", name="Allow principals").click()
    expect(provider.get_by_role("table", name=re.compile("Allow principals"))).to_contain_text(
        f"arn:aws:iam::{CONSUMER}:root")

    # [Consumer] Create endpoint: find the service by name, Verify, VPC, subnet, group.
    consumer = open_console(daemon, CONSUMER, "vpc/endpoints/create", region=REGION)
    consumer.get_by_label("Endpoint services that use NLBs and GWLBs").check()
    consumer.get_by_label("Service name").fill(service_name)
    consumer.get_by_role("button", name="Verify service").click()
    expect(consumer.get_by_text("Service name verified.")).to_be_visible()
    consumer.get_by_label("VPC", exact=True).select_option(consumer_world["vpc"])
    zone = consumer.get_by_label(re.compile(ZONE_IDS[0]))
    expect(zone).to_contain_text(consumer_world["subnet"])  # the chosen VPC's subnets
    zone.select_option(consumer_world["subnet"])
    consumer.get_by_label(re.compile(consumer_world["group"])).check()
    consumer.get_by_label("IPv4", exact=True).check()
    consumer.get_by_role("button", name="Create endpoint").click()
    expect(consumer.get_by_role("status")).to_contain_text("Created VPC endpoint")
    endpoint_id = detail(consumer, "Endpoint ID")
    badge = consumer.locator(f'[data-status-key="{endpoint_id}"]')
    expect(badge).to_have_text("pendingAcceptance")

    # [Provider] Endpoint connections: accept; the consumer's page turns available by itself.
    provider.get_by_role("link", name="Endpoint connections").click()
    row = provider.get_by_role("row").filter(has_text=endpoint_id)
    expect(row).to_contain_text("pendingAcceptance")
    row.get_by_role("button", name="Accept endpoint connection request").click()
    expect(provider.get_by_role("status")).to_contain_text("Accepted the connection request")
    expect(badge).to_have_text("available", timeout=60_000)
    regional = consumer.locator("ul.plain code").first.inner_text()
    assert wait_for(lambda: "Hello World" in curl_in(consumer_world["instance"],
                                                     f"http://{regional}/"),
                    "curl through the endpoint", timeout=60)

    # [Provider] Modify private DNS name, its TXT record (Route 53's Create record), Verify.
    provider.get_by_role("link", name="Details").click()
    provider.get_by_role("textbox", name="Private DNS name").fill(PRIVATE_NAME)
    provider.get_by_role("form", name="Modify private DNS name").get_by_role(
        "button", name="Save changes").click()
    expect(provider.get_by_role("status")).to_contain_text("Modified the private DNS name")
    name, value = detail(provider, "Domain verification name"), \
        detail(provider, "Domain verification value")
    records = open_console(daemon, PROVIDER, f"route53/hosted-zones/{provider_world['zone']}",
                           region=REGION)
    records.get_by_label("Record name").fill(f"{name}.{PRIVATE_NAME}")
    records.get_by_label("Record type").select_option("TXT")
    records.get_by_label("Value").fill(f'"{value}"')
    records.get_by_role("button", name="Create records").click()
    expect(records.get_by_role("table", name=re.compile("Records"))).to_contain_text(value)
    provider.get_by_role("button", name="Verify").click()
    expect(provider.get_by_role("status")).to_contain_text("verification started")

    def verified() -> bool:
        provider.reload()
        return detail(provider, "Domain verification status") == "verified"
    assert wait_for(verified, "the private DNS name verified", timeout=60)

    # [Consumer] Modify private DNS name: on.
    consumer.get_by_label("Enable private DNS names").check()
    consumer.get_by_role("form", name="Modify private DNS name").get_by_role(
        "button", name="Save changes").click()
    expect(consumer.get_by_role("status")).to_contain_text("Modified the private DNS names")
    assert detail(consumer, "Private DNS names enabled") == "Yes"
    expect(badge).to_have_text("available", timeout=60_000)
    page = wait_for(lambda: curl_in(consumer_world["instance"], f"http://{PRIVATE_NAME}/"),
                    "curl by the private DNS name", timeout=60)
    assert "Hello World" in page

    # [Provider] The target group's health, kept current by the page; the NLB's listener.
    targets = open_console(daemon, PROVIDER, "ec2/target-groups/seed-plain", region=REGION)
    health = targets.locator(f'[data-status-key="{provider_world["instance"]}:80"]')
    expect(health).to_have_text("healthy", timeout=60_000)
    targets.goto(console_url(daemon, "ec2/load-balancers/seed-nlb"))
    expect(targets.get_by_role("table", name=re.compile("Listeners"))).to_contain_text(
        "Forward to seed-plain")
