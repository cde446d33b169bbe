"""Seed 002's template (src/pocketlink/seeds/seed002.yaml: the seed's text, its indentation
restored, its elided parts filled minimally: the group's sizes and subnets, the launch
template's image, type and a UserData starting the web server its security group opens
port 80 for, and only the three ingress rules the seed shows), whole: its ACM certificate
validated through the hosted zone given as a parameter, its TLS:443 listener serving it,
its Auto Scaling group launching from the launch template with IMDSv2 required. It
deploys into a VPC, subnets and hosted zone given as parameters, updates (a changed
listener port modifies; a changed target group Name replaces, and the group follows) and
deletes, leaving nothing behind (namespaces, instances, records), once its NLB's deletion
protection (the seed sets it) is lifted: until then the delete fails, saying so, as at
AWS."""

from __future__ import annotations

import os
import secrets

import pytest
from botocore.exceptions import WaiterError

from pocketlink.instances import processes
from pocketlink.network import names, netns
from pocketlink.polling import wait_for
from pocketlink.seeds import seed002
from pocketlink.seeds.seed002 import TEMPLATE

SEED = TEMPLATE
FAST = {"Delay": 1, "MaxAttempts": 300}
LISTENER_PORT = "      Port: 443\n"
GROUP_NAME = "      Name: !Sub endpointsrv-${Application}-tg-cf\n"


@pytest.fixture
def world(clients):
    """The seed's parameters: a VPC, three private subnets in three zones, a hosted zone."""
    ec2, route53 = clients("ec2"), clients("route53")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=zones[i])["Subnet"]["SubnetId"]
               for i in range(3)]
    domain = f"seed-{secrets.token_hex(3)}.example.com"
    zone = route53.create_hosted_zone(Name=domain, CallerReference=domain)["HostedZone"]
    return {"vpc": vpc, "subnets": subnets, "zone": zone["Id"].rsplit("/", 1)[-1],
            "domain": domain}


def parameters(world: dict) -> list[dict]:
    given = {"Application": "shop", "VpcId": world["vpc"],
             "PrivateSubnetIds": ",".join(world["subnets"]), "HostedZoneId": world["zone"],
             "HostedZoneDomainName": world["domain"], "LogBucketName": "shop-logs"}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]


def changed(port: int = 443, group_suffix: str = "") -> str:
    """The seed's text with its listener's port and its target group's name changed."""
    assert SEED.count(LISTENER_PORT) == 1 and SEED.count(GROUP_NAME) == 1
    return SEED.replace(LISTENER_PORT, f"      Port: {port}\n").replace(
        GROUP_NAME, GROUP_NAME.rstrip("\n") + group_suffix + "\n")


def test_seed_template_whole(cfn, clients, world, cfn_daemon):
    elbv2, ec2, acm = clients("elbv2"), clients("ec2"), clients("acm")
    route53, autoscaling = clients("route53"), clients("autoscaling")
    namespaces = netns.ours(str(cfn_daemon.state.resolve()))
    cfn.create_stack(StackName="seed", TemplateBody=SEED, Parameters=parameters(world))
    cfn.get_waiter("stack_create_complete").wait(StackName="seed", WaiterConfig=FAST)

    balancer = elbv2.describe_load_balancers(Names=["endpointsrv-shop-nlb-cfn"])[
        "LoadBalancers"][0]
    assert (balancer["Scheme"], balancer["State"]["Code"]) == ("internal", "active")
    assert len(balancer["AvailabilityZones"]) == 3
    (listener,) = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
        "Listeners"]
    assert (listener["Protocol"], listener["Port"], listener["SslPolicy"]) == \
        ("TLS", 443, "ELBSecurityPolicy-FS-1-2-Res-2019-08")
    (certificate,) = listener["Certificates"]
    detail = acm.describe_certificate(CertificateArn=certificate["CertificateArn"])[
        "Certificate"]
    assert (detail["DomainName"], detail["Status"]) == (f"shop.{world['domain']}", "ISSUED")
    assert detail["InUseBy"] == [balancer["LoadBalancerArn"]]
    record = detail["DomainValidationOptions"][0]["ResourceRecord"]
    assert record["Name"] in [r["Name"] for r in route53.list_resource_record_sets(
        HostedZoneId=world["zone"])["ResourceRecordSets"] if r["Type"] == "CNAME"]

    service = ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"][0]
    assert service["AcceptanceRequired"] is True
    assert service["NetworkLoadBalancerArns"] == [balancer["LoadBalancerArn"]]
    principals = ec2.describe_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"])
    assert [p["Principal"] for p in principals["AllowedPrincipals"]] == \
        ["arn:aws:iam::123456789012:root"]
    group = ec2.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["shop-sg-cfn"]}])["SecurityGroups"][0]
    assert sorted(r["CidrIp"] for p in group["IpPermissions"] for r in p["IpRanges"]) == \
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]

    (scaling,) = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    assert [i["LifecycleState"] for i in scaling["Instances"]] == ["InService"]
    (member,) = scaling["Instances"]
    (instance,) = ec2.describe_instances(InstanceIds=[member["InstanceId"]])[
        "Reservations"][0]["Instances"]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    # Its UserData's web server runs inside it (found by its namespace, not its name).
    inside = names.namespace(member["InstanceId"])
    inode = netns.inode(inside)
    wait_for(lambda: processes.pids_in(inside), "the instance's web server", timeout=60)
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group["GroupId"]]
    (target_group,) = elbv2.describe_target_groups()["TargetGroups"]
    assert scaling["TargetGroupARNs"] == [target_group["TargetGroupArn"]]
    health = elbv2.describe_target_health(TargetGroupArn=target_group["TargetGroupArn"])
    assert [t["Target"]["Id"] for t in health["TargetHealthDescriptions"]] == \
        [member["InstanceId"]]

    def update(template: str) -> dict[str, str]:
        name = f"cs-{secrets.token_hex(3)}"
        cfn.create_change_set(StackName="seed", ChangeSetName=name, TemplateBody=template,
                              Parameters=[{"ParameterKey": p["ParameterKey"],
                                           "UsePreviousValue": True}
                                          for p in parameters(world)])
        cfn.get_waiter("change_set_create_complete").wait(
            StackName="seed", ChangeSetName=name, WaiterConfig=FAST)
        changes = cfn.describe_change_set(StackName="seed", ChangeSetName=name)["Changes"]
        cfn.execute_change_set(StackName="seed", ChangeSetName=name)
        cfn.get_waiter("stack_update_complete").wait(StackName="seed", WaiterConfig=FAST)
        return {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Replacement"]
                for c in changes}

    assert update(changed(port=8443)) == {"EndpointServiceNetworkLoadBalancerListener": "False"}
    (moved,) = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
        "Listeners"]
    assert (moved["ListenerArn"], moved["Port"], moved["Protocol"]) == \
        (listener["ListenerArn"], 8443, "TLS")
    renamed = update(changed(port=8443, group_suffix="2"))
    assert renamed["EndpointServiceTargetGroup"] == "True"
    (target_group,) = elbv2.describe_target_groups()["TargetGroups"]
    assert target_group["TargetGroupName"] == "endpointsrv-shop-tg-cf2"
    (scaling,) = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    assert scaling["TargetGroupARNs"] == [target_group["TargetGroupArn"]]

    # Deletion protection holds the stack's delete, as at AWS, until the template lifts it.
    cfn.delete_stack(StackName="seed")
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_delete_complete").wait(StackName="seed", WaiterConfig=FAST)
    stack = cfn.describe_stacks(StackName="seed")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert "EndpointServiceNetworkLoadBalancer" in stack["StackStatusReason"]
    events = cfn.describe_stack_events(StackName="seed")["StackEvents"]
    assert "deletion protection" in next(
        e for e in events if e["ResourceStatus"] == "DELETE_FAILED" and
        e["LogicalResourceId"] == "EndpointServiceNetworkLoadBalancer")["ResourceStatusReason"]
    # A DELETE_FAILED stack can only be deleted again: the protection goes by hand first.
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])
    cfn.delete_stack(StackName="seed")
    cfn.get_waiter("stack_delete_complete").wait(StackName="seed", WaiterConfig=FAST)
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert elbv2.describe_target_groups()["TargetGroups"] == []
    assert ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"] == []
    assert [g["GroupName"] for g in ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [world["vpc"]]}])["SecurityGroups"]] == ["default"]
    assert acm.list_certificates()["CertificateSummaryList"] == []
    assert [r["Type"] for r in route53.list_resource_record_sets(
        HostedZoneId=world["zone"])["ResourceRecordSets"]] == ["NS", "SOA"]
    assert autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert ec2.describe_launch_templates()["LaunchTemplates"] == []
    assert {i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]} == {"terminated"}
    wait_for(lambda: netns.ours(str(cfn_daemon.state.resolve())) == namespaces,
             "the stack's namespaces removed", timeout=120)
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and
                _net_of(pid) == f"net:[{inode}]"]


def _net_of(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def test_seed_002_story(cfn_daemon):
    """``pocketlink demo 002``'s story: the AWS CLI's deploy with the events seen as they
    happen, the private DNS name by hand, the consumer's steps, ``curl https://``."""
    if seed002.aws_cli() is None:
        pytest.skip("the AWS CLI is not installed")
    seed = seed002.Seed002(cfn_daemon.endpoint, say=lambda line: None)
    shown: list[dict] = []
    deployed = seed.deploy(seed.build_parameters(), shown.append)
    assert deployed.returncode == 0, deployed.stderr
    assert "Successfully created/updated stack - endpoint-service" in deployed.stdout
    statuses = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in shown]
    assert statuses[0] == ("endpoint-service", "REVIEW_IN_PROGRESS")
    assert statuses[-1] == ("endpoint-service", "CREATE_COMPLETE")
    assert ("EndpointServiceNetworkLoadBalancerCert", "CREATE_COMPLETE") in statuses
    assert len({e["EventId"] for e in shown}) == len(shown)
    seed.outputs()
    seed.private_dns_name()
    seed.build_consumer()
    seed.connect()
    url = f"https://{seed002.PRIVATE_NAME}/"
    answer = wait_for(lambda: (a := seed.curl(url)).returncode == 0 and a,
                      "the page through the TLS listener", timeout=240, every=2)
    assert answer.stdout.startswith("<h1>Hello World from ip-10-0-")
    # The endpoint's own name is not on the certificate: curl refuses it, as at AWS.
    consumer = seed.client("ec2", seed002.CONSUMER)
    [endpoint] = consumer.describe_vpc_endpoints(VpcEndpointIds=[seed.ids["endpoint"]])[
        "VpcEndpoints"]
    assert seed.curl(f"https://{endpoint['DnsEntries'][0]['DnsName']}/").returncode == 60
