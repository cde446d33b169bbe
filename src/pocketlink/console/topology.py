"""The topology page's picture: a ``Topology`` (what to draw, no I/O) laid out as SVG.

A ``Topology`` is a graph of chips and lines, made by console/topology_build.py from the
AWS API's answers (console/topology_read.py): per account a column; per VPC a box of its
subnets (by zone), each holding its instances, endpoint ENIs, NLB nodes and NAT gateways;
the VPC's own row holds its internet gateway, peering connections and load balancers;
below the VPCs, bands of endpoint services, target groups, and what other accounts own
that a connection reaches.
Lines join each PrivateLink connection's steps (endpoint ENI -> endpoint service -> NLB ->
target group -> target), peered VPCs, and a NAT gateway to its internet gateway.

Layout is server-side and deterministic (the same model gives the same SVG): chips are
fixed-size boxes placed row by row, so the page needs no layout script and draws in a
screen reader's order (accounts, VPCs, subnets, bands). Every chip is a focusable link to
its console page with a ``<title>`` and ``<desc>``; the same connections are in a table
beneath. A chip's live figures are a ``<text data-figure=KEY>`` the page's script
rewrites from the JSON feed without reloading (static/topology.js; its style is
static/topology.css: the console's Content-Security-Policy allows no inline script or
style).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from urllib.parse import urlencode

CONSOLE = "/_pocketlink/console"
PAGE_PATH = f"{CONSOLE}/topology"
FEED_PATH = f"{CONSOLE}/topology.json"
STATIC = f"{CONSOLE}/static"  # topology.css, and topology.js: the feed's poller
FEED_EVERY_MS = 1500

CHIP_W, CHIP_H = 180, 46
GAP = 10
PAD = 12
HEADER = 24  # a box's title row
PER_ROW = 3
INNER_W = PER_ROW * CHIP_W + (PER_ROW - 1) * GAP  # the chips' width in a subnet
SUBNET_W = INNER_W + 2 * PAD
VPC_W = SUBNET_W + 2 * PAD
COLUMN_W = VPC_W + 2 * PAD
COLUMN_GAP = 90
MARGIN = 16


def console_href(kind: str, resource: str, account: str, region: str) -> str:
    """A resource's console page (the URL scheme the console's pages are served at)."""
    return f"{CONSOLE}/{kind}/{resource}?" + _where(account, region)


def topology_href(account: str, region: str) -> str:
    return f"{PAGE_PATH}?" + _where(account, region)


@lru_cache(maxsize=1024)
def _where(account: str, region: str) -> str:
    """The query of every link of an account's chips: the same few pairs for hundreds of
    chips (encoding each anew was a tenth of the page's time once its lists were kept)."""
    return urlencode({"account": account, "region": region})


@dataclass(frozen=True)
class Chip:
    """One drawn resource. ``id`` is unique in the drawing (an AWS id; an endpoint's ENI
    is ``vpce-…/subnet-…``); ``figure``: the key of its live figures, if it has any."""

    id: str
    kind: str  # instance, endpoint, node, nat, igw, peering, balancer, service, group, ...
    label: str
    detail: str
    href: str
    description: str
    figure: str | None = None


@dataclass(frozen=True)
class Subnet:
    id: str
    zone: str
    cidr: str
    href: str
    chips: tuple[Chip, ...] = ()


@dataclass(frozen=True)
class Vpc:
    id: str
    label: str
    href: str
    chips: tuple[Chip, ...] = ()  # the VPC's own: internet gateway, peerings, NLBs
    subnets: tuple[Subnet, ...] = ()


@dataclass(frozen=True)
class Band:
    title: str
    chips: tuple[Chip, ...]


@dataclass(frozen=True)
class Account:
    id: str
    region: str
    vpcs: tuple[Vpc, ...] = ()
    bands: tuple[Band, ...] = ()
    note: str = ""  # why it is not drawn (the API refused), if so


@dataclass(frozen=True)
class Line:
    source: str  # chip ids
    target: str
    kind: str  # privatelink, listener, target, peering, route
    title: str


@dataclass(frozen=True)
class Connection:
    """One PrivateLink connection, for the table beneath the drawing."""

    endpoint: str
    endpoint_account: str
    endpoint_href: str
    state: str
    service: str
    service_account: str
    balancers: tuple[str, ...]
    targets: tuple[str, ...]  # "i-… (healthy)"
    figure: str


@dataclass(frozen=True)
class Topology:
    accounts: tuple[Account, ...]
    lines: tuple[Line, ...] = ()
    connections: tuple[Connection, ...] = ()
    figures: dict[str, str] = field(default_factory=dict)  # key -> its text now


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


def quantity(count: float, unit: str) -> str:
    """``1234567`` bytes -> ``1.2 MB`` (decimal units, as CloudWatch's console)."""
    value = float(count)
    for prefix in ("", "k", "M", "G", "T"):
        if abs(value) < 1000 or prefix == "T":
            return f"{value:.0f} {prefix}{unit}" if prefix == "" else f"{value:.1f} {prefix}{unit}"
        value /= 1000
    raise AssertionError("unreachable")


def figure_text(flows: float, processed: float) -> str:
    return f"{flows:.0f} flows · {quantity(processed, 'B')}"


class _Canvas:
    """Places chips and boxes; remembers where each chip went, for the lines."""

    def __init__(self, figures: dict[str, str]) -> None:
        self.figures = figures
        self.parts: list[str] = []
        self.places: dict[str, Box] = {}

    def box(self, where: Box, kind: str, title: str, href: str | None,
            description: str) -> None:
        label = escape(title)
        self.parts.append(f'<g class="box {kind}"><rect x="{where.x}" y="{where.y}" '
                          f'width="{where.w}" height="{where.h}" rx="6"/>')
        text = (f'<text class="box-title" x="{where.x + 8}" y="{where.y + 16}">'
                f'{label}</text>')
        if href is None:
            self.parts.append(text)
        else:
            self.parts.append(f'<a href="{escape(href)}"><title>{label}</title>'
                              f'<desc>{escape(description)}</desc>{text}</a>')
        self.parts.append("</g>")

    def chips(self, chips: tuple[Chip, ...], x: int, y: int) -> int:
        """Lays ``chips`` out in rows from (x, y); gives the height they took."""
        for index, chip in enumerate(chips):
            row, column = divmod(index, PER_ROW)
            self.chip(chip, x + column * (CHIP_W + GAP), y + row * (CHIP_H + GAP))
        rows = -(-len(chips) // PER_ROW)
        return rows * CHIP_H + max(rows - 1, 0) * GAP

    def chip(self, chip: Chip, x: int, y: int) -> None:
        self.places[chip.id] = Box(x, y, CHIP_W, CHIP_H)
        figure = ""
        if chip.figure is not None:
            figure = (f'<text class="figure" x="{x + 8}" y="{y + 41}" '
                      f'data-figure="{escape(chip.figure)}">'
                      f'{escape(self.figures.get(chip.figure, figure_text(0, 0)))}</text>')
        self.parts.append(
            f'<a href="{escape(chip.href)}" class="chip {chip.kind}" '
            f'data-id="{escape(chip.id)}"><title>{escape(chip.label)}</title>'
            f'<desc>{escape(chip.description)}</desc>'
            f'<rect x="{x}" y="{y}" width="{CHIP_W}" height="{CHIP_H}" rx="4"/>'
            f'<text x="{x + 8}" y="{y + 15}">{escape(_fit(chip.label))}</text>'
            f'<text class="detail" x="{x + 8}" y="{y + 28}">{escape(_fit(chip.detail))}</text>'
            f"{figure}</a>")


def _fit(text: str, width: int = 27) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _band_height(chips: tuple[Chip, ...]) -> int:
    rows = -(-len(chips) // PER_ROW)
    return HEADER + rows * CHIP_H + max(rows - 1, 0) * GAP + PAD


def _subnet_height(subnet: Subnet) -> int:
    return _band_height(subnet.chips) if subnet.chips else HEADER + 4


def _vpc_height(vpc: Vpc) -> int:
    height = HEADER + (_band_height(vpc.chips) - HEADER if vpc.chips else 0)
    return height + sum(_subnet_height(s) + GAP for s in vpc.subnets) + PAD


def _account(canvas: _Canvas, account: Account, x: int, y: int) -> int:
    """Draws one account's column from (x, y); gives its height."""
    top = y
    y += HEADER + 8
    if account.note:
        canvas.parts.append(f'<text class="note" x="{x + PAD}" y="{y + 12}">'
                            f"{escape(account.note)}</text>")
        y += HEADER
    for vpc in account.vpcs:
        height = _vpc_height(vpc)
        canvas.box(Box(x + PAD, y, VPC_W, height), "vpc", vpc.label, vpc.href,
                   f"VPC {vpc.id} of account {account.id}")
        inner = y + HEADER
        if vpc.chips:
            inner += canvas.chips(vpc.chips, x + 2 * PAD, inner) + PAD
        for subnet in vpc.subnets:
            sub = _subnet_height(subnet)
            canvas.box(Box(x + 2 * PAD, inner, SUBNET_W, sub), "subnet",
                       f"{subnet.id} · {subnet.zone} · {subnet.cidr}", subnet.href,
                       f"Subnet {subnet.id} in {subnet.zone} of {vpc.id}")
            canvas.chips(subnet.chips, x + 3 * PAD, inner + HEADER)
            inner += sub + GAP
        y += height + GAP
    for band in account.bands:
        canvas.parts.append(f'<text class="band-title" x="{x + PAD}" y="{y + 16}">'
                            f"{escape(band.title)}</text>")
        canvas.chips(band.chips, x + PAD, y + HEADER)
        y += _band_height(band.chips)
    height = y - top + PAD
    canvas.parts.insert(0, f'<g class="account"><rect x="{x}" y="{top}" width="{COLUMN_W}" '
                           f'height="{height}" rx="8"/></g>')
    canvas.parts.append(
        f'<a href="{escape(topology_href(account.id, account.region))}" class="account-title">'
        f"<title>Account {account.id}, {account.region}</title>"
        f'<text x="{x + PAD}" y="{top + 20}">Account {account.id} · {account.region}</text></a>')
    return height


def _column(box: Box) -> int:
    return (box.x - MARGIN) // (COLUMN_W + COLUMN_GAP)


def _path(source: Box, target: Box, lane: int) -> str:
    """A curve from one chip's side to another's: across columns side to facing side;
    within one column out of the right sides, round through the gutter beside the column
    (``lane``: which of a few tracks there, so that lines do not lie on each other)."""
    sy, ty = source.y + source.h // 2, target.y + target.h // 2
    column, target_column = _column(source), _column(target)
    if target_column > column:
        sx, tx = source.x + source.w, target.x
        bend = (tx - sx) // 2
        return f"M{sx},{sy} C{sx + bend},{sy} {tx - bend},{ty} {tx},{ty}"
    if target_column < column:
        sx, tx = source.x, target.x + target.w
        bend = (sx - tx) // 2
        return f"M{sx},{sy} C{sx - bend},{sy} {tx + bend},{ty} {tx},{ty}"
    sx, tx = source.x + source.w, target.x + target.w
    gutter = MARGIN + column * (COLUMN_W + COLUMN_GAP) + COLUMN_W + 10 + (lane % 6) * 12
    # A cubic curve reaches 3/4 of the way to its control points: these put its turn there.
    right = gutter + (gutter - max(sx, tx)) // 3
    return f"M{sx},{sy} C{right},{sy} {right},{ty} {tx},{ty}"


def layout(topology: Topology) -> str:
    """The SVG of a topology: pure, the same model always gives the same picture."""
    canvas = _Canvas(topology.figures)
    heights = [_account(canvas, account, MARGIN + index * (COLUMN_W + COLUMN_GAP), MARGIN)
               for index, account in enumerate(topology.accounts)]
    lines = []
    for line in topology.lines:
        source, target = canvas.places.get(line.source), canvas.places.get(line.target)
        if source is None or target is None:
            continue
        lines.append(f'<path class="line {line.kind}" d="{_path(source, target, len(lines))}">'
                     f"<title>{escape(line.title)}</title></path>")
    width = 2 * MARGIN + max(len(heights), 1) * (COLUMN_W + COLUMN_GAP) - COLUMN_GAP + 60
    height = 2 * MARGIN + max(heights, default=40)
    scope = ", ".join(f"{a.id} ({a.region})" for a in topology.accounts) or "nothing"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="topology" role="img" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'aria-labelledby="topology-title topology-desc">'
            f'<title id="topology-title">Network topology</title>'
            f'<desc id="topology-desc">VPCs, subnets, instances, endpoints, load balancers '
            f"and the PrivateLink connections of {escape(scope)}; the table below lists "
            f"the same connections.</desc>"
            f'{"".join(canvas.parts)}<g class="lines">{"".join(lines)}</g></svg>')


LEGEND = (
    ("instance", "Instance"), ("endpoint", "Endpoint ENI"), ("node", "NLB node"),
    ("balancer", "Load balancer"), ("service", "Endpoint service"),
    ("group", "Target group"), ("gateway", "Gateway / peering"), ("remote", "Other account's"),
)




def _legend() -> str:
    items = "".join(
        f'<li class="topology"><svg width="22" height="14" aria-hidden="true"><g class="chip {kind}">'
        f'<rect x="1" y="1" width="20" height="12" rx="3"/></g></svg>{escape(words)}</li>'
        for kind, words in LEGEND)
    return f'<ul class="topology-legend" aria-label="Legend">{items}</ul>'


def _table(topology: Topology) -> str:
    rows = []
    for c in topology.connections:
        rows.append(
            f'<tr data-endpoint="{escape(c.endpoint)}"><td><a href="{escape(c.endpoint_href)}">'
            f"{escape(c.endpoint)}</a></td><td>{escape(c.endpoint_account)}</td>"
            f"<td>{escape(c.state)}</td><td>{escape(c.service)}</td>"
            f"<td>{escape(c.service_account)}</td><td>{escape(', '.join(c.balancers))}</td>"
            f"<td>{escape(', '.join(c.targets))}</td>"
            f'<td data-figure="{escape(c.figure)}">'
            f"{escape(topology.figures.get(c.figure, figure_text(0, 0)))}</td></tr>")
    body = "".join(rows) or '<tr><td colspan="8">No PrivateLink connections.</td></tr>'
    return ('<table class="topology-connections"><caption>PrivateLink connections</caption>'
            "<thead><tr><th scope=\"col\">Endpoint</th><th scope=\"col\">Endpoint owner</th>"
            "<th scope=\"col\">State</th><th scope=\"col\">Endpoint service</th>"
            "<th scope=\"col\">Service owner</th><th scope=\"col\">Load balancers</th>"
            "<th scope=\"col\">Targets</th><th scope=\"col\">Flows · bytes</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def topology_body(topology: Topology, feed: str) -> str:
    """The page's content: legend, drawing, table, and the script that keeps the figures
    live from ``feed`` (the JSON feed's URL for the same view)."""
    alerts = "".join(f'<p role="alert" class="topology-alert">Account {escape(a.id)} '
                     f"({escape(a.region)}): {escape(a.note)}</p>"
                     for a in topology.accounts if a.note)
    return (f'<link rel="stylesheet" href="{STATIC}/topology.css">'
            f'<section class="topology-page" data-feed="{escape(feed)}" '
            f'data-every="{FEED_EVERY_MS}">{alerts}{_legend()}'
            f'<div class="topology-scroll">{layout(topology)}</div>{_table(topology)}'
            f'</section><script src="{STATIC}/topology.js" defer></script>')
