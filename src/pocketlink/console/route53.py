"""Route 53's Hosted zones and their records, with Create record (an UPSERT of
ChangeResourceRecordSets): the TXT record a private DNS name's verification asks for."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pocketlink.console.layout import Page
from pocketlink.console.markup import dash, details, esc, form, link, select, table, text_field, textarea
from pocketlink.console.routing import get, post
from pocketlink.console.view import Redirect, View
from pocketlink.wire.numbers import integer

BASE = "route53/hosted-zones"
_TYPES = tuple((t, t) for t in ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR"))


def _short(zone_id: str) -> str:
    return zone_id.rsplit("/", 1)[-1]


@get(BASE)
def zones(view: View) -> Page:
    rows = [[link(f"{BASE}/{_short(z['Id'])}", z["Name"]),
             "Private" if z.get("Config", {}).get("PrivateZone") else "Public",
             esc(z.get("ResourceRecordSetCount")), dash(z.get("Config", {}).get("Comment")),
             esc(_short(z["Id"]))] for z in view.route53.list_hosted_zones()["HostedZones"]]
    return Page("Hosted zones", table("Hosted zones", [
        "Hosted zone name", "Type", "Record count", "Description", "Hosted zone ID"], rows,
        empty="No hosted zones"))


@get(f"{BASE}/{{id}}")
def zone(view: View) -> Page:
    return _zone_page(view)


def _zone_page(view: View) -> Page:
    zone_id = view.params["id"]
    found = view.route53.get_hosted_zone(Id=zone_id)
    hosted = found["HostedZone"]
    records = view.route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    rows = [[esc(r["Name"]), esc(r["Type"]), "Simple", "Yes" if r.get("AliasTarget") else "No",
             "<br>".join(esc(v["Value"]) for v in r.get("ResourceRecords", []))
             or esc(r.get("AliasTarget", {}).get("DNSName")), dash(r.get("TTL"))]
            for r in records]
    panel = details([("Hosted zone name", esc(hosted["Name"])), ("Hosted zone ID", esc(zone_id)),
                     ("Type", "Private" if hosted.get("Config", {}).get("PrivateZone")
                      else "Public"),
                     ("Name servers", "<br>".join(esc(n) for n in found.get("DelegationSet", {})
                                                   .get("NameServers", [])) or "&ndash;")],
                    title="Hosted zone details")
    create = form(f"{BASE}/{zone_id}/records",
                  text_field("name", "Record name", view.value("name"),
                             hint=f"The full name, in {hosted['Name']}"),
                  select("type", "Record type", _TYPES, view.value("type", "A")),
                  textarea("value", "Value", view.value("value"), rows=3,
                           hint='One value a line; a TXT value in double quotes: "..."'),
                  text_field("ttl", "TTL (seconds)", view.value("ttl", "300")),
                  submit="Create records", label="Create record")
    body = (panel + table("Records", ["Record name", "Type", "Routing policy", "Alias",
                                      "Value/Route traffic to", "TTL (seconds)"], rows)
            + f'<section class="panel"><h2>Create record</h2>{create}</section>')
    return Page(hosted["Name"], body, crumbs=[(BASE, "Hosted zones")])


@post(f"{BASE}/{{id}}/records")
def create_record(view: View):
    ttl = view.value("ttl").strip()
    record = {"Name": view.value("name").strip(), "Type": view.value("type"),
              "TTL": ttl if (seconds := integer(ttl)) is None else seconds,
              "ResourceRecords": [{"Value": v.strip()} for v in view.value("value").splitlines()
                                  if v.strip()]}
    try:
        view.route53.change_resource_record_sets(HostedZoneId=view.params["id"], ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})
    except ClientError as error:
        view.failed(error)
        return _zone_page(view)
    return Redirect(f"{BASE}/{view.params['id']}", f"Created record {record['Name']}")
