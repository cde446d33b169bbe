"""The console's screenshots (docs/console/*.png): the endpoint list, an endpoint's
details, an endpoint service's Endpoint connections tab, Create endpoint with a service
found by name, and the VPC list, taken by Debian's chromium driven by Playwright.

The world is seed 000's PrivateLink part on an API-only daemon of its own (``--no-network``,
started on free loopback ports, stopped by its pid): the provider's VPC, subnets, an
instance and an internal NLB behind an endpoint service with a private DNS name; the
consumer's VPC and three endpoints (one accepted, two waiting). ``scripts/console-screenshots``
runs it; ``--out DIR`` to write elsewhere.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import Daemon
from console_pages import ZONE_IDS
from playwright.sync_api import sync_playwright

PROVIDER, CONSUMER = "111111111111", "222222222222"
AMI = "ami-0c55b159cbfafe1f0"
ROOT = "/_pocketlink/console"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def tag(name: str, kind: str) -> list[dict]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def build(daemon: Daemon) -> dict:
    ec2, elbv2 = daemon.client("ec2", PROVIDER), daemon.client("elbv2", PROVIDER)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True,
                         TagSpecifications=tag("provider", "vpc"))["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{128 + 16 * n}.0/20",
                                 AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
               for n, zone in enumerate(ZONE_IDS)]
    ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnets[0],
                      TagSpecifications=tag("httpd-plain", "instance"))
    [balancer] = elbv2.create_load_balancer(Name="seed-nlb", Type="network", Scheme="internal",
                                            Subnets=subnets)["LoadBalancers"]
    [group] = elbv2.create_target_group(Name="seed-plain", Protocol="TCP", Port=80, VpcId=vpc,
                                        TargetType="ip")["TargetGroups"]
    elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=80,
                          DefaultActions=[{"Type": "forward",
                                           "TargetGroupArn": group["TargetGroupArn"]}])
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]], AcceptanceRequired=True,
        PrivateDnsName="demoprivatelink.shiun.me",
        TagSpecifications=tag("seed-000", "vpc-endpoint-service"))["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{CONSUMER}:root"])
    consumer = daemon.client("ec2", CONSUMER)
    consumer_vpc = consumer.create_vpc(CidrBlock="10.0.0.0/16",
                                       TagSpecifications=tag("consumer", "vpc"))["Vpc"]["VpcId"]
    consumer.modify_vpc_attribute(VpcId=consumer_vpc, EnableDnsHostnames={"Value": True})
    consumer_subnets = [consumer.create_subnet(
        VpcId=consumer_vpc, CidrBlock=f"10.0.{128 + 16 * n}.0/20", AvailabilityZoneId=zone,
        TagSpecifications=tag(f"private-{n + 1}", "subnet"))["Subnet"]["SubnetId"]
        for n, zone in enumerate(ZONE_IDS)]
    endpoints = [consumer.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=consumer_vpc, ServiceName=service["ServiceName"],
        SubnetIds=consumer_subnets, TagSpecifications=tag(name, "vpc-endpoint"))[
        "VpcEndpoint"]["VpcEndpointId"] for name in ("shop", "shop-staging", "shop-test")]
    ec2.accept_vpc_endpoint_connections(ServiceId=service["ServiceId"],
                                        VpcEndpointIds=endpoints[:1])
    return {"service": service["ServiceId"], "service_name": service["ServiceName"],
            "endpoint": endpoints[0], "vpc": consumer_vpc}


def shoot(daemon: Daemon, world: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    base = f"{daemon.endpoint}{ROOT}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{base}/vpc/endpoints?account={CONSUMER}&region=us-east-1")
        page.screenshot(path=out / "endpoints.png")
        page.goto(f"{base}/vpc/endpoints/{world['endpoint']}")
        page.screenshot(path=out / "endpoint-details.png", full_page=True)
        page.goto(f"{base}/vpc/endpoints/create")
        page.get_by_label("Endpoint services that use NLBs and GWLBs").check()
        page.get_by_label("Service name").fill(world["service_name"])
        page.get_by_role("button", name="Verify service").click()
        page.get_by_text("Service name verified.").wait_for()
        page.get_by_label("VPC", exact=True).select_option(world["vpc"])
        page.get_by_label("IPv4", exact=True).wait_for()
        page.screenshot(path=out / "create-endpoint.png", full_page=True)
        page.goto(f"{base}/vpc/vpcs")
        page.screenshot(path=out / "vpcs.png")
        page.goto(f"{base}/vpc/endpoint-services/{world['service']}?tab=connections"
                  f"&account={PROVIDER}")
        page.screenshot(path=out / "endpoint-connections.png")
        context.close()
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "docs" / "console")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pocketlink-console-shots-") as folder:
        daemon = Daemon(state=Path(folder) / "state.db", log=Path(folder) / "daemon.log",
                        args=["--no-network"])
        daemon.start()
        try:
            shoot(daemon, build(daemon), args.out)
        finally:
            daemon.stop()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
