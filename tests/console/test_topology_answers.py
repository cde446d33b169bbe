"""The topology's lists kept while the store does not change (console/topology_read.py
``Answers``): a change made through the API shows on the next page, in one account's view
and the whole machine's, and the lists are asked again only after a change."""

from __future__ import annotations

import json
import re
import urllib.request

from pocketlink.console.topology_read import Answers
from pocketlink.harness import _OPENER
from pocketlink.polling import wait_for
from tests.console.conftest import new_account
from tests.console.test_pages import consumer_subnet, provider_world

REGION = "us-east-1"


def page(daemon, query: str) -> str:
    request = urllib.request.Request(f"{daemon.endpoint}/_pocketlink/console/topology?{query}")
    with _OPENER.open(request, timeout=60) as response:
        assert response.status == 200
        return response.read().decode()


def test_a_list_is_asked_again_only_after_the_store_changed():
    counter = [7]
    asked: list[int] = []

    def call() -> list[dict]:
        asked.append(counter[0])
        return [{"VpcId": f"vpc-{counter[0]}"}]

    answers = Answers(lambda: counter[0])
    key = ("111111111111", REGION, ("111111111111", "x"), "ec2", "describe_vpcs", "{}")
    assert answers.get(key, call) == [{"VpcId": "vpc-7"}]
    assert answers.get(key, call) == [{"VpcId": "vpc-7"}]
    assert asked == [7]  # kept
    other = ("222222222222", *key[1:])
    answers.get(other, call)
    assert asked == [7, 7]  # another account's list is its own
    counter[0] = 8
    assert answers.get(key, call) == [{"VpcId": "vpc-8"}]
    assert asked == [7, 7, 8]


def test_a_list_asked_while_the_store_changed_is_asked_again():
    counter = [1]
    asked: list[int] = []

    def call() -> list[dict]:
        asked.append(counter[0])
        counter[0] += 1  # a commit while the call was answered
        return []

    answers = Answers(lambda: counter[0])
    key = ("111111111111", REGION, ("111111111111", "x"), "ec2", "describe_vpcs", "{}")
    answers.get(key, call)
    answers.get(key, call)
    assert asked == [1, 2]


def test_a_change_through_the_api_shows_on_the_next_page(console_daemon):
    account = new_account()
    ec2 = console_daemon.client("ec2", account)
    own, machine = f"account={account}&region={REGION}", "scope=machine"
    for query in (own, machine):
        page(console_daemon, query)  # read, and kept
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    for query in (own, machine):
        assert f"VPC {vpc} of account {account}" in page(console_daemon, query)
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "kept-or-not"}])
    for query in (own, machine):
        assert f"kept-or-not · {vpc}" in page(console_daemon, query)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    assert f"Subnet {subnet} in " in page(console_daemon, own)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)
    for query in (own, machine):
        drawn = page(console_daemon, query)
        assert f"VPC {vpc} of" not in drawn and f"Subnet {subnet} in " not in drawn


def test_the_feed_follows_a_new_endpoint_service(console_daemon):
    """The feed's lists are kept too: a service made after the feed was read has its
    figure in the next one."""
    account = new_account()
    feed = f"{console_daemon.endpoint}/_pocketlink/console/topology.json?account={account}" \
           f"&region={REGION}"

    def figures() -> dict:
        with _OPENER.open(feed, timeout=60) as response:
            return json.loads(response.read())["figures"]

    assert not any(key.startswith("s:") for key in figures())
    ec2 = console_daemon.client("ec2", account)
    elbv2 = console_daemon.client("elbv2", account)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    nlb = elbv2.create_load_balancer(Name="kept-nlb", Type="network", Scheme="internal",
                                     Subnets=[subnet])["LoadBalancers"][0]["LoadBalancerArn"]
    wait_for(lambda: elbv2.describe_load_balancers(LoadBalancerArns=[nlb])[
        "LoadBalancers"][0]["State"]["Code"] == "active", "the NLB active")
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb])["ServiceConfiguration"]["ServiceId"]
    assert f"s:{service}" in figures()


def test_the_whole_machine_draws_a_connection_from_both_sides_own_lists(console_daemon):
    """On the whole machine the provider's connections are not asked (each endpoint is
    drawn from its owner's list): the connection is drawn whole all the same, its row
    naming both accounts, the service and the NLB, and the endpoint once. The provider's
    own view asks them, and draws the other account's endpoint."""
    provider, consumer = new_account(), new_account()
    world = provider_world(console_daemon, provider)
    ec2, vpc, subnet = consumer_subnet(console_daemon, world, provider, consumer, "10.9.0.0/16")
    vpce = ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vpc, SubnetIds=[subnet],
                                   ServiceName=world["service_name"])["VpcEndpoint"]["VpcEndpointId"]
    drawn = page(console_daemon, "scope=machine")
    row = re.search(rf'<tr data-endpoint="{vpce}".*?</tr>', drawn, re.S)
    assert row, drawn[-2000:]
    assert all(word in row.group(0) for word in (consumer, provider, world["service"],
                                                 world["balancer"]))
    assert f'data-id="{vpce}/{subnet}"' in drawn and f'data-id="remote:{vpce}"' not in drawn
    assert f'data-id="remote:{vpce}"' in page(console_daemon,
                                              f"account={provider}&region={REGION}")
