"""The metric store's roll-ups keep every sum; the NAT gateway seam: a reader's cumulative
counts become AWS/NATGateway's metrics and a line of ``pocketlink cost`` (the reader here is
the test's own; tests/services/test_seed003.py reads a real NAT gateway's); and every
metric name issue 15 lists is put down."""

from __future__ import annotations

import asyncio

import pytest

from pocketlink.daemon import open_store
from pocketlink.metrics import cost
from pocketlink.metrics.nat import NatGatewayCounts, namespace_reader
from pocketlink.metrics.sampler import Sampler
from pocketlink.metrics.store import Metric, MetricStore, Point
from pocketlink.model.internet import NatGateway
from pocketlink.network.internet import NatGatewayTraffic

HOUR = 3600
NOW = 1_800_000_000  # a fixed moment, on a whole hour


def test_roll_ups_keep_sums_counts_and_extremes(tmp_path):
    metrics = MetricStore(tmp_path / "metrics.db")
    metric = Metric("111111111111", "us-east-1", "App", "Hits", {"Page": "home"})
    old = NOW - 4 * HOUR  # past the 3 hours seconds are kept
    metrics.put(Point(metric, old + s, float(s), 1.0) for s in range(120))
    metrics.put([Point(metric, NOW - 10, 5.0, 1.0)])
    before = metrics.buckets(metric, old, NOW, 60)
    metrics.roll_up(NOW)
    after = metrics.buckets(metric, old, NOW, 60)
    assert [(b.start, b.sum, b.count, b.min, b.max) for b in after] == \
        [(b.start, b.sum, b.count, b.min, b.max) for b in before]
    assert [b.count for b in after] == [60, 60, 1]
    # The seconds are gone where they were rolled up: a 1-second period sees minutes there.
    assert len(metrics.buckets(metric, old, old + 120, 1)) == 2
    metrics.roll_up(NOW + 456 * 86400)
    assert metrics.buckets(metric, 0, NOW + HOUR, 60) == []


class FakeNat:
    """What the NAT gateways' counters would say, changed by the test between samples."""

    def __init__(self) -> None:
        self.counts = NatGatewayCounts("333333333333", "us-east-1", "nat-0123456789abcdef0")

    async def __call__(self) -> list[NatGatewayCounts]:
        return [self.counts]


@pytest.fixture
def sampler(tmp_path):
    store = open_store(tmp_path / "state.db")
    nat = FakeNat()
    made = Sampler(store, MetricStore(tmp_path / "metrics.db"), dict, nat)
    made.fake = nat  # type: ignore[attr-defined]
    yield made
    store.close()


def _nat_sum(sampler: Sampler, name: str) -> float:
    metric = Metric("333333333333", "us-east-1", "AWS/NATGateway", name,
                    {"NatGatewayId": "nat-0123456789abcdef0"})
    return sum(b.sum for b in sampler.metrics.buckets(metric, NOW - HOUR, NOW + HOUR, 60))


def test_nat_counts_become_natgateway_metrics_and_a_bill(sampler):
    fake = sampler.fake
    asyncio.run(sampler.sample(NOW))  # the first look: the counts as they are (none yet)
    fake.counts = NatGatewayCounts("333333333333", "us-east-1", "nat-0123456789abcdef0",
                                   bytes_out_to_destination=1000, bytes_in_from_destination=5000,
                                   connection_attempts=3, connections_established=2,
                                   active_connections=2)
    asyncio.run(sampler.sample(NOW + 1))
    fake.counts = NatGatewayCounts("333333333333", "us-east-1", "nat-0123456789abcdef0",
                                   bytes_out_to_destination=1500, bytes_in_from_destination=9000,
                                   connection_attempts=4, connections_established=3,
                                   active_connections=1)
    asyncio.run(sampler.sample(NOW + 2))
    # Counters rebuilt from zero (a ruleset made again): what they say now is new.
    fake.counts = NatGatewayCounts("333333333333", "us-east-1", "nat-0123456789abcdef0",
                                   bytes_out_to_destination=100, connection_attempts=1,
                                   connections_established=1)
    asyncio.run(sampler.sample(NOW + 3))
    assert _nat_sum(sampler, "BytesOutToDestination") == 1600
    assert _nat_sum(sampler, "BytesInFromDestination") == 9000
    assert _nat_sum(sampler, "ConnectionAttemptCount") == 5
    assert _nat_sum(sampler, "ConnectionEstablishedCount") == 4
    assert _nat_sum(sampler, "ActiveConnectionCount") == 3  # 0, 2, 1, 0: levels each second
    [line] = cost.bill(sampler.metrics, sampler.store)
    assert (line.kind, line.resource, line.account, line.hours) == \
        ("NAT gateway", "nat-0123456789abcdef0", "333333333333", 1)
    assert line.bytes == 1600 + 9000
    prices = cost.prices()
    assert line.hourly_cost == prices["nat_gateway"]["hour"]
    assert line.data_cost == pytest.approx(10600 / 2**30 * prices["nat_gateway"]["gigabyte_processed"])
    assert cost.bill(sampler.metrics, sampler.store, since=NOW + 4) == []


def test_a_restarted_sampler_does_not_count_a_nat_gateways_counts_again(sampler, tmp_path):
    """The NAT gateway's namespace (and its counters) outlive the daemon; the metric store
    already holds what they counted before."""
    sampler.fake.counts = NatGatewayCounts("333333333333", "us-east-1",
                                           "nat-0123456789abcdef0",
                                           bytes_out_to_destination=700,
                                           connections_established=7)
    asyncio.run(sampler.sample(NOW))
    again = Sampler(sampler.store, sampler.metrics, dict, sampler.fake)
    asyncio.run(again.sample(NOW + 1))
    assert _nat_sum(sampler, "BytesOutToDestination") == 0
    sampler.fake.counts = NatGatewayCounts("333333333333", "us-east-1",
                                           "nat-0123456789abcdef0",
                                           bytes_out_to_destination=750,
                                           connections_established=9)
    asyncio.run(again.sample(NOW + 2))
    assert _nat_sum(sampler, "BytesOutToDestination") == 50
    assert _nat_sum(sampler, "ConnectionEstablishedCount") == 2


class ChurningNats:
    """NAT gateways made and deleted in the store, each counting while it is there."""

    def __init__(self, store) -> None:
        self.store = store
        self.made = 0
        self.looks: dict[str, int] = {}  # each one's counts grow by one look's a look

    def make(self) -> str:
        self.made += 1
        nat = NatGateway(id=f"nat-{self.made:017x}", account="333333333333",
                         region="us-east-1", vpc_id="vpc-0123456789abcdef0",
                         subnet_id="subnet-0123456789abcdef0", state="available")
        with self.store.transaction() as tx:
            tx.put(nat)
        return nat.id

    def delete(self, nat_id: str, forget: bool) -> None:
        """``deleted`` (as AWS shows it for a while), or gone from the store."""
        with self.store.transaction() as tx:
            if forget:
                tx.delete(tx.edit(NatGateway, nat_id))
            else:
                tx.edit(NatGateway, nat_id).state = "deleted"

    async def __call__(self) -> list[NatGatewayCounts]:
        counts = []
        for n in self.store.all(NatGateway):
            if n.state == "available":
                self.looks[n.id] = looks = self.looks.get(n.id, 0) + 1
                counts.append(NatGatewayCounts(n.account, n.region, n.id,
                                               bytes_out_to_destination=100 * looks,
                                               connections_established=looks))
        return counts


def test_totals_keep_to_the_resources_there(tmp_path):
    """Made and deleted again and again: the running totals (the topology page's and the
    Prometheus page's counters) hold the live NAT gateway's, whose figures go on as before,
    and none of the deleted ones'."""
    store = open_store(tmp_path / "state.db")
    nats = ChurningNats(store)
    sampler = Sampler(store, MetricStore(tmp_path / "metrics.db"), dict, nats)
    second = NOW
    asyncio.run(sampler.sample(second))
    live = nats.make()
    sizes = []
    for round_ in range(20):
        churned = nats.make()
        for _ in range(2):  # each counts 100 bytes and a connection a second
            second += 1
            asyncio.run(sampler.sample(second))
        nats.delete(churned, forget=round_ % 2 == 0)
        second += 1
        asyncio.run(sampler.sample(second))
        sizes.append((len(sampler.totals), len(sampler._written)))
    assert len(set(sizes)) == 1, sizes  # no growth with churn
    left = {m.dimensions["NatGatewayId"] for m in sampler.totals}
    assert left == {live}
    counted = {m.name: value for m, (value, _) in sampler.totals.items()}
    # Every second since it was made (after the sampler's first look: counted from zero).
    assert counted["BytesOutToDestination"] == 100 * 60
    assert counted["ConnectionEstablishedCount"] == 60
    store.close()


def test_a_gateway_endpoints_flows_have_no_privatelink_metrics():
    """AWS publishes AWS/PrivateLinkEndpoints for interface endpoints only."""
    from pocketlink.metrics.figures import Delta, Figures, Route, listener_figures
    from pocketlink.model.privatelink import VpcEndpoint

    def endpoint(kind: str) -> VpcEndpoint:
        return VpcEndpoint(id="vpce-0123456789abcdef0", account="222222222222",
                           region="us-east-1", vpc_id="vpc-0123456789abcdef0",
                           service_name="com.amazonaws.us-east-1.s3", service_id=None,
                           service_owner="amazon", endpoint_type=kind, state="available")
    carried = Delta(new=1, bytes_in=100, bytes_out=900, active=1)
    for kind, expected in (("Gateway", set()), ("Interface", {"AWS/PrivateLinkEndpoints"})):
        figures = Figures()
        listener_figures(figures, Route(endpoint(kind), None, None, None, None), carried)
        assert {f.metric.namespace for f in figures.result()} == expected


# Issue 15's list: every name it asks for, per namespace, is put down for one second of
# flows through an interface endpoint (its service, its NLB) and for the NLB's targets.
NAMED = {
    "AWS/NetworkELB": {"ActiveFlowCount", "NewFlowCount", "ProcessedBytes", "HealthyHostCount",
                       "UnHealthyHostCount", "TCP_ELB_Reset_Count", "TCP_Target_Reset_Count"},
    "AWS/PrivateLinkEndpoints": {"ActiveConnections", "NewConnections", "BytesProcessed",
                                 "PacketsDropped"},
    "AWS/PrivateLinkServices": {"ActiveConnections", "NewConnections", "BytesProcessed",
                                "EndpointsCount"},
}


def test_every_metric_name_the_issue_lists_is_put_down():
    from pocketlink.daemon import KINDS
    from pocketlink.metrics.figures import Delta, Figures, Route, listener_figures, resource_figures
    from pocketlink.model.elbv2 import LoadBalancer, Target, TargetGroup
    from pocketlink.model.privatelink import EndpointService
    from pocketlink.store import Store
    from tests.reconcile.conftest import BALANCER, GROUP, SERVICE, SUBNET, add_endpoint, world

    store = Store(":memory:", KINDS)
    world(store)
    endpoint = add_endpoint(store, 1, "available")
    with store.transaction() as tx:
        tx.edit(TargetGroup, GROUP).targets = [
            Target(id="10.1.1.50", port=80, availability_zone="us-west-2a", health="healthy"),
            Target(id="10.1.1.51", port=80, availability_zone="us-west-2a", health="unhealthy")]
    figures = Figures()
    resource_figures(figures, store)
    listener_figures(figures, Route(endpoint, SUBNET, store.get(EndpointService, SERVICE),
                                    store.get(LoadBalancer, BALANCER), "us-west-2a"),
                     Delta(new=2, bytes_in=100, bytes_out=900, elb_resets=1, target_resets=1,
                           active=1))
    # Each name in its namespace's widest view (no zone, subnet, endpoint or NLB of a
    # service's): the one a dashboard asks.
    narrower = {"AvailabilityZone", "Subnet Id", "Load Balancer Arn"}
    found: dict[str, dict[str, float]] = {}
    for figure in figures.result():
        dims = set(figure.metric.dimensions)
        if dims & narrower or dims == {"Service Id", "VPC Endpoint Id"}:
            continue
        found.setdefault(figure.metric.namespace, {})[figure.metric.name] = figure.value
    for namespace, names in NAMED.items():
        assert names <= set(found[namespace]), (namespace, names - set(found[namespace]))
    nlb = found["AWS/NetworkELB"]
    assert (nlb["NewFlowCount"], nlb["ProcessedBytes"], nlb["HealthyHostCount"],
            nlb["UnHealthyHostCount"], nlb["TCP_ELB_Reset_Count"],
            nlb["TCP_Target_Reset_Count"]) == (2, 1000, 1, 1, 1, 1)
    assert found["AWS/PrivateLinkEndpoints"]["PacketsDropped"] == 0  # a proxy drops none
    assert found["AWS/PrivateLinkServices"]["EndpointsCount"] == 1
    store.close()


def test_a_commit_while_the_nat_reader_reads_ends_nothing(tmp_path, monkeypatch):
    """The reader reads the counters in a thread; a NAT gateway the loop commits meanwhile
    must not end its read (walking the store's dicts there did: 'dictionary changed size
    during iteration'). The counters are the test's: this one needs no namespace."""
    store = open_store(tmp_path / "state.db")
    nats = ChurningNats(store)
    first, second = nats.make(), nats.make()

    async def read() -> list[NatGatewayCounts]:
        loop = asyncio.get_running_loop()

        async def make() -> None:
            nats.make()

        def traffic(nat_id: str) -> NatGatewayTraffic:
            asyncio.run_coroutine_threadsafe(make(), loop).result()  # a commit on the loop
            return NatGatewayTraffic(10, 20, 1, 2, 1, 1, 0)
        monkeypatch.setattr("pocketlink.network.internet.nat_gateway_traffic", traffic)
        return await namespace_reader(store)()

    counts = asyncio.run(read())
    assert [c.nat_gateway_id for c in counts] == [first, second]
    assert (counts[0].bytes_in_from_source, counts[0].connections_established) == (10, 1)
    store.close()
