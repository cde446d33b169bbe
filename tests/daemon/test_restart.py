"""Nothing acknowledged is lost: SIGKILL the daemon at any moment, start it, all is back."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from pocketlink.polling import PATIENCE
from tests.conftest import CONSUMER, PROVIDER, ipv6_subnet, settled, wait_for
from tests.network.conftest import WEB_PORT, curl, launch
from tests.reconcile.web import consumer_vpc, endpoint, endpoint_address, service_of_a_web_server


def _snapshot(ec2) -> dict:
    return {
        "vpcs": ec2.describe_vpcs()["Vpcs"],
        "subnets": ec2.describe_subnets()["Subnets"],
        "groups": ec2.describe_security_groups()["SecurityGroups"],
        "tables": ec2.describe_route_tables()["RouteTables"],
        "instances": ec2.describe_instances()["Reservations"],
        "enis": ec2.describe_network_interfaces()["NetworkInterfaces"],
        "tags": ec2.describe_tags()["Tags"],
    }


def test_sigkill_and_restart_keeps_every_resource(make_daemon) -> None:
    daemon = make_daemon()
    for account in (PROVIDER, CONSUMER):
        ec2 = daemon.client("ec2", account, "us-west-2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True,
                             TagSpecifications=[{"ResourceType": "vpc",
                                                 "Tags": [{"Key": "Name", "Value": account}]}])
        vpc_id = vpc["Vpc"]["VpcId"]
        block = vpc["Vpc"]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24",
                                   Ipv6CidrBlock=ipv6_subnet(block, 1))
        group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id)
        ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
        launched = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=2, MaxCount=2,
                                     SubnetId=subnet["Subnet"]["SubnetId"],
                                     SecurityGroupIds=[group["GroupId"]], Ipv6AddressCount=1)
        settled(ec2, [i["InstanceId"] for i in launched["Instances"]])
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    before = {a: _snapshot(daemon.client("ec2", a, "us-west-2")) for a in (PROVIDER, CONSUMER)}

    daemon.restart(kill=True)

    after = {a: _snapshot(daemon.client("ec2", a, "us-west-2")) for a in (PROVIDER, CONSUMER)}
    assert after == before
    assert len(after[PROVIDER]["instances"][0]["Instances"]) == 2


def test_sigkill_during_a_stream_of_writes_loses_no_acknowledged_one(make_daemon) -> None:
    daemon = make_daemon("--no-network")
    ec2 = daemon.client("ec2", PROVIDER)
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        client = daemon.client("ec2", PROVIDER)
        while not stop.is_set():
            try:
                acknowledged.append(client.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"])
            except Exception:
                return  # the daemon died under us: that write was never acknowledged

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acknowledged) < 25:
        thread.join(0.01)
    daemon.stop(kill=True)
    stop.set()
    thread.join()
    daemon.start()
    present = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert set(acknowledged) <= present


@pytest.mark.skipif(os.geteuid() != 0, reason="builds namespaces: needs root")
def test_an_endpoint_carries_traffic_right_after_a_restart(make_daemon) -> None:
    """Listeners come back before the network is checked again: here that check is made
    slow on purpose (two stopped instances of the consumer's VPC each hold a process that
    ignores SIGTERM, which the check must wait out and kill, 3 s apiece), and the endpoint
    must carry a request before the check is done. The check then does its job: the
    processes go."""
    daemon = make_daemon()
    service, zone = service_of_a_web_server(daemon)
    ec2 = daemon.client("ec2", CONSUMER, "us-west-2")
    vpc, subnet = consumer_vpc(ec2, "10.1.0.0/16", zone)
    [client] = launch(ec2, subnet)
    endpoint_id = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service,
                                          VpcEndpointType="Interface",
                                          SubnetIds=[subnet])["VpcEndpoint"]["VpcEndpointId"]
    wait_for(lambda: endpoint(ec2, endpoint_id)["State"] == "available")
    url = f"http://{endpoint_address(ec2, endpoint_id)}:{WEB_PORT}/"
    assert "Hello World" in curl(client["InstanceId"], url).stdout
    stopped = [i["InstanceId"] for i in launch(ec2, subnet, count=2)]
    ec2.stop_instances(InstanceIds=stopped)
    assert set(settled(ec2, stopped).values()) == {"stopped"}

    daemon.stop()
    stubborn = [subprocess.Popen(["ip", "netns", "exec", f"pl-{i}", "sh", "-c",
                                  "trap '' TERM; sleep 120"]) for i in stopped]
    # Asks from inside the client, from before the start on: the first answer finds the
    # check still under way (a stubborn process alive) or done; an order, not a time.
    witness = subprocess.Popen(["ip", "netns", "exec", f"pl-{client['InstanceId']}",
                                sys.executable, "-c", FIRST_ANSWER, url,
                                *(str(p.pid) for p in stubborn)],
                               stdout=subprocess.PIPE, text=True)
    try:
        daemon.start()
        alive, _ = witness.communicate(timeout=PATIENCE)
        assert int(alive) > 0  # the check was still under way
        for process in stubborn:
            process.wait(timeout=PATIENCE)  # then it stopped them: SIGKILL after the grace
    finally:
        for process in [*stubborn, witness]:
            if process.poll() is None:
                process.kill()
                process.wait()


# Polls the URL until it says Hello World, then prints how many of the given processes
# still run (a SIGKILLed one stays a zombie until the test reaps it: that counts as gone).
FIRST_ANSWER = """
import sys, time, urllib.request
url, pids = sys.argv[1], sys.argv[2:]
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
while True:
    try:
        with direct.open(url, timeout=2) as answer:
            if b"Hello World" in answer.read():
                break
    except OSError:
        time.sleep(0.05)

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False

print(sum(alive(pid) for pid in pids))
"""
