"""Instances: RunInstances and its options, private DNS names, filters, the state machine."""

from __future__ import annotations

import ipaddress
import re

import pytest
from botocore.exceptions import ClientError

from tests.conftest import settled

AMI = "ami-0123456789abcdef0"


@pytest.fixture
def vpc(make_vpc) -> dict:
    return make_vpc("10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)


@pytest.fixture
def subnet(make_subnet, vpc, ipv6_blocks) -> dict:
    return make_subnet(vpc, "10.0.1.0/24", Ipv6CidrBlock=ipv6_blocks(vpc)[0])


def describe(ec2, instance_id: str) -> dict:
    [reservation] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    [instance] = reservation["Instances"]
    return instance


def state(ec2, instance_id: str) -> tuple[int, str]:
    """The state once the reconciler has finished the move under way."""
    settled(ec2, [instance_id])
    current = describe(ec2, instance_id)["State"]
    return current["Code"], current["Name"]


def test_run_instances_launches_a_reservation(ec2, subnet, vpc):
    answer = ec2.run_instances(ImageId=AMI, MinCount=2, MaxCount=2, SubnetId=subnet["SubnetId"],
                               InstanceType="t3.micro")
    assert re.fullmatch(r"r-[0-9a-f]{17}", answer["ReservationId"])
    assert answer["OwnerId"] == "111111111111"
    first, second = answer["Instances"]
    assert [i["AmiLaunchIndex"] for i in (first, second)] == [0, 1]
    for instance in (first, second):
        assert re.fullmatch(r"i-[0-9a-f]{17}", instance["InstanceId"])
        assert instance["State"] == {"Code": 0, "Name": "pending"}
        assert (instance["ImageId"], instance["InstanceType"]) == (AMI, "t3.micro")
        assert (instance["SubnetId"], instance["VpcId"]) == (subnet["SubnetId"], vpc["VpcId"])
        assert instance["Placement"]["AvailabilityZone"] == subnet["AvailabilityZone"]
        assert ipaddress.IPv4Address(instance["PrivateIpAddress"]) in \
            ipaddress.IPv4Network("10.0.1.0/24")
    assert first["PrivateIpAddress"] != second["PrivateIpAddress"]
    settled(ec2, [first["InstanceId"], second["InstanceId"]])
    [reservation] = ec2.describe_instances(Filters=[
        {"Name": "reservation-id", "Values": [answer["ReservationId"]]}])["Reservations"]
    assert {i["InstanceId"] for i in reservation["Instances"]} == \
        {first["InstanceId"], second["InstanceId"]}
    assert {i["State"]["Name"] for i in reservation["Instances"]} == {"running"}


def test_max_count_is_what_gets_launched(ec2, subnet):
    answer = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=3, SubnetId=subnet["SubnetId"])
    assert len(answer["Instances"]) == 3


def test_min_count_above_max_count(ec2, subnet):
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=AMI, MinCount=3, MaxCount=2, SubnetId=subnet["SubnetId"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_private_ip_address_and_its_dns_name(ec2, launch, subnet):
    [instance] = launch(subnet, PrivateIpAddress="10.0.1.10")
    assert instance["PrivateIpAddress"] == "10.0.1.10"
    assert instance["PrivateDnsName"] == "ip-10-0-1-10.ec2.internal"
    [eni] = instance["NetworkInterfaces"]
    assert eni["PrivateIpAddress"] == "10.0.1.10"
    assert describe(ec2, instance["InstanceId"])["PrivateDnsName"] == "ip-10-0-1-10.ec2.internal"


def test_dns_names_outside_us_east_1(client, make_vpc, make_subnet, launch):
    ec2 = client("ec2", region="eu-west-1")
    vpc = make_vpc("172.31.0.0/16", client=ec2)
    subnet = make_subnet(vpc, "172.31.5.0/24", client=ec2)
    [instance] = launch(subnet, client=ec2, PrivateIpAddress="172.31.5.20")
    expected = "ip-172-31-5-20.eu-west-1.compute.internal"
    assert instance["PrivateDnsName"] == expected
    assert describe(ec2, instance["InstanceId"])["PrivateDnsName"] == expected
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    [eni] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert eni["PrivateDnsName"] == expected


def test_ipv6_address_count(launch, subnet):
    [instance] = launch(subnet, Ipv6AddressCount=2)
    addresses = [a["Ipv6Address"] for a in instance["NetworkInterfaces"][0]["Ipv6Addresses"]]
    assert len(set(addresses)) == 2
    block = ipaddress.IPv6Network(subnet["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    assert all(ipaddress.IPv6Address(a) in block for a in addresses)


def test_ipv6_only_instance(ec2, make_subnet, vpc, ipv6_blocks, launch):
    subnet = make_subnet(vpc, None, Ipv6Native=True, Ipv6CidrBlock=ipv6_blocks(vpc)[1])
    [instance] = launch(subnet)
    assert "PrivateIpAddress" not in instance
    [address] = instance["NetworkInterfaces"][0]["Ipv6Addresses"]
    assert ipaddress.IPv6Address(address["Ipv6Address"]) in ipaddress.IPv6Network(ipv6_blocks(vpc)[1])
    assert instance["PrivateDnsName"] == f"{instance['InstanceId']}.ec2.internal"


def test_user_data_up_to_16_kib(ec2, launch, subnet):
    [instance] = launch(subnet, UserData="#!/bin/sh\n" + "x" * (16 * 1024 - 10))
    assert describe(ec2, instance["InstanceId"])["State"]["Name"] == "running"
    with pytest.raises(ClientError) as err:
        launch(subnet, UserData="x" * (16 * 1024 + 1))
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_tag_specifications_for_instance_and_interface(ec2, launch, subnet):
    [instance] = launch(subnet, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]},
        {"ResourceType": "network-interface", "Tags": [{"Key": "role", "Value": "primary"}]}])
    assert describe(ec2, instance["InstanceId"])["Tags"] == [{"Key": "Name", "Value": "web-1"}]
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    [eni] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert eni["TagSet"] == [{"Key": "role", "Value": "primary"}]


def test_tag_specification_of_a_type_run_instances_does_not_make(launch, subnet):
    with pytest.raises(ClientError) as err:
        launch(subnet, TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "nope"}]}])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_security_group_ids(ec2, launch, subnet, vpc, make_vpc):
    group = ec2.create_security_group(VpcId=vpc["VpcId"], GroupName="app",
                                      Description="app")["GroupId"]
    [instance] = launch(subnet, SecurityGroupIds=[group])
    assert instance["SecurityGroups"] == [{"GroupId": group, "GroupName": "app"}]
    assert [g["GroupId"] for g in instance["NetworkInterfaces"][0]["Groups"]] == [group]
    [plain] = launch(subnet)
    assert [g["GroupName"] for g in plain["SecurityGroups"]] == ["default"]
    other = make_vpc("10.0.0.0/16")
    foreign = ec2.create_security_group(VpcId=other["VpcId"], GroupName="app",
                                        Description="app")["GroupId"]
    with pytest.raises(ClientError) as err:
        launch(subnet, SecurityGroupIds=[foreign])
    assert err.value.response["Error"]["Code"] == "InvalidParameter"


def test_describe_instances_filters(ec2, launch, subnet, vpc):
    [web] = launch(subnet, PrivateIpAddress="10.0.1.50", TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}])
    [db] = launch(subnet, InstanceType="r5.large")
    ec2.stop_instances(InstanceIds=[db["InstanceId"]])
    settled(ec2, [db["InstanceId"]])

    def ids(name: str, values: list[str]) -> set[str]:
        filters = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}, {"Name": name, "Values": values}]
        return {i["InstanceId"] for r in ec2.describe_instances(Filters=filters)["Reservations"]
                for i in r["Instances"]}

    both = {web["InstanceId"], db["InstanceId"]}
    assert ids("subnet-id", [subnet["SubnetId"]]) == both
    assert ids("instance-id", [web["InstanceId"]]) == {web["InstanceId"]}
    assert ids("instance-state-name", ["running"]) == {web["InstanceId"]}
    assert ids("instance-state-name", ["stopped"]) == {db["InstanceId"]}
    assert ids("instance-state-code", ["80"]) == {db["InstanceId"]}
    assert ids("private-ip-address", ["10.0.1.50"]) == {web["InstanceId"]}
    assert ids("private-dns-name", ["ip-10-0-1-50.ec2.internal"]) == {web["InstanceId"]}
    assert ids("tag:Name", ["web"]) == {web["InstanceId"]}
    assert ids("instance-type", ["r5.large"]) == {db["InstanceId"]}
    assert ids("image-id", [AMI]) == both


def test_stop_start_terminate(ec2, launch, subnet):
    [instance] = launch(subnet)
    instance_id = instance["InstanceId"]
    assert state(ec2, instance_id) == (16, "running")
    [change] = ec2.stop_instances(InstanceIds=[instance_id])["StoppingInstances"]
    assert (change["PreviousState"], change["CurrentState"]) == (
        {"Code": 16, "Name": "running"}, {"Code": 64, "Name": "stopping"})
    assert state(ec2, instance_id) == (80, "stopped")
    [change] = ec2.start_instances(InstanceIds=[instance_id])["StartingInstances"]
    assert (change["PreviousState"], change["CurrentState"]) == (
        {"Code": 80, "Name": "stopped"}, {"Code": 0, "Name": "pending"})
    assert state(ec2, instance_id) == (16, "running")
    [change] = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"]
    assert (change["PreviousState"], change["CurrentState"]) == (
        {"Code": 16, "Name": "running"}, {"Code": 32, "Name": "shutting-down"})
    assert state(ec2, instance_id) == (48, "terminated")
    with pytest.raises(ClientError) as err:
        ec2.start_instances(InstanceIds=[instance_id])
    assert err.value.response["Error"]["Code"] == "IncorrectInstanceState"


def test_a_terminated_instance_stays_terminated(ec2, launch, subnet):
    [instance] = launch(subnet)
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    settled(ec2, [instance["InstanceId"]])
    with pytest.raises(ClientError) as err:
        ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    assert err.value.response["Error"]["Code"] == "IncorrectInstanceState"
    [again] = ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])["TerminatingInstances"]
    assert again["CurrentState"] == {"Code": 48, "Name": "terminated"}


def test_describe_instance_status(ec2, launch, subnet):
    running, stopped = launch(subnet, 2)
    ec2.stop_instances(InstanceIds=[stopped["InstanceId"]])
    both = [running["InstanceId"], stopped["InstanceId"]]
    settled(ec2, both)
    statuses = ec2.describe_instance_status(InstanceIds=both)["InstanceStatuses"]
    assert [(s["InstanceId"], s["InstanceState"]["Name"]) for s in statuses] == \
        [(running["InstanceId"], "running")]
    assert statuses[0]["AvailabilityZone"] == subnet["AvailabilityZone"]
    every = ec2.describe_instance_status(InstanceIds=both, IncludeAllInstances=True)
    assert {(s["InstanceId"], s["InstanceState"]["Code"]) for s in every["InstanceStatuses"]} == \
        {(running["InstanceId"], 16), (stopped["InstanceId"], 80)}


def test_a_client_token_launches_once(ec2, subnet):
    params = {"ImageId": AMI, "MinCount": 2, "MaxCount": 2, "SubnetId": subnet["SubnetId"],
              "ClientToken": "retry-me-once"}
    first = ec2.run_instances(**params)
    second = ec2.run_instances(**params)
    assert second["ReservationId"] == first["ReservationId"]
    assert [i["InstanceId"] for i in second["Instances"]] == \
        [i["InstanceId"] for i in first["Instances"]]
    found = ec2.describe_instances(Filters=[{"Name": "client-token", "Values": ["retry-me-once"]}])
    assert sum(len(r["Instances"]) for r in found["Reservations"]) == 2


def test_terminate_frees_the_interface_and_its_address(ec2, launch, subnet):
    [instance] = launch(subnet, PrivateIpAddress="10.0.1.77")
    eni_id = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    with pytest.raises(ClientError) as err:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])
    assert err.value.response["Error"]["Code"] == "InvalidNetworkInterfaceID.NotFound"
    [again] = launch(subnet, PrivateIpAddress="10.0.1.77")
    assert again["PrivateIpAddress"] == "10.0.1.77"


def test_an_address_in_use(ec2, launch, subnet):
    launch(subnet, PrivateIpAddress="10.0.1.88")
    with pytest.raises(ClientError) as err:
        launch(subnet, PrivateIpAddress="10.0.1.88")
    assert err.value.response["Error"]["Code"] == "InvalidIPAddress.InUse"
    with pytest.raises(ClientError) as err:
        ec2.create_network_interface(SubnetId=subnet["SubnetId"], PrivateIpAddress="10.0.1.88")
    assert err.value.response["Error"]["Code"] == "InvalidIPAddress.InUse"


@pytest.mark.parametrize("address", ["10.0.1.0", "10.0.1.3", "10.0.1.255", "10.0.2.10"])
def test_an_address_the_subnet_cannot_give(launch, subnet, address):
    with pytest.raises(ClientError) as err:
        launch(subnet, PrivateIpAddress=address)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


@pytest.mark.parametrize("image", ["ami-xyz", "ubuntu", "i-0123456789abcdef0"])
def test_malformed_image_id(launch, subnet, image):
    with pytest.raises(ClientError) as err:
        launch(subnet, ImageId=image)
    assert err.value.response["Error"]["Code"] == "InvalidAMIID.Malformed"


@pytest.mark.parametrize(("instance_id", "code"), [("i-0123456789abcdef0", "InvalidInstanceID.NotFound"),
                                                   ("i-xyz", "InvalidInstanceID.Malformed")])
def test_unknown_and_malformed_instance_ids(ec2, instance_id, code):
    for call in (ec2.describe_instances, ec2.stop_instances, ec2.terminate_instances):
        with pytest.raises(ClientError) as err:
            call(InstanceIds=[instance_id])
        assert err.value.response["Error"]["Code"] == code
