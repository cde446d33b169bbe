"""The console's pages against an API-only daemon: each page shows what the API answers
(and nothing of another account), an API error shows in the page with the form kept, the
switcher changes account, strict auth asks for a key, a form from another site is refused,
and an endpoint's status turns available in the list without a reload."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from pocketlink.harness import _OPENER
from pocketlink.polling import wait_for
from tests.console.conftest import STRICT_KEYS, console_url, detail, new_account

AMI = "ami-0123456789abcdef0"
# Zones by id: an account's zone names map to ids of its own, as at AWS.
ZONE_IDS = ("use1-az1", "use1-az2")


def fetch(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def provider_world(daemon, account: str) -> dict:
    """A VPC with two subnets, an internal NLB with a listener and target group, an
    instance, and an endpoint service, made with the API."""
    ec2, elbv2 = daemon.client("ec2", account), daemon.client("elbv2", account)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                 AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
               for n, zone in enumerate(ZONE_IDS)]
    [balancer] = elbv2.create_load_balancer(Name=f"nlb-{account[-6:]}", Type="network",
                                            Scheme="internal", Subnets=subnets)["LoadBalancers"]
    [group] = elbv2.create_target_group(Name=f"tg-{account[-6:]}", Protocol="TCP", Port=80,
                                        VpcId=vpc, TargetType="ip")["TargetGroups"]
    elbv2.register_targets(TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": "10.0.0.10"}])
    elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="TCP", Port=80,
                          DefaultActions=[{"Type": "forward",
                                           "TargetGroupArn": group["TargetGroupArn"]}])
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                   SubnetId=subnets[0])["Instances"]
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]])["ServiceConfiguration"]
    [sg] = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    return {"vpc": vpc, "subnets": subnets, "balancer": balancer["LoadBalancerName"],
            "group": group["TargetGroupName"], "instance": instance["InstanceId"],
            "service": service["ServiceId"], "service_name": service["ServiceName"],
            "sg": sg["GroupId"]}


def consumer_subnet(daemon, world: dict, provider: str, consumer: str,
                    cidr: str = "10.1.0.0/16") -> tuple:
    """``consumer`` allowed on the provider's service, and a VPC of its own with one subnet
    (the VPC's first /24): its EC2 client, the VPC and the subnet."""
    daemon.client("ec2", provider).modify_vpc_endpoint_service_permissions(
        ServiceId=world["service"], AddAllowedPrincipals=[f"arn:aws:iam::{consumer}:root"])
    theirs = daemon.client("ec2", consumer)
    vpc = theirs.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = theirs.create_subnet(VpcId=vpc, CidrBlock=cidr.replace(".0.0/16", ".0.0/24"),
                                  AvailabilityZoneId=ZONE_IDS[0])["Subnet"]["SubnetId"]
    return theirs, vpc, subnet


def test_every_page_shows_what_the_api_answers_and_an_unknown_page_is_a_404(console_daemon):
    account, other = new_account(), new_account()
    world = provider_world(console_daemon, account)
    stacks = console_daemon.client("cloudformation", account)
    stacks.create_stack(StackName="console-stack", TemplateBody=json.dumps({"Resources": {
        "Net": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.5.0.0/16"}}}}))
    wait_for(lambda: stacks.describe_stacks(StackName="console-stack")["Stacks"][0][
        "StackStatus"] == "CREATE_COMPLETE", "the stack created")
    [resource] = stacks.describe_stack_resources(StackName="console-stack")["StackResources"]
    [table] = console_daemon.client("ec2", account).describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [world["vpc"]]}])["RouteTables"]
    zone = console_daemon.client("route53", account).create_hosted_zone(
        Name="console-pages.example.com", CallerReference=account)["HostedZone"]["Id"]
    pages = {"": "Console home", "vpc/vpcs": world["vpc"], f"vpc/vpcs/{world['vpc']}":
             world["subnets"][0], "vpc/subnets": world["subnets"][1],
             f"vpc/subnets/{world['subnets'][0]}": ZONE_IDS[0], "vpc/route-tables": world["vpc"],
             "vpc/security-groups": world["sg"], f"vpc/security-groups/{world['sg']}": "Inbound rules",
             f"vpc/route-tables/{table['RouteTableId']}": "local",
             "vpc/endpoint-services": world["service_name"],
             f"vpc/endpoint-services/{world['service']}?tab=connections": "No endpoint connections",
             f"vpc/endpoint-services/{world['service']}": "Domain verification status",
             f"vpc/endpoint-services/{world['service']}?tab=principals": "No principals allowed",
             "vpc/endpoint-services/create": world["balancer"],
             "ec2/instances": world["instance"], f"ec2/instances/{world['instance']}":
             f"pocketlink exec -it {world['instance']}",
             "ec2/load-balancers": world["balancer"],
             f"ec2/load-balancers/{world['balancer']}": "TCP:80", "ec2/target-groups": world["group"],
             f"ec2/target-groups/{world['group']}": "10.0.0.10",
             "route53/hosted-zones": "console-pages.example.com",
             f"route53/hosted-zones/{zone.rsplit('/', 1)[-1]}": "Create record",
             "cloudformation/stacks": "console-stack",
             "cloudformation/stacks/console-stack": "CREATE_COMPLETE",
             "cloudformation/stacks/console-stack?tab=events": resource["LogicalResourceId"],
             "cloudformation/stacks/console-stack?tab=resources": resource["PhysicalResourceId"],
             "vpc/endpoints": "No endpoints found"}
    for path, shown in pages.items():
        sep = "&" if "?" in path else "?"
        status, body = fetch(console_url(console_daemon, f"{path}{sep}account={account}"))
        assert status == 200, (path, body[-500:])
        assert shown in body, path
        assert 'role="alert"' not in body, path
        # Nothing loaded from elsewhere: no CDN, every script and style sheet pocketlink's.
        assert not re.search(r'(?:src|href)="(?:https?:)?//', body), path
    with _OPENER.open(console_url(console_daemon, f"vpc/vpcs?account={account}"),
                      timeout=30) as response:
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    # The instance's page: Connect's command (above) and its system log (GetConsoleOutput).
    status, body = fetch(console_url(console_daemon,
                                     f"ec2/instances/{world['instance']}?account={account}"))
    assert "<h2>Get system log</h2>" in body and '<pre class="log"' in body
    # The other account sees none of it: the console asks the API with that account's key.
    status, body = fetch(console_url(console_daemon, f"vpc/vpcs?account={other}"))
    assert status == 200 and world["vpc"] not in body
    status, body = fetch(console_url(console_daemon, f"vpc/vpcs/{world['vpc']}?account={other}"))
    assert status == 400 and "InvalidVpcID.NotFound" in body and 'role="alert"' in body
    status, body = fetch(console_url(console_daemon, "vpc/no-such-page"))
    assert status == 404 and "<h1>Page not found</h1>" in body
    status, body = fetch(console_url(console_daemon, "static/console.js"))
    assert status == 200 and "data-live" in body


def test_a_form_from_another_site_is_refused(console_daemon):
    account = new_account()
    ec2 = console_daemon.client("ec2", account)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    form = b"direction=inbound&protocol=tcp&ports=22&peer=0.0.0.0%2F0&description="
    target = console_url(console_daemon, f"vpc/security-groups/{group}/authorize?account={account}")
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}):
        status, body = fetch(target, form, headers)
        assert status == 403 and "refused" in body, headers
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert rules == []
    fetch(target, form, {"Origin": console_daemon.endpoint})  # the console's own page's
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert rules[0]["FromPort"] == 22


def test_an_api_error_shows_in_the_page_and_the_form_is_kept(console_daemon, open_console):
    account = new_account()
    world = provider_world(console_daemon, account)
    page = open_console(console_daemon, account, f"vpc/security-groups/{world['sg']}")
    page.get_by_label("Port range").fill("443")
    page.get_by_label("Source").fill("10.0.0.0/33")
    page.get_by_role("button", name="Add inbound rule").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("InvalidParameterValue")
    expect(alert).to_contain_text("10.0.0.0/33")
    expect(page.get_by_label("Source")).to_have_value("10.0.0.0/33")
    expect(page.get_by_label("Port range")).to_have_value("443")
    # The same form, right: the rule is there, and Delete removes it.
    page.get_by_label("Source").fill("10.0.0.0/16")
    page.get_by_role("button", name="Add inbound rule").click()
    expect(page.get_by_role("status")).to_contain_text("Added an inbound rule")
    expect(page.get_by_role("table", name=re.compile("Inbound rules"))).to_contain_text("10.0.0.0/16")
    page.get_by_role("row").filter(has_text="10.0.0.0/16").get_by_role("button",
                                                                       name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted rule")
    expect(page.get_by_role("table", name=re.compile("Inbound rules"))).not_to_contain_text(
        "10.0.0.0/16")

    # An endpoint service of a load balancer that does not exist: the API's refusal.
    page.goto(console_url(console_daemon, "vpc/endpoint-services/create"))
    missing = (f"arn:aws:elasticloadbalancing:us-east-1:{account}:loadbalancer/net/"
               "missing/0123456789abcdef")
    page.get_by_label("Or a load balancer ARN").fill(missing)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("InvalidParameter")
    expect(page.get_by_label("Or a load balancer ARN")).to_have_value(missing)
    # Find service by name, Verify service: a name that is no service.
    page.goto(console_url(console_daemon, "vpc/endpoints/create"))
    page.get_by_label("Endpoint services that use NLBs and GWLBs").check()
    page.get_by_label("Service name").fill("com.amazonaws.vpce.us-east-1.vpce-svc-0000000000000000f")
    page.get_by_role("button", name="Verify service").click()
    expect(page.get_by_role("alert")).to_contain_text("InvalidServiceName")


def test_the_switcher_changes_account(console_daemon, open_console):
    first, second = new_account(), new_account()
    mine = console_daemon.client("ec2", first).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    theirs = console_daemon.client("ec2", second).create_vpc(
        CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    page = open_console(console_daemon, first, "vpc/vpcs")
    table = page.get_by_role("table", name=re.compile("VPCs"))
    expect(table).to_contain_text(mine)
    expect(table).not_to_contain_text(theirs)
    page.get_by_label("Account", exact=True).fill(second)
    page.get_by_label("Region", exact=True).select_option("us-east-1")
    page.get_by_role("button", name="Switch").click()
    expect(table).to_contain_text(theirs)
    expect(table).not_to_contain_text(mine)
    page.goto(console_url(console_daemon, "vpc/vpcs"))  # the cookie keeps the choice
    expect(page.get_by_label("Account", exact=True)).to_have_value(second)
    expect(table).to_contain_text(theirs)
    page.get_by_label("Region", exact=True).select_option("eu-west-1")
    page.get_by_role("button", name="Switch").click()
    expect(table).not_to_contain_text(theirs)


def test_strict_auth_asks_for_a_key(strict_daemon, open_console):
    key, (secret, account) = next(iter(STRICT_KEYS.items()))
    vpc = strict_daemon.client("ec2", access_key=key, secret=secret).create_vpc(
        CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    page = open_console(strict_daemon, None, "vpc/vpcs")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Access key ID").fill(key)
    page.get_by_label("Secret access key").fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("SignatureDoesNotMatch")
    page.get_by_label("Secret access key").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text(f"Signed in as account {account}")
    cookie = next(c for c in page.context.cookies() if c["name"] == "pocketlink_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.goto(console_url(strict_daemon, "vpc/vpcs?account=222222222222"))  # not a key
    expect(page.get_by_role("table", name=re.compile("VPCs"))).to_contain_text(vpc)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_endpoint_list_turns_available_without_a_reload(console_daemon, open_console):
    provider, consumer = new_account(), new_account()
    world = provider_world(console_daemon, provider)
    theirs, vpc, subnet = consumer_subnet(console_daemon, world, provider, consumer)
    endpoint = theirs.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vpc,
                                          ServiceName=world["service_name"],
                                          SubnetIds=[subnet])["VpcEndpoint"]["VpcEndpointId"]
    page = open_console(console_daemon, consumer, "vpc/endpoints")
    badge = page.locator(f'[data-status-key="{endpoint}"]')
    expect(badge).to_have_text("pendingAcceptance")
    page.evaluate("window.notReloaded = true")
    console_daemon.client("ec2", provider).accept_vpc_endpoint_connections(
        ServiceId=world["service"], VpcEndpointIds=[endpoint])
    wait_for(lambda: theirs.describe_vpc_endpoints(
        VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["State"] == "available", "available")
    expect(badge).to_have_text("available")
    expect(badge).to_have_attribute("aria-live", "polite")
    assert page.evaluate("window.notReloaded") is True


def test_endpoints_to_aws_services_from_the_list(console_daemon, open_console):
    """Seed 003's console steps: an S3 gateway endpoint on a route table, and an SSM
    interface endpoint with private DNS (on by default for an AWS service, as AWS's)."""
    account = new_account()
    ec2 = console_daemon.client("ec2", account)
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.1.0/24",
                               AvailabilityZoneId=ZONE_IDS[0])["Subnet"]
    [table] = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    page = open_console(console_daemon, account, "vpc/endpoints/create")

    page.get_by_label("com.amazonaws.us-east-1.s3 Gateway", exact=True).check()
    page.get_by_label("VPC", exact=True).select_option(vpc)
    page.get_by_label(re.compile(table["RouteTableId"])).check()
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Created VPC endpoint")
    gateway = detail(page, "Endpoint ID")
    [made] = ec2.describe_vpc_endpoints(VpcEndpointIds=[gateway])["VpcEndpoints"]
    assert made["VpcEndpointType"] == "Gateway" and made["RouteTableIds"] == [table["RouteTableId"]]

    page.goto(console_url(console_daemon, "vpc/endpoints/create"))
    page.get_by_label("Filter services").fill("ssm")  # the list narrows as one types
    expect(page.get_by_label("com.amazonaws.us-east-1.s3 Gateway", exact=True)).to_be_hidden()
    page.get_by_label("com.amazonaws.us-east-1.ssm Interface", exact=True).check()
    expect(page.get_by_label("Enable DNS name")).to_be_checked()
    page.get_by_label("VPC", exact=True).select_option(vpc)
    zone = page.get_by_label(re.compile(ZONE_IDS[0]))
    expect(zone).to_contain_text(subnet["SubnetId"])
    zone.select_option(subnet["SubnetId"])
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Created VPC endpoint")
    [made] = ec2.describe_vpc_endpoints(
        VpcEndpointIds=[detail(page, "Endpoint ID")])["VpcEndpoints"]
    assert made["VpcEndpointType"] == "Interface" and made["PrivateDnsEnabled"] is True
    assert made["SubnetIds"] == [subnet["SubnetId"]]

    # Manage subnets: a second zone's subnet added (ModifyVpcEndpoint AddSubnetIds).
    second = ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.2.0/24",
                               AvailabilityZoneId=ZONE_IDS[1])["Subnet"]
    page.get_by_role("link", name="Subnets", exact=True).last.click()
    page.get_by_label(second["AvailabilityZone"], exact=True).select_option(second["SubnetId"])
    page.get_by_role("button", name="Modify subnets").click()
    expect(page.get_by_role("status")).to_contain_text("Modified the subnets")
    [made] = ec2.describe_vpc_endpoints(VpcEndpointIds=[made["VpcEndpointId"]])["VpcEndpoints"]
    assert sorted(made["SubnetIds"]) == sorted([subnet["SubnetId"], second["SubnetId"]])
    expect(page.get_by_role("table", name=re.compile("Subnets"))).to_contain_text(
        second["SubnetId"])



def test_a_custom_policy_a_rejected_connection_and_the_services_settings(console_daemon,
                                                                          open_console):
    """What seed 000's flow does not click: the policy editor (refused by the API for an
    endpoint service, taken for S3's gateway endpoint), the consumer's Modify IP address
    type and the provider's supported IP address types (both refused here, in the page in
    the API's words: the NLB is IPv4 only), the provider's Reject, the acceptance
    setting."""
    provider, consumer = new_account(), new_account()
    world = provider_world(console_daemon, provider)
    theirs, vpc, subnet = consumer_subnet(console_daemon, world, provider, consumer)
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": "*"}]}

    page = open_console(console_daemon, consumer, "vpc/endpoints/create")
    page.get_by_label("Endpoint services that use NLBs and GWLBs").check()
    page.get_by_label("Service name").fill(world["service_name"])
    page.get_by_role("button", name="Verify service").click()
    expect(page.get_by_text("Service name verified.")).to_be_visible()
    page.get_by_label("VPC", exact=True).select_option(vpc)
    zone = page.get_by_label(re.compile(ZONE_IDS[0]))
    expect(zone).to_contain_text(subnet)  # the chosen VPC's subnets, once the form is redrawn
    zone.select_option(subnet)
    page.get_by_label("Custom", exact=True).check()
    page.get_by_label("Policy document").fill(json.dumps(policy))
    page.get_by_role("button", name="Create endpoint").click()
    # As at AWS, an endpoint service of one's own takes no endpoint policy.
    expect(page.get_by_role("alert")).to_contain_text("VPC endpoint policies are not supported")
    page.get_by_label("Full access", exact=True).check()
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Created VPC endpoint")
    endpoint = detail(page, "Endpoint ID")
    page.get_by_label("IPv6", exact=True).check()
    page.get_by_role("form", name="Modify IP address type").get_by_role(
        "button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("InvalidParameter")

    mine = open_console(console_daemon, provider, f"vpc/endpoint-services/{world['service']}")
    mine.get_by_role("link", name="Endpoint connections").click()
    row = mine.get_by_role("row").filter(has_text=endpoint)
    row.get_by_role("button", name="Reject endpoint connection request").click()
    expect(mine.get_by_role("status")).to_contain_text(f"Rejected the connection request of "
                                                       f"{endpoint}")
    assert theirs.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0][
        "State"] == "rejected"
    mine.get_by_role("link", name="Details").click()
    settings = mine.get_by_role("form", name="Modify supported IP address types")
    settings.get_by_label("IPv6", exact=True).check()
    settings.get_by_role("button", name="Save changes").click()
    # The NLB is IPv4 only: the API refuses, and says what to do.
    expect(mine.get_by_role("alert")).to_contain_text("does not support IPv6")
    acceptance = mine.get_by_role("form", name="Modify endpoint acceptance setting")
    acceptance.get_by_label("Acceptance required").uncheck()
    acceptance.get_by_role("button", name="Save changes").click()
    expect(mine.get_by_role("status")).to_contain_text("Modified the endpoint acceptance setting")
    [service] = console_daemon.client("ec2", provider).describe_vpc_endpoint_service_configurations(
        ServiceIds=[world["service"]])["ServiceConfigurations"]
    assert service["SupportedIpAddressTypes"] == ["ipv4"]
    assert service["AcceptanceRequired"] is False

    # The policy editor, to an AWS service: S3's gateway endpoint with a custom policy.
    [table] = theirs.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    page.goto(console_url(console_daemon, "vpc/endpoints/create"))
    page.get_by_label("com.amazonaws.us-east-1.s3 Gateway", exact=True).check()
    page.get_by_label("VPC", exact=True).select_option(vpc)
    page.get_by_label(re.compile(table["RouteTableId"])).check()
    page.get_by_label("Custom", exact=True).check()
    page.get_by_label("Policy document").fill(json.dumps(policy))
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Created VPC endpoint")
    [made] = theirs.describe_vpc_endpoints(
        VpcEndpointIds=[detail(page, "Endpoint ID")])["VpcEndpoints"]
    assert json.loads(made["PolicyDocument"]) == policy


def test_reachability_analyzer_names_the_failing_hop_then_finds_the_path(console_daemon,
                                                                          open_console):
    """``pocketlink diagnose``'s walk as a console action: Create and analyze path
    (CreateNetworkInsightsPath, StartNetworkInsightsAnalysis), the first failing hop's
    explanation code, the rule added, Analyze path again: reachable."""
    account = new_account()
    world = provider_world(console_daemon, account)
    ec2 = console_daemon.client("ec2", account)
    closed = ec2.create_security_group(GroupName="closed", Description="no inbound rule",
                                       VpcId=world["vpc"])["GroupId"]
    [target] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                 SubnetId=world["subnets"][1],
                                 SecurityGroupIds=[closed])["Instances"]
    page = open_console(console_daemon, account, "vpc/network-insights")
    page.get_by_label("Destination", exact=True).fill("sg-0123456789abcdef0")  # no such kind
    page.get_by_label("Destination port").fill("80")
    page.get_by_role("button", name="Create and analyze path").click()
    expect(page.get_by_role("alert")).to_contain_text("InvalidParameterValue")
    expect(page.get_by_label("Destination", exact=True)).to_have_value("sg-0123456789abcdef0")

    page.get_by_label("Source (instance)").select_option(world["instance"])
    page.get_by_label("Destination", exact=True).fill(target["InstanceId"])
    page.get_by_role("button", name="Create and analyze path").click()
    expect(page.get_by_role("status")).to_contain_text("Created and analyzed path")
    assert detail(page, "Reachability status") == "Not reachable"
    explanations = page.get_by_role("table", name=re.compile("Explanations"))
    expect(explanations).to_contain_text("ENI_SG_RULES_MISMATCH")
    expect(explanations).to_contain_text(closed)

    ec2.authorize_security_group_ingress(GroupId=closed, IpProtocol="tcp", FromPort=80,
                                         ToPort=80, CidrIp="10.0.0.0/16")
    page.get_by_role("button", name="Analyze path").click()
    expect(page.get_by_role("status")).to_contain_text("Analyzed path")
    assert detail(page, "Reachability status") == "Reachable"
    components = page.get_by_role("table", name=re.compile("Path components"))
    expect(components.get_by_role("row").filter(has_text=closed)).to_contain_text(
        "ingress tcp/80")
    page.get_by_role("link", name="Reachability Analyzer").first.click()
    expect(page.get_by_role("table", name=re.compile("Paths"))).to_contain_text("Reachable")


def test_every_field_has_a_label_and_the_keyboard_reaches_it(console_daemon, open_console):
    account = new_account()
    world = provider_world(console_daemon, account)
    for path in ("vpc/endpoints/create", f"vpc/security-groups/{world['sg']}",
                 "vpc/network-insights",
                 "vpc/endpoint-services/create", f"vpc/endpoint-services/{world['service']}"):
        page = open_console(console_daemon, account, path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')].filter(
            (field) => !field.labels.length).map((field) => field.outerHTML)""")
        assert unlabelled == [], (path, unlabelled)
        headers = page.evaluate("""() => [...document.querySelectorAll('th')].filter(
            (cell) => !cell.getAttribute('scope')).length""")
        assert headers == 0, path
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")  # from <main>: the page's own first control, not the menu
        inside = page.evaluate("document.querySelector('main').contains(document.activeElement)")
        assert inside, path


def test_a_unicode_digit_in_a_form_is_the_apis_error_not_a_500(console_daemon):
    """Only ASCII digits are a number (str.isdigit takes '²', which int() refuses)."""
    account = new_account()
    ec2 = console_daemon.client("ec2", account)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    origin = {"Origin": console_daemon.endpoint}
    for ports in ("%C2%B2", "22-%C2%B2", "-%C2%B2"):
        form = (f"direction=inbound&protocol=tcp&ports={ports}&peer=0.0.0.0%2F0"
                "&description=").encode()
        status, _ = fetch(console_url(
            console_daemon, f"vpc/security-groups/{group}/authorize?account={account}"),
            form, origin)
        assert status < 500, ports
    zone = console_daemon.client("route53", account).create_hosted_zone(
        Name="digits.example.com", CallerReference="digits")["HostedZone"]["Id"].split("/")[-1]
    status, body = fetch(console_url(console_daemon, f"route53/hosted-zones/{zone}/records"
                                                  f"?account={account}"),
                      b"name=www.digits.example.com&type=A&ttl=%C2%B2&value=192.0.2.1", origin)
    assert status == 200 and "InvalidInput" in body, body[-2000:]  # the zone's page, saying why
