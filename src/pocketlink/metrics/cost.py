"""``pocketlink cost``: what the measured traffic would cost at AWS's list prices.

The prices are one data file (prices.json: us-east-1, each with its source page and the
day it was read). The bill is made of the metric store's own data points, as AWS's is of
its meters: an interface endpoint pays an hour per zone (subnet) for every clock hour it
has points in (a partial hour is billed as a full one, as AWS does) and its BytesProcessed;
a NAT gateway an hour for every clock hour it has points in and the bytes it carried both
ways (BytesOutToDestination + BytesInFromDestination); a gateway endpoint nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources

from pocketlink.metrics.figures import ENDPOINTS, NAT
from pocketlink.metrics.store import MetricStore
from pocketlink.model.privatelink import VpcEndpoint
from pocketlink.store import Store


@cache
def prices() -> dict:
    return json.loads(resources.files("pocketlink.metrics").joinpath("prices.json").read_text())


@dataclass
class Line:
    """One resource's share of the bill."""

    account: str
    region: str
    resource: str
    kind: str  # interface endpoint | NAT gateway | gateway endpoint
    hours: int  # billed hours (per zone, added up, for an interface endpoint)
    bytes: int
    hourly_cost: float
    data_cost: float

    @property
    def total(self) -> float:
        return self.hourly_cost + self.data_cost


def bill(metrics: MetricStore, store: Store, since: int | None = None) -> list[Line]:
    table = prices()
    gigabyte = table["gigabyte"]
    lines: dict[str, Line] = {}
    endpoint_price = table["interface_endpoint"]
    for account, region, dims, _, hours in metrics.totals(ENDPOINTS, "ActiveConnections", since):
        if "Subnet Id" not in dims:
            continue
        line = lines.setdefault(dims["VPC Endpoint Id"], Line(
            account, region, dims["VPC Endpoint Id"], "interface endpoint", 0, 0, 0.0, 0.0))
        line.hours += hours
    for account, region, dims, total, _ in metrics.totals(ENDPOINTS, "BytesProcessed", since):
        if "Subnet Id" in dims or dims.get("Endpoint Type") != "Interface":
            continue
        line = lines.setdefault(dims["VPC Endpoint Id"], Line(
            account, region, dims["VPC Endpoint Id"], "interface endpoint", 0, 0, 0.0, 0.0))
        line.bytes += int(total)
    for line in lines.values():
        line.hourly_cost = line.hours * endpoint_price["hour_per_zone"]
        line.data_cost = line.bytes / gigabyte * endpoint_price["gigabyte_processed"]
    nat_price = table["nat_gateway"]
    nats: dict[str, Line] = {}
    for account, region, dims, _, hours in metrics.totals(NAT, "ActiveConnectionCount", since):
        nats[dims["NatGatewayId"]] = Line(account, region, dims["NatGatewayId"], "NAT gateway",
                                          hours, 0, 0.0, 0.0)
    for name in ("BytesOutToDestination", "BytesInFromDestination"):
        for account, region, dims, total, hours in metrics.totals(NAT, name, since):
            line = nats.setdefault(dims["NatGatewayId"], Line(
                account, region, dims["NatGatewayId"], "NAT gateway", hours, 0, 0.0, 0.0))
            line.bytes += int(total)
    for line in nats.values():
        line.hourly_cost = line.hours * nat_price["hour"]
        line.data_cost = line.bytes / gigabyte * nat_price["gigabyte_processed"]
    gateways = [Line(e.account, e.region, e.id, "gateway endpoint", 0, 0, 0.0, 0.0)
                for e in store.all(VpcEndpoint)
                if e.endpoint_type == "Gateway" and e.state.lower() != "deleted"]
    return sorted([*lines.values(), *nats.values(), *gateways],
                  key=lambda line: (line.account, line.kind, line.resource))


def as_json(lines: list[Line]) -> list[dict]:
    return [{**asdict(line), "total": line.total} for line in lines]


def render(bill: dict) -> str:
    """The daemon's bill (``/_pocketlink/cost``) as ``pocketlink cost`` prints it: a line
    per resource, the total, and where the prices come from."""
    prices = bill["prices"]
    header = ["account", "resource", "kind", "hours", "GB", "hourly $", "data $", "total $"]
    rows = [[line["account"], line["resource"], line["kind"], str(line["hours"]),
             f"{line['bytes'] / prices['gigabyte']:.6f}", f"{line['hourly_cost']:.4f}",
             f"{line['data_cost']:.6f}", f"{line['total']:.6f}"] for line in bill["lines"]]
    total = sum(line["total"] for line in bill["lines"])
    rows.append(["total", "", "", "", "", "", "", f"{total:.6f}"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
           for row in [header, *rows]]
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(bill["since"])) \
        if bill["since"] is not None else "the start (nothing measured yet)"
    sources = sorted({prices[k]["source"] for k in ("nat_gateway", "interface_endpoint",
                                                    "gateway_endpoint")})
    out.append(f"since {since}; {prices['region']} list prices in {prices['currency']}, "
               f"read {prices['retrieved']} from {', '.join(sources)}")
    return "\n".join(out)
