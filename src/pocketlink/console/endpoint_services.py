"""The provider's pages of PrivateLink: Endpoint services (create with Network Load
Balancers, acceptance, supported IP address types, the private DNS name and its domain
verification), their Endpoint connections (Accept/Reject) and Allow principals tabs."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pocketlink.console.layout import Page
from pocketlink.console.markup import (
    button_link,
    choices,
    copyable,
    dash,
    details,
    esc,
    form,
    hidden,
    link,
    name_tag,
    status,
    submit,
    table,
    tabs,
    text_field,
    when,
)
from pocketlink.console.routing import get, post
from pocketlink.console.view import Json, Redirect, View

BASE = "vpc/endpoint-services"
_IP_TYPES = (("ipv4", "IPv4"), ("ipv6", "IPv6"))


@get(BASE)
def services(view: View) -> Page:
    found = view.ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
    rows = [[esc(name_tag(s)) or "&ndash;", link(f"{BASE}/{s['ServiceId']}", s["ServiceId"]),
             copyable(s["ServiceName"], "service name"),
             esc(s["ServiceType"][0]["ServiceType"]), status(s["ServiceState"]),
             "Yes" if s.get("AcceptanceRequired") else "No", dash(s.get("PrivateDnsName"))]
            for s in found]
    body = (button_link(f"{BASE}/create", "Create endpoint service", primary=True)
            + table("Endpoint services", ["Name", "Service ID", "Service name", "Service type",
                                          "State", "Acceptance required", "Private DNS name"],
                    rows, empty="No endpoint services found"))
    return Page("Endpoint services", body)


@get(f"{BASE}/create")
def create_form(view: View) -> Page:
    balancers = [b for b in view.elbv2.describe_load_balancers()["LoadBalancers"]
                 if b["Type"] == "network"]
    options = [(b["LoadBalancerArn"], f'{esc(b["LoadBalancerName"])} '
                f'<span class="hint">{esc(b["Scheme"])}, {esc(b.get("IpAddressType"))}, '
                f'{esc(b["VpcId"])}</span>') for b in balancers]
    body = form(
        f"{BASE}/create",
        text_field("name", "Name - optional", view.value("name")),
        choices("balancers", "Available load balancers", options, view.values("balancers"),
                hint="Network Load Balancers of this account and Region"),
        text_field("balancer_arn", "Or a load balancer ARN", view.value("balancer_arn")),
        choices("acceptance", "Require acceptance for endpoint",
                [("on", "Acceptance required")],
                view.values("acceptance") if view.posted else ["on"]),
        choices("ip_types", "Supported IP address types", _IP_TYPES,
                view.values("ip_types") if view.posted else ["ipv4"]),
        text_field("private_dns", "Private DNS name - optional", view.value("private_dns"),
                   hint="A name of a domain you own, verified with a TXT record"),
        submit="Create", label="Create endpoint service")
    return Page("Create endpoint service", body, crumbs=[(BASE, "Endpoint services")])


@post(f"{BASE}/create")
def create(view: View):
    arns = view.values("balancers") + [a.strip() for a in [view.value("balancer_arn")] if a.strip()]
    params: dict = {"NetworkLoadBalancerArns": arns,
                    "AcceptanceRequired": bool(view.values("acceptance")),
                    "SupportedIpAddressTypes": view.values("ip_types") or ["ipv4"]}
    if view.value("private_dns").strip():
        params["PrivateDnsName"] = view.value("private_dns").strip()
    params.update(view.name_tag_specifications("vpc-endpoint-service"))
    try:
        made = view.ec2.create_vpc_endpoint_service_configuration(**params)["ServiceConfiguration"]
    except ClientError as error:
        view.failed(error)
        return create_form(view)
    return Redirect(f"{BASE}/{made['ServiceId']}",
                    f"Created endpoint service {made['ServiceId']}")


def _service(view: View, service_id: str) -> dict:
    [found] = view.ec2.describe_vpc_endpoint_service_configurations(
        ServiceIds=[service_id])["ServiceConfigurations"]
    return found


@get(f"{BASE}/{{id}}")
def service(view: View) -> Page:
    return _service_page(view)


_TABS = (("details", "Details"), ("connections", "Endpoint connections"),
         ("principals", "Allow principals"))


def _service_page(view: View, tab: str = "") -> Page:
    service_id = view.params["id"]
    found = _service(view, service_id)
    tab = tab or view.query.get("tab", "details")
    if tab == "connections":
        content = _connections(view, service_id)
    elif tab == "principals":
        content = _principals(view, service_id)
    else:
        content = _details(view, found)
    body = tabs(f"{BASE}/{service_id}", tab, _TABS) + content
    return Page(name_tag(found) or service_id, body, crumbs=[(BASE, "Endpoint services")])


def _details(view: View, found: dict) -> str:
    service_id = found["ServiceId"]
    dns = found.get("PrivateDnsNameConfiguration") or {}
    panel = details([
        ("Service ID", esc(service_id)), ("Service name", copyable(found["ServiceName"],
                                                                   "service name")),
        ("Service type", esc(found["ServiceType"][0]["ServiceType"])),
        ("State", status(found["ServiceState"])),
        ("Acceptance required", "Yes" if found.get("AcceptanceRequired") else "No"),
        ("Supported IP address types", esc(", ".join(found.get("SupportedIpAddressTypes", [])))),
        ("Availability Zones", esc(", ".join(found.get("AvailabilityZones", [])))),
        ("Load balancers", "<br>".join(esc(a) for a in found.get("NetworkLoadBalancerArns", []))),
        ("Private DNS name", dash(found.get("PrivateDnsName"))),
        ("Domain verification status", status(dns["State"]) if dns.get("State") else "&ndash;"),
        ("Domain verification name", copyable(dns["Name"], "verification name")
         if dns.get("Name") else "&ndash;"),
        ("Domain verification value", copyable(dns["Value"], "verification value")
         if dns.get("Value") else "&ndash;"),
        ("Domain verification type", dash(dns.get("Type")))])
    actions = [
        _section("Modify private DNS name", form(
            f"{BASE}/{service_id}/private-dns",
            text_field("private_dns", "Private DNS name", view.value(
                "private_dns", found.get("PrivateDnsName", "")),
                hint="Empty to remove the name"),
            submit="Save changes", label="Modify private DNS name")),
        _section("Verify domain ownership for private DNS name", form(
            f"{BASE}/{service_id}/verify",
            "<p>Publish a TXT record of the name and value above in the domain's DNS, "
            "then verify.</p>", submit="Verify", label="Verify domain ownership")),
        _section("Modify supported IP address types", form(
            f"{BASE}/{service_id}/ip-types",
            choices("ip_types", "Supported IP address types", _IP_TYPES,
                    view.values("ip_types") if view.posted
                    else found.get("SupportedIpAddressTypes", [])),
            submit="Save changes", label="Modify supported IP address types")),
        _section("Modify endpoint acceptance setting", form(
            f"{BASE}/{service_id}/acceptance",
            choices("acceptance", "Require acceptance for endpoint",
                    [("on", "Acceptance required")],
                    ["on"] if found.get("AcceptanceRequired") else []),
            submit="Save changes", label="Modify endpoint acceptance setting")),
    ]
    return panel + "".join(actions)


def _section(title: str, content: str) -> str:
    return f'<section class="panel"><h2>{esc(title)}</h2>{content}</section>'


_ACTIONS = (("accept", "Accept endpoint connection request"),
            ("reject", "Reject endpoint connection request"))
# The states each action is offered in, as the console enables them; the API decides.
_ACTIONABLE = {"accept": ("pendingAcceptance", "rejected"),
               "reject": ("pendingAcceptance", "available", "pending")}


def _connections(view: View, service_id: str) -> str:
    found = view.ec2.describe_vpc_endpoint_connections(
        Filters=[{"Name": "service-id", "Values": [service_id]}])["VpcEndpointConnections"]
    rows = []
    for c in found:
        endpoint = c["VpcEndpointId"]
        buttons = "".join(
            form(f"{BASE}/{service_id}/{verb}", hidden("endpoint", endpoint),
                 submit(text), label=f"{text}: {endpoint}")
            for verb, text in _ACTIONS if c["VpcEndpointState"] in _ACTIONABLE[verb])
        rows.append([esc(endpoint), esc(c.get("VpcEndpointOwner")),
                     status(c["VpcEndpointState"], endpoint),
                     when(c.get("CreationTimestamp")), esc(c.get("IpAddressType")),
                     f'<div class="row-actions">{buttons}</div>'])
    return table("Endpoint connections", ["Endpoint ID", "Owner", "State", "Creation time",
                                          "IP address type", "Actions"], rows,
                 empty="No endpoint connections",
                 live=f"/_pocketlink/console/live/endpoint-connections/{service_id}",
                 settled="available rejected failed deleted expired")


def _principals(view: View, service_id: str) -> str:
    found = view.ec2.describe_vpc_endpoint_service_permissions(
        ServiceId=service_id)["AllowedPrincipals"]
    rows = [[esc(p["Principal"]), esc(p.get("PrincipalType")),
             form(f"{BASE}/{service_id}/principals", hidden("remove", p["Principal"]),
                  submit("Remove"), label=f"Remove {p['Principal']}")] for p in found]
    adding = form(f"{BASE}/{service_id}/principals",
                  text_field("add", "Principal ARN", view.value("add"),
                             placeholder="arn:aws:iam::222222222222:root",
                             hint="An account (arn:aws:iam::ACCOUNT:root), a user, a role, or *"),
                  submit="Allow principals", label="Allow principals")
    return (table("Allow principals", ["ARN", "Type", "Actions"], rows,
                  empty="No principals allowed")
            + _section("Allow principals", adding))


def _act(view: View, tab: str, done: str, call) -> Page | Redirect:
    try:
        call()
    except ClientError as error:
        view.failed(error)
        return _service_page(view, tab)
    return Redirect(f"{BASE}/{view.params['id']}?tab={tab}", done)


def _modify(view: View, done: str, **params) -> Page | Redirect:
    return _act(view, "details", done, lambda: view.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=view.params["id"], **params))


@post(f"{BASE}/{{id}}/private-dns")
def modify_private_dns(view: View):
    name = view.value("private_dns").strip()
    params = {"PrivateDnsName": name} if name else {"RemovePrivateDnsName": True}
    return _modify(view, "Modified the private DNS name", **params)


@post(f"{BASE}/{{id}}/verify")
def verify(view: View):
    return _act(view, "details", "Domain ownership verification started", lambda: (
        view.ec2.start_vpc_endpoint_service_private_dns_verification(
            ServiceId=view.params["id"])))


@post(f"{BASE}/{{id}}/ip-types")
def modify_ip_types(view: View):
    current = set(_service(view, view.params["id"]).get("SupportedIpAddressTypes", []))
    wanted = set(view.values("ip_types"))
    params = {k: v for k, v in (("AddSupportedIpAddressTypes", sorted(wanted - current)),
                                ("RemoveSupportedIpAddressTypes", sorted(current - wanted))) if v}
    return _modify(view, "Modified the supported IP address types", **params)


@post(f"{BASE}/{{id}}/acceptance")
def modify_acceptance(view: View):
    return _modify(view, "Modified the endpoint acceptance setting",
                   AcceptanceRequired=bool(view.values("acceptance")))


def _decide(view: View, verb: str, call) -> Page | Redirect:
    """Accept or Reject one endpoint's connection request. Both answer 200 with the
    endpoints they could not move: shown as errors."""
    endpoint = view.value("endpoint")

    def move() -> None:
        result = call(ServiceId=view.params["id"], VpcEndpointIds=[endpoint])
        for item in result.get("Unsuccessful", []):
            error = item.get("Error", {})
            raise ClientError({"Error": {"Code": error.get("Code", "Unsuccessful"),
                                         "Message": f"{item.get('ResourceId')}: "
                                                    f"{error.get('Message', '')}"}},
                              f"{verb}VpcEndpointConnections")

    return _act(view, "connections", f"{verb}ed the connection request of {endpoint}", move)


@post(f"{BASE}/{{id}}/accept")
def accept(view: View):
    return _decide(view, "Accept", view.ec2.accept_vpc_endpoint_connections)


@post(f"{BASE}/{{id}}/reject")
def reject(view: View):
    return _decide(view, "Reject", view.ec2.reject_vpc_endpoint_connections)


@post(f"{BASE}/{{id}}/principals")
def principals(view: View):
    add, remove = view.value("add").strip(), view.value("remove").strip()
    params = {"AddAllowedPrincipals": [add]} if add else {"RemoveAllowedPrincipals": [remove]}
    return _act(view, "principals", f"Allowed {add}" if add else f"Removed {remove}", lambda: (
        view.ec2.modify_vpc_endpoint_service_permissions(ServiceId=view.params["id"], **params)))


@get("live/endpoint-connections/{id}")
def live_connections(view: View) -> Json:
    """The states of the service's connections with the endpoints ``?ids=`` names."""
    found = view.ec2.describe_vpc_endpoint_connections(Filters=[
        {"Name": "service-id", "Values": [view.params["id"]]},
        {"Name": "vpc-endpoint-id", "Values": view.query.get("ids", "").split(",")}])[
        "VpcEndpointConnections"]
    return Json({c["VpcEndpointId"]: c["VpcEndpointState"] for c in found})
