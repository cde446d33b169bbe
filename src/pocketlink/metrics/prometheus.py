"""The same figures on a Prometheus page (prometheus-client's text format): every count's
total since the daemon started (a counter) and every level's last value (a gauge), at
their most detailed dimensions, named ``aws_<namespace>_<metric>`` (``AWS/NetworkELB``'s
``ProcessedBytes`` is ``aws_network_elb_processed_bytes_total``), with the account, the
region and the dimensions as labels (``VPC Endpoint Id`` is ``vpc_endpoint_id``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric as PrometheusMetric
from prometheus_client.registry import Collector

from pocketlink.metrics.sampler import Sampler
from pocketlink.metrics.store import Metric

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def snake(name: str) -> str:
    """``ProcessedBytes`` -> ``processed_bytes``; ``TCP_ELB_Reset_Count`` ->
    ``tcp_elb_reset_count``; ``VPC Endpoint Id`` -> ``vpc_endpoint_id``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.replace(" ", "_"))
    return re.sub(r"_+", "_", name).lower()


def family_name(metric: Metric) -> str:
    return snake(metric.namespace.replace("/", "_")) + "_" + snake(metric.name)


class _Figures(Collector):
    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler

    def collect(self) -> Iterator[PrometheusMetric]:
        families: dict[str, PrometheusMetric] = {}
        for kind, table in (("counter", self.sampler.totals), ("gauge", self.sampler.levels)):
            for metric, (value, unit) in sorted(table.items(), key=lambda item: item[0].key):
                name = family_name(metric)
                family = families.get(name)
                if family is None:
                    family = families[name] = PrometheusMetric(
                        name, f"{metric.namespace} {metric.name} ({unit})", kind)
                labels = {"account": metric.account, "region": metric.region,
                          **{snake(k): v for k, v in metric.dimensions.items()}}
                family.add_sample(name + ("_total" if kind == "counter" else ""), labels,
                                  value)
        yield from families.values()


def page(sampler: Sampler) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(sampler))
    return generate_latest(registry)
