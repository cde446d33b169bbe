"""A stack of real things: VPCs, subnets, security groups, an NLB with its target group
and listener, an endpoint service with its permissions, and an interface endpoint to it,
created, changed through change sets (a listener port modified, a target group renamed:
replaced), and deleted leaving nothing."""

from __future__ import annotations

import subprocess
import sys

from pocketlink.polling import wait_for
from pocketlink.seeds.httpd import httpd_user_data
from tests.cloudformation.templates import PRIVATELINK, TRAFFIC

FAST = {"Delay": 1, "MaxAttempts": 300}


def outputs(cfn, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def change_set(cfn, stack: str, name: str, **params) -> dict:
    cfn.create_change_set(StackName=stack, ChangeSetName=name, TemplateBody=PRIVATELINK,
                          **params)
    cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName=name,
                                                      WaiterConfig=FAST)
    return cfn.describe_change_set(StackName=stack, ChangeSetName=name)


def test_create_update_delete(cfn, clients):
    ec2, elbv2 = clients("ec2"), clients("elbv2")
    created = change_set(cfn, "links", "first", ChangeSetType="CREATE")
    assert {c["ResourceChange"]["Action"] for c in created["Changes"]} == {"Add"}
    assert len(created["Changes"]) == 13
    events = cfn.describe_stack_events(StackName="links")["StackEvents"]
    assert [e["ResourceStatus"] for e in events] == ["REVIEW_IN_PROGRESS"]
    assert events[0]["PhysicalResourceId"] == created["StackId"]
    cfn.execute_change_set(StackName="links", ChangeSetName="first")
    cfn.get_waiter("stack_create_complete").wait(StackName="links", WaiterConfig=FAST)

    out = outputs(cfn, "links")
    balancer = elbv2.describe_load_balancers(Names=["demo-nlb"])["LoadBalancers"][0]
    assert balancer["State"]["Code"] == "active"
    assert out["LoadBalancerDns"] == balancer["DNSName"]
    assert out["LoadBalancerZone"] == balancer["CanonicalHostedZoneId"]
    endpoint = ec2.describe_vpc_endpoints()["VpcEndpoints"][0]
    assert endpoint["State"] == "available"
    entry = endpoint["DnsEntries"][0]
    assert out["EndpointDns"] == f"{entry['HostedZoneId']}:{entry['DnsName']}"
    assert out["EndpointEnis"] == ",".join(endpoint["NetworkInterfaceIds"])
    assert cfn.list_exports()["Exports"][0]["Value"] == out["ServiceId"]
    resources = cfn.describe_stack_resources(StackName="links")["StackResources"]
    assert {r["ResourceStatus"] for r in resources} == {"CREATE_COMPLETE"}
    events = cfn.describe_stack_events(StackName="links")["StackEvents"]
    assert len({e["EventId"] for e in events}) == len(events)
    times = [e["Timestamp"] for e in reversed(events)]
    assert times == sorted(times)

    # A listener port is modified in place; a target group's new name replaces it.
    modify = change_set(cfn, "links", "port", Parameters=[
        {"ParameterKey": "ListenerPort", "ParameterValue": "8080"}])
    (change,) = [c["ResourceChange"] for c in modify["Changes"]]
    assert (change["LogicalResourceId"], change["Action"], change["Replacement"]) == \
        ("Listener", "Modify", "False")
    listener_arn = change["PhysicalResourceId"]
    cfn.execute_change_set(StackName="links", ChangeSetName="port")
    cfn.get_waiter("stack_update_complete").wait(StackName="links", WaiterConfig=FAST)
    listener = elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]
    assert listener["Port"] == 8080

    old_group = outputs(cfn, "links")["TargetGroupArn"]
    replace = change_set(cfn, "links", "rename", Parameters=[
        {"ParameterKey": "ListenerPort", "UsePreviousValue": True},
        {"ParameterKey": "TargetGroupName", "ParameterValue": "renamed-tg"}])
    by_id = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
             for c in replace["Changes"]}
    assert by_id["TargetGroup"]["Replacement"] == "True"
    assert by_id["Listener"]["Replacement"] == "False"  # its action names the new group
    cfn.execute_change_set(StackName="links", ChangeSetName="rename")
    cfn.get_waiter("stack_update_complete").wait(StackName="links", WaiterConfig=FAST)
    new_group = outputs(cfn, "links")["TargetGroupArn"]
    assert "/renamed-tg/" in new_group and new_group != old_group
    names = [g["TargetGroupName"] for g in elbv2.describe_target_groups()["TargetGroups"]]
    assert names == ["renamed-tg"]
    listener = elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]
    assert listener["DefaultActions"][0]["TargetGroupArn"] == new_group
    # The executed change set stays, the others are gone.
    assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName="links")["Summaries"]] \
        == ["rename"]

    stack_id = cfn.describe_stacks(StackName="links")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="links")
    cfn.get_waiter("stack_delete_complete").wait(StackName="links", WaiterConfig=FAST)
    deleted = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == [] or all(
        e["State"] in ("deleting", "deleted") for e in ec2.describe_vpc_endpoints()["VpcEndpoints"])
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert cfn.list_exports()["Exports"] == []



def test_traffic_flows_through_the_stack(cfn):
    """A stack that says CREATE_COMPLETE carries bytes: the consumer instance's curl of the
    endpoint's DNS name reaches the httpd its target instance started."""
    cfn.create_stack(StackName="traffic", TemplateBody=TRAFFIC, Parameters=[
        {"ParameterKey": "HttpdScript", "ParameterValue": httpd_user_data()}])
    cfn.get_waiter("stack_create_complete").wait(StackName="traffic", WaiterConfig=FAST)
    out = outputs(cfn, "traffic")
    name = out["EndpointDns"].split(":", 1)[1]

    def curl() -> str:
        done = subprocess.run([sys.executable, "-m", "pocketlink", "exec", out["Consumer"], "--",
                               "curl", "-sS", "-m", "5", f"http://{name}/"],
                              capture_output=True, text=True, timeout=30)
        tried.append(done.stderr)
        return done.stdout if "Hello World" in done.stdout else ""
    tried: list[str] = []
    page = wait_for(curl, "the target's page through the endpoint", timeout=120, every=1)
    assert "Hello World from ip-" in page
    cfn.delete_stack(StackName="traffic")
    cfn.get_waiter("stack_delete_complete").wait(StackName="traffic", WaiterConfig=FAST)
