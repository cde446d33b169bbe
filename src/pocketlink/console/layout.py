"""The page around every console page: the header with the account and region switcher
(top right, as AWS's), the navigation of the areas, the breadcrumbs and the flashes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pocketlink.console.markup import ROOT, esc, url
from pocketlink.console.session import Session
from pocketlink.model import regions

# The navigation, as AWS's consoles group it: (heading, [(path, label)]).
NAVIGATION: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("VPC", (("vpc/vpcs", "Your VPCs"), ("vpc/subnets", "Subnets"),
             ("vpc/route-tables", "Route tables"), ("vpc/security-groups", "Security groups"),
             ("vpc/network-insights", "Reachability Analyzer"))),
    ("PrivateLink and Lattice", (("vpc/endpoints", "Endpoints"),
                                 ("vpc/endpoint-services", "Endpoint services"))),
    ("EC2", (("ec2/instances", "Instances"), ("ec2/load-balancers", "Load Balancers"),
             ("ec2/target-groups", "Target Groups"))),
    ("Route 53", (("route53/hosted-zones", "Hosted zones"),)),
    ("CloudFormation", (("cloudformation/stacks", "Stacks"),)),
    ("pocketlink", (("topology", "Topology"),)),
)


@dataclass
class Page:
    title: str
    body: str
    crumbs: Sequence[tuple[str, str]] = ()  # (path, label) above the title
    flashes: list[str] = field(default_factory=list)
    status: int = 200


def render(page: Page, session: Session | None, path: str, strict: bool) -> str:
    crumbs = "".join(f'<li><a href="{esc(url(p))}">{esc(label)}</a></li>'
                     for p, label in page.crumbs)
    trail = (f'<nav aria-label="Breadcrumbs" class="crumbs"><ol>{crumbs}'
             f'<li aria-current="page">{esc(page.title)}</li></ol></nav>') if crumbs else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(page.title)} | pocketlink console</title>
<link rel="stylesheet" href="{ROOT}/static/console.css">
<script src="{ROOT}/static/console.js" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="{ROOT}/">pocketlink console</a>
{_switcher(session, path, strict)}</header>
<div class="frame"><nav class="side" aria-label="Console areas">{_navigation(path)}</nav>
<main id="main" tabindex="-1">{trail}<h1>{esc(page.title)}</h1>
<div class="flashes">{"".join(page.flashes)}</div>
{page.body}</main></div></body></html>"""


def _navigation(path: str) -> str:
    groups = []
    for heading, items in NAVIGATION:
        links = []
        for target, label in items:
            here = path == target or path.startswith(target + "/")
            current = ' aria-current="page"' if here else ""
            links.append(f'<li><a href="{esc(url(target))}"{current}>{esc(label)}</a></li>')
        groups.append(f"<h2>{esc(heading)}</h2><ul>{''.join(links)}</ul>")
    return "".join(groups)


def _switcher(session: Session | None, path: str, strict: bool) -> str:
    """A GET form to the page itself: its ``account`` and ``region`` set the cookie."""
    if session is None:
        return ""
    options = "".join(f'<option{" selected" if r == session.region else ""}>{esc(r)}</option>'
                      for r in regions.REGIONS)
    region = (f'<label for="switch-region">Region</label>'
              f'<select id="switch-region" name="region">{options}</select>')
    if strict:
        who = (f'<span class="account">Account <strong>{esc(session.account)}</strong></span>'
               if session.access_key else "")
        out = (f'<button type="submit" formaction="{ROOT}/sign-out" formmethod="post">'
               'Sign out</button>' if session.access_key else "")
        return (f'<form class="switcher" method="get" action="{esc(url(path))}" '
                f'aria-label="Account and region">{who}{region}'
                f'<button type="submit">Switch</button>{out}</form>')
    return (f'<form class="switcher" method="get" action="{esc(url(path))}" '
            f'aria-label="Account and region">'
            f'<label for="switch-account">Account</label>'
            f'<input id="switch-account" name="account" value="{esc(session.account)}" '
            f'inputmode="numeric" pattern="[0-9]{{12}}" size="13" '
            f'title="A 12-digit account id: its access key">'
            f'{region}<button type="submit">Switch</button></form>')
