"""The topology page's picture without a daemon: a model in, SVG out (console/topology.py),
and the API's answers turned into that model (console/topology_build.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pocketlink.console.topology import (
    CHIP_H,
    Account,
    Band,
    Chip,
    Connection,
    Line,
    Subnet,
    Topology,
    Vpc,
    console_href,
    figure_text,
    layout,
    quantity,
    topology_body,
)
from pocketlink.console.topology_build import build
from pocketlink.console.topology_read import Holdings, figures
from pocketlink.metrics.store import Metric

SVG = "{http://www.w3.org/2000/svg}"
PROVIDER, CONSUMER, REGION = "111111111111", "222222222222", "us-west-2"


def chip(id_: str, kind: str = "instance", figure: str | None = None) -> Chip:
    return Chip(id_, kind, id_, f"detail of {id_}", console_href("ec2/instances", id_, PROVIDER,
                                                                  REGION),
                f"description of {id_}", figure)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def anchors(root: ET.Element) -> dict[str, ET.Element]:
    return {a.get("data-id"): a for a in root.iter(f"{SVG}a") if a.get("data-id")}


def one_vpc(*chips: Chip, own: tuple[Chip, ...] = (), bands: tuple[Band, ...] = ()) -> Account:
    return Account(PROVIDER, REGION, (Vpc("vpc-1", "vpc-1 · 10.0.0.0/16", "/vpc", own, (
        Subnet("subnet-1", "us-west-2a", "10.0.1.0/24", "/subnet", tuple(chips)),)),), bands)


@pytest.mark.parametrize(("topology", "drawn"), [
    (Topology(()), set()),
    (Topology((one_vpc(),)), set()),
    (Topology((one_vpc(chip("i-1")),)), {"i-1"}),
    (Topology((one_vpc(chip("i-1"), chip("i-2"), chip("i-3"), chip("i-4"),
                       own=(chip("nlb", "balancer"),)),)), {"i-1", "i-2", "i-3", "i-4", "nlb"}),
    (Topology((one_vpc(bands=(Band("Endpoint services", (chip("svc", "service"),)),)),
               Account(CONSUMER, REGION, (), (Band("Other", (chip("remote", "remote"),)),)))),
     {"svc", "remote"}),
])
def test_every_chip_is_a_link_with_a_title_and_a_description(topology, drawn):
    root = parse(layout(topology))
    found = anchors(root)
    assert set(found) == drawn
    for id_, anchor in found.items():
        assert anchor.get("href") == console_href("ec2/instances", id_, PROVIDER, REGION)
        assert anchor.find(f"{SVG}title").text == id_
        assert anchor.find(f"{SVG}desc").text == f"description of {id_}"
    assert root.find(f"{SVG}title").text == "Network topology"


@pytest.mark.parametrize(("lines", "drawn"), [
    ((), []),
    ((Line("i-1", "i-2", "privatelink", "one to two"),), ["one to two"]),
    ((Line("i-1", "nowhere", "privatelink", "to nothing drawn"),), []),  # left out
    ((Line("i-1", "svc", "privatelink", "down"), Line("svc", "i-3", "target", "up")),
     ["down", "up"]),
    ((Line("i-1", "other", "peering", "across columns"),), ["across columns"]),
])
def test_lines_join_drawn_chips_only(lines, drawn):
    topology = Topology((one_vpc(chip("i-1"), chip("i-2"), chip("i-3"),
                                 bands=(Band("Services", (chip("svc", "service"),)),)),
                         Account(CONSUMER, REGION, (), (Band("Far", (chip("other"),)),))),
                        lines)
    root = parse(layout(topology))
    paths = list(root.iter(f"{SVG}path"))
    assert [p.find(f"{SVG}title").text for p in paths] == drawn
    for path, line in zip(paths, [x for x in lines if x.title in drawn], strict=True):
        assert line.kind in path.get("class").split()


def test_a_line_across_columns_runs_from_side_to_facing_side():
    topology = Topology((one_vpc(chip("i-1")), Account(CONSUMER, REGION, (), (
        Band("Far", (chip("other"),)),))), (Line("i-1", "other", "privatelink", "x"),))
    root = parse(layout(topology))
    places = {a.get("data-id"): a.find(f"{SVG}rect") for a in anchors(root).values()}
    start, end = places["i-1"], places["other"]
    d = next(root.iter(f"{SVG}path")).get("d")
    assert d.startswith(f"M{int(start.get('x')) + int(start.get('width'))},")
    assert d.endswith(f" {end.get('x')},{int(end.get('y')) + CHIP_H // 2}")


@pytest.mark.parametrize(("count", "rows"), [(1, 1), (3, 1), (4, 2), (7, 3)])
def test_chips_wrap_into_rows_of_three_and_the_drawing_grows(count, rows):
    chips = [chip(f"i-{n}") for n in range(count)]
    root = parse(layout(Topology((one_vpc(*chips),))))
    ys = {a.find(f"{SVG}rect").get("y") for a in anchors(root).values()}
    assert len(ys) == rows
    empty = parse(layout(Topology((one_vpc(),))))
    assert int(root.get("height")) > int(empty.get("height"))


@pytest.mark.parametrize(("figures", "shown"), [
    ({}, figure_text(0, 0)),
    ({"e:1": "3 flows · 1.2 kB"}, "3 flows · 1.2 kB"),
])
def test_a_chip_with_figures_shows_them_under_its_key(figures, shown):
    root = parse(layout(Topology((one_vpc(chip("i-1", "endpoint", "e:1")),), figures=figures)))
    [text] = [t for t in root.iter(f"{SVG}text") if t.get("data-figure")]
    assert (text.get("data-figure"), text.text) == ("e:1", shown)


def test_names_are_escaped_and_the_same_model_gives_the_same_picture():
    nasty = Chip('i-"<&>', "instance", "<script>", "a & b", "/x?a=1&b=2", "<desc>")
    topology = Topology((one_vpc(nasty),))
    svg = layout(topology)
    root = parse(svg)  # well-formed despite the names
    assert "<script>" not in svg
    assert anchors(root)['i-"<&>'].get("href") == "/x?a=1&b=2"
    assert layout(topology) == svg


@pytest.mark.parametrize(("count", "unit", "text"), [
    (0, "B", "0 B"), (999, "B", "999 B"), (1000, "B", "1.0 kB"), (1234567, "B", "1.2 MB"),
    (5e12, "B", "5.0 TB"), (7e15, "B", "7000.0 TB"),
])
def test_quantities_in_decimal_units(count, unit, text):
    assert quantity(count, unit) == text


def test_the_body_has_a_table_of_the_connections_with_live_figures():
    connection = Connection("vpce-1", CONSUMER, "/e", "available", "vpce-svc-1", PROVIDER,
                            ("nlb",), ("i-1 (healthy)",), "e:vpce-1")
    body = topology_body(Topology((one_vpc(),), connections=(connection,),
                                  figures={"e:vpce-1": "2 flows · 10 B"}), "/feed?x=1")
    assert '<tr data-endpoint="vpce-1">' in body
    assert '<td data-figure="e:vpce-1">2 flows · 10 B</td>' in body
    assert 'data-feed="/feed?x=1"' in body
    assert "http" not in body.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no CDN


# --- the API's answers as a model ----------------------------------------------------------

SERVICE = "vpce-svc-0123456789abcdef0"
SERVICE_NAME = f"com.amazonaws.vpce.{REGION}.{SERVICE}"
NLB = f"arn:aws:elasticloadbalancing:{REGION}:{PROVIDER}:loadbalancer/net/seed-nlb/0abc"
GROUP = f"arn:aws:elasticloadbalancing:{REGION}:{PROVIDER}:targetgroup/seed-plain/0def"


def provider() -> Holdings:
    return Holdings(
        PROVIDER, REGION,
        vpcs=[{"VpcId": "vpc-p", "CidrBlock": "10.0.0.0/16"}],
        subnets=[{"SubnetId": "subnet-p", "VpcId": "vpc-p", "AvailabilityZone": "us-west-2a",
                  "CidrBlock": "10.0.1.0/24"}],
        instances=[{"InstanceId": "i-target", "SubnetId": "subnet-p",
                    "PrivateIpAddress": "10.0.1.5", "State": {"Name": "running"},
                    "Tags": [{"Key": "Name", "Value": "httpd"}]}],
        services=[{"ServiceId": SERVICE, "ServiceName": SERVICE_NAME,
                   "NetworkLoadBalancerArns": [NLB], "AcceptanceRequired": True}],
        connections=[{"ServiceId": SERVICE, "VpcEndpointId": "vpce-c",
                      "VpcEndpointOwner": CONSUMER, "VpcEndpointState": "available"}],
        balancers=[{"LoadBalancerArn": NLB, "LoadBalancerName": "seed-nlb", "VpcId": "vpc-p",
                    "Type": "network", "Scheme": "internal", "AvailabilityZones": [
                        {"ZoneName": "us-west-2a", "SubnetId": "subnet-p",
                         "LoadBalancerAddresses": [{"PrivateIPv4Address": "10.0.1.9"}]}]}],
        groups_of={NLB: [GROUP]},
        groups=[{"TargetGroupArn": GROUP, "TargetGroupName": "seed-plain", "Protocol": "TCP",
                 "Port": 80, "TargetType": "instance"}],
        health={GROUP: [{"Target": {"Id": "i-target", "Port": 80},
                         "TargetHealth": {"State": "healthy"}}]})


def consumer() -> Holdings:
    return Holdings(
        CONSUMER, REGION,
        vpcs=[{"VpcId": "vpc-c", "CidrBlock": "10.0.0.0/16"}],
        subnets=[{"SubnetId": "subnet-c", "VpcId": "vpc-c", "AvailabilityZone": "us-west-2a",
                  "CidrBlock": "10.0.1.0/24"}],
        endpoints=[{"VpcEndpointId": "vpce-c", "VpcEndpointType": "Interface", "VpcId": "vpc-c",
                    "ServiceName": SERVICE_NAME, "State": "available",
                    "SubnetIds": ["subnet-c"], "NetworkInterfaceIds": ["eni-c"]}],
        interfaces={"eni-c": {"NetworkInterfaceId": "eni-c", "SubnetId": "subnet-c",
                              "PrivateIpAddress": "10.0.1.7"}},
        service_owners={SERVICE_NAME: PROVIDER})


def ids_of(topology: Topology) -> set[str]:
    return {c.id for a in topology.accounts for v in a.vpcs
            for c in (*v.chips, *(c for s in v.subnets for c in s.chips))} | \
        {c.id for a in topology.accounts for b in a.bands for c in b.chips}


def joined(topology: Topology) -> set[tuple[str, str]]:
    return {(line.source, line.target) for line in topology.lines}


@pytest.mark.parametrize(("accounts", "chips", "lines", "row"), [
    # The whole machine: the endpoint's ENI runs to the provider's service, NLB and target.
    ([provider, consumer],
     {"vpce-c/subnet-c", SERVICE, NLB, f"{NLB}/subnet-p", GROUP, "i-target"},
     {("vpce-c/subnet-c", SERVICE), (SERVICE, NLB), (NLB, GROUP), (GROUP, "i-target")},
     ("vpce-c", CONSUMER, SERVICE, PROVIDER, ("seed-nlb",), ("i-target (healthy)",))),
    # The consumer alone: the service is another account's, known by name and owner.
    ([consumer], {"vpce-c/subnet-c", f"remote:{SERVICE_NAME}"},
     {("vpce-c/subnet-c", f"remote:{SERVICE_NAME}")},
     ("vpce-c", CONSUMER, SERVICE, PROVIDER, (), ())),
    # The provider alone: the endpoint is another account's, from the service's connections.
    ([provider], {"remote:vpce-c", SERVICE, NLB, GROUP, "i-target"},
     {("remote:vpce-c", SERVICE), (SERVICE, NLB), (NLB, GROUP), (GROUP, "i-target")},
     ("vpce-c", CONSUMER, SERVICE, PROVIDER, ("seed-nlb",), ("i-target (healthy)",))),
])
def test_build_joins_a_privatelink_connection_as_far_as_it_is_seen(accounts, chips, lines, row):
    topology = build([make() for make in accounts], {})
    assert chips <= ids_of(topology)
    assert lines <= joined(topology)
    [connection] = topology.connections
    assert (connection.endpoint, connection.endpoint_account, connection.service,
            connection.service_account, connection.balancers, connection.targets) == row


def test_build_links_every_chip_to_its_owners_console_page():
    topology = build([provider(), consumer()], {})
    chips = {c.id: c for a in topology.accounts for v in a.vpcs
             for c in (*v.chips, *(c for s in v.subnets for c in s.chips))} | \
        {c.id: c for a in topology.accounts for b in a.bands for c in b.chips}
    suffix = f"?account={PROVIDER}&region={REGION}"
    assert chips["vpce-c/subnet-c"].href == \
        f"/_pocketlink/console/vpc/endpoints/vpce-c?account={CONSUMER}&region={REGION}"
    assert chips[SERVICE].href == f"/_pocketlink/console/vpc/endpoint-services/{SERVICE}{suffix}"
    assert chips[NLB].href == f"/_pocketlink/console/ec2/load-balancers/seed-nlb{suffix}"
    assert chips[GROUP].href == f"/_pocketlink/console/ec2/target-groups/seed-plain{suffix}"
    assert chips["i-target"].href == f"/_pocketlink/console/ec2/instances/i-target{suffix}"
    svg = layout(topology)
    assert all(a.get("href") for a in parse(svg).iter(f"{SVG}a"))


def test_build_draws_peering_between_drawn_vpcs_and_a_nat_gateway_to_its_internet_gateway():
    peering = {"VpcPeeringConnectionId": "pcx-1", "Status": {"Code": "active"},
               "RequesterVpcInfo": {"VpcId": "vpc-p", "OwnerId": PROVIDER, "Region": REGION},
               "AccepterVpcInfo": {"VpcId": "vpc-c", "OwnerId": CONSUMER, "Region": REGION}}
    mine, theirs = provider(), consumer()
    mine.peerings, theirs.peerings = [peering], [peering]
    mine.internet_gateways = [{"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-p"}]}]
    mine.nat_gateways = [{"NatGatewayId": "nat-1", "SubnetId": "subnet-p", "State": "available",
                          "NatGatewayAddresses": [{"PrivateIp": "10.0.1.10"}]}]
    both = build([mine, theirs], {})
    assert {"pcx-1/vpc-p", "pcx-1/vpc-c", "igw-1", "nat-1"} <= ids_of(both)
    assert {("pcx-1/vpc-p", "pcx-1/vpc-c"), ("nat-1", "igw-1")} <= joined(both)
    alone = build([theirs], {})  # the accepter alone: its side of the peering, no line
    assert "pcx-1/vpc-c" in ids_of(alone)
    assert not any(line.kind == "peering" for line in alone.lines)
    [chip] = [c for a in alone.accounts for v in a.vpcs for c in v.chips if c.id == "pcx-1/vpc-c"]
    assert chip.href == console_href("vpc/vpcs", "vpc-p", PROVIDER, REGION)


def test_the_figures_are_the_samplers_counts_of_the_account_summed_from_the_finest():
    # The sampler sums each metric under its finest dimensions only (the endpoint's per
    # subnet); the endpoint's own figure is theirs added up. The same figure of another
    # account is not this account's.
    base = {"Endpoint Type": "Interface", "Service Name": SERVICE_NAME,
            "VPC Endpoint Id": "vpce-c", "VPC Id": "vpc-c"}
    eni, other = {**base, "Subnet Id": "subnet-c"}, {**base, "Subnet Id": "subnet-d"}
    namespace = "AWS/PrivateLinkEndpoints"
    totals = {Metric(CONSUMER, REGION, namespace, "NewConnections", eni): (3.0, "Count"),
              Metric(CONSUMER, REGION, namespace, "BytesProcessed", eni): (1234.0, "Bytes"),
              Metric(CONSUMER, REGION, namespace, "NewConnections", other): (2.0, "Count"),
              Metric(PROVIDER, REGION, namespace, "NewConnections", eni): (99.0, "Count")}
    found = figures(consumer(), totals)
    assert found["e:vpce-c:subnet-c"] == figure_text(3, 1234)
    assert found["e:vpce-c"] == figure_text(5, 1234)
    assert figures(provider(), totals)["l:" + NLB] == figure_text(0, 0)
