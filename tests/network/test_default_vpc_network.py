"""The default VPC on the wire: instances launched with no subnet reach each other, and the
VPC's namespace exists only while something holds an address in it (an account that just
lists its VPCs costs no namespace)."""

from __future__ import annotations

import secrets

from pocketlink.network import names, netns
from tests.conftest import settled, wait_for
from tests.network.conftest import AMI, WEB_PORT, WEB_USER_DATA, curl, launch


def test_instances_without_a_subnet_share_the_default_vpc(network_daemon):
    ec2 = network_daemon.client("ec2", f"6{secrets.randbelow(10**11):011d}", "us-west-2")
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    router = names.namespace(vpc["VpcId"])
    # Another VPC's instance running means a reconcile pass has seen the default VPC too.
    other = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    subnet = ec2.create_subnet(VpcId=other["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]
    launch(ec2, subnet["SubnetId"])
    assert router not in netns.ours()

    web, client = (ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, **extra)[
        "Instances"][0] for extra in ({"UserData": WEB_USER_DATA}, {}))
    ids = [web["InstanceId"], client["InstanceId"]]
    assert set(settled(ec2, ids).values()) == {"running"}
    assert router in netns.ours()
    # the default security group lets its members in: both are in it
    wait_for(lambda: "Hello" in curl(client["InstanceId"],
                                     f"http://{web['PrivateIpAddress']}:{WEB_PORT}/").stdout)

    ec2.terminate_instances(InstanceIds=ids)
    wait_for(lambda: router not in netns.ours())
