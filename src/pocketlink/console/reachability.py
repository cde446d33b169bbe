"""The VPC console's Reachability Analyzer: paths from an instance to an instance, a
network interface, a VPC endpoint or an address on a TCP port, created and analysed with
CreateNetworkInsightsPath and StartNetworkInsightsAnalysis, and each path's analyses
(DescribeNetworkInsightsAnalyses): reachable or not, the first failing hop's explanation
code and component, and the components walked. It is ``pocketlink diagnose``'s walk behind
EC2's API (api/ec2_network_insights.py), so the console asks that API and nothing else;
the fix command and the probe stay the CLI's."""

from __future__ import annotations

from botocore.exceptions import ClientError

from pocketlink.console.layout import Page
from pocketlink.console.markup import (
    dash,
    details,
    esc,
    form,
    link,
    name_tag,
    select,
    status,
    table,
    text_field,
    when,
)
from pocketlink.console.routing import get, post
from pocketlink.console.view import Redirect, View
from pocketlink.wire.numbers import integer

BASE = "vpc/network-insights"


def _latest(view: View, path_id: str | None = None) -> dict[str, dict]:
    """Each path's latest analysis (of ``path_id`` alone when given): one call."""
    params = {"NetworkInsightsPathId": path_id} if path_id else {}
    latest: dict[str, dict] = {}
    for analysis in view.ec2.describe_network_insights_analyses(**params)[
            "NetworkInsightsAnalyses"]:
        path = analysis["NetworkInsightsPathId"]
        if path not in latest or analysis["StartDate"] > latest[path]["StartDate"]:
            latest[path] = analysis
    return latest


def _reachability(analysis: dict | None) -> str:
    if analysis is None or "NetworkPathFound" not in analysis:
        return "&ndash;"
    return "Reachable" if analysis["NetworkPathFound"] else "Not reachable"


def _destination(path: dict) -> str:
    return esc(path.get("Destination") or path.get("DestinationIp")
               or (path.get("FilterAtSource") or {}).get("DestinationAddress"))


def _port(path: dict) -> str:
    return dash(path.get("DestinationPort") or (path.get("FilterAtSource") or {}).get(
        "DestinationPortRange", {}).get("FromPort"))


@get(BASE)
def paths(view: View) -> Page:
    return _paths_page(view)


def _paths_page(view: View) -> Page:
    rows = []
    analyses = _latest(view)
    for p in view.ec2.describe_network_insights_paths()["NetworkInsightsPaths"]:
        latest = analyses.get(p["NetworkInsightsPathId"])
        rows.append([esc(name_tag(p)) or "&ndash;",
                     link(f"{BASE}/{p['NetworkInsightsPathId']}", p["NetworkInsightsPathId"]),
                     esc(p["Source"]), _destination(p), _port(p), esc(p["Protocol"]),
                     status(latest["Status"]) if latest else "&ndash;", _reachability(latest),
                     when(p.get("CreatedDate"))])
    instances = [i for r in view.ec2.describe_instances()["Reservations"]
                 for i in r["Instances"]]
    create = form(
        BASE,
        text_field("name", "Name tag - optional", view.value("name")),
        select("source", "Source (instance)",
               [(i["InstanceId"], f"{i['InstanceId']} {name_tag(i)}".strip())
                for i in instances], view.value("source")),
        text_field("destination", "Destination", view.value("destination"),
                   hint="An instance, network interface or VPC endpoint ID (i-..., eni-..., "
                        "vpce-...), or an IP address", required=True),
        text_field("port", "Destination port", view.value("port"), required=True),
        submit="Create and analyze path", label="Create and analyze path")
    body = (table("Paths", ["Name", "Path ID", "Source", "Destination", "Destination port",
                            "Protocol", "Last analysis status", "Reachability status",
                            "Created"], rows, empty="No paths found")
            + f'<section class="panel"><h2>Create and analyze path</h2>{create}</section>')
    return Page("Reachability Analyzer", body)


@post(BASE)
def create(view: View):
    destination = view.value("destination").strip()
    port = view.value("port").strip()
    params: dict = {"Source": view.value("source"), "Protocol": "tcp"}
    if (number := integer(port)) is not None:  # else the API says a port is wanted, in its words
        params["DestinationPort"] = number
    if destination[:1].isdigit() or ":" in destination:
        params["DestinationIp"] = destination
    else:
        params["Destination"] = destination
    params.update(view.name_tag_specifications("network-insights-path"))
    try:
        path = view.ec2.create_network_insights_path(**params)["NetworkInsightsPath"]
        view.ec2.start_network_insights_analysis(
            NetworkInsightsPathId=path["NetworkInsightsPathId"])
    except ClientError as error:
        view.failed(error)
        return _paths_page(view)
    return Redirect(f"{BASE}/{path['NetworkInsightsPathId']}",
                    f"Created and analyzed path {path['NetworkInsightsPathId']}")


def _component(item: dict) -> str:
    return esc((item.get("Component") or {}).get("Id"))


@get(f"{BASE}/{{id}}")
def path_page(view: View) -> Page:
    path_id = view.params["id"]
    [found] = view.ec2.describe_network_insights_paths(
        NetworkInsightsPathIds=[path_id])["NetworkInsightsPaths"]
    panel = details([("Path ID", esc(path_id)), ("Source", esc(found["Source"])),
                     ("Destination", _destination(found)), ("Destination port", _port(found)),
                     ("Protocol", esc(found["Protocol"])),
                     ("Created", when(found.get("CreatedDate")))], title="Path details")
    analyze = form(f"{BASE}/{path_id}/analyze", submit="Analyze path", label="Analyze path")
    latest = _latest(view, path_id).get(path_id)
    if latest is None:
        return Page(name_tag(found) or path_id, panel + analyze,
                    crumbs=[(BASE, "Reachability Analyzer")])
    result = details([
        ("Analysis ID", esc(latest["NetworkInsightsAnalysisId"])),
        ("Analysis status", status(latest["Status"])),
        ("Reachability status", _reachability(latest)),
        ("Status message", dash(latest.get("StatusMessage"))),
        ("Warning message", dash(latest.get("WarningMessage"))),
        ("Started", when(latest.get("StartDate")))], title="Analysis")
    explanations = table("Explanations", ["Explanation code", "Component", "Direction",
                                          "Load balancer"], [
        [esc(e.get("ExplanationCode")), _component(e), dash(e.get("Direction")),
         dash(e.get("LoadBalancerArn"))] for e in latest.get("Explanations", [])],
        empty="No explanations: the destination is reachable")
    components = table("Path components", ["Sequence", "Component", "Security group rule"], [
        [esc(c["SequenceNumber"]), _component(c),
         dash(_rule(c.get("SecurityGroupRule")))]
        for c in latest.get("ForwardPathComponents", [])], empty="No components")
    return Page(name_tag(found) or path_id, panel + analyze + result + explanations + components,
                crumbs=[(BASE, "Reachability Analyzer")])


def _rule(rule: dict | None) -> str:
    if not rule:
        return ""
    ports = rule.get("PortRange") or {}
    return f"{rule.get('Direction')} {rule.get('Protocol')}/{ports.get('From')}"


@post(f"{BASE}/{{id}}/analyze")
def analyze(view: View):
    path_id = view.params["id"]
    try:
        view.ec2.start_network_insights_analysis(NetworkInsightsPathId=path_id)
    except ClientError as error:
        view.failed(error)
        return path_page(view)
    return Redirect(f"{BASE}/{path_id}", f"Analyzed path {path_id}")
