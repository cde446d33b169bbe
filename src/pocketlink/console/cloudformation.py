"""CloudFormation's Stacks: their status, and per stack its events, resources and outputs."""

from __future__ import annotations

from pocketlink.console.layout import Page
from pocketlink.console.markup import dash, details, esc, link, status, table, tabs, when
from pocketlink.console.routing import get
from pocketlink.console.view import View

BASE = "cloudformation/stacks"


@get(BASE)
def stacks(view: View) -> Page:
    rows = [[link(f"{BASE}/{s['StackName']}", s["StackName"]), status(s["StackStatus"]),
             when(s.get("CreationTime")), dash(s.get("Description"))]
            for s in view.cloudformation.describe_stacks()["Stacks"]]
    return Page("Stacks", table("Stacks", ["Stack name", "Status", "Created time", "Description"],
                                rows, empty="No stacks"))


_TABS = (("events", "Events"), ("resources", "Resources"), ("outputs", "Outputs"),
         ("parameters", "Parameters"))


@get(f"{BASE}/{{name}}")
def stack(view: View) -> Page:
    name = view.params["name"]
    [found] = view.cloudformation.describe_stacks(StackName=name)["Stacks"]
    tab = view.query.get("tab", "events")
    if tab == "resources":
        content = table("Resources", ["Logical ID", "Physical ID", "Type", "Status"], [
            [esc(r["LogicalResourceId"]), dash(r.get("PhysicalResourceId")),
             esc(r["ResourceType"]), status(r["ResourceStatus"])]
            for r in view.cloudformation.describe_stack_resources(
                StackName=name)["StackResources"]])
    elif tab == "outputs":
        content = table("Outputs", ["Key", "Value", "Description", "Export name"], [
            [esc(o["OutputKey"]), esc(o.get("OutputValue")), dash(o.get("Description")),
             dash(o.get("ExportName"))] for o in found.get("Outputs", [])], empty="No outputs")
    elif tab == "parameters":
        content = table("Parameters", ["Key", "Value"], [
            [esc(p["ParameterKey"]), esc(p.get("ParameterValue"))]
            for p in found.get("Parameters", [])], empty="No parameters")
    else:
        content = table("Events", ["Timestamp", "Logical ID", "Status", "Status reason"], [
            [when(e.get("Timestamp")), esc(e["LogicalResourceId"]),
             status(e.get("ResourceStatus", "")), dash(e.get("ResourceStatusReason"))]
            for e in view.cloudformation.describe_stack_events(StackName=name)["StackEvents"]])
    panel = details([("Stack ID", esc(found["StackId"])), ("Status", status(found["StackStatus"])),
                     ("Status reason", dash(found.get("StackStatusReason"))),
                     ("Created time", when(found.get("CreationTime"))),
                     ("Description", dash(found.get("Description")))], title="Stack info")
    return Page(name, panel + tabs(f"{BASE}/{name}", tab, _TABS) + content,
                crumbs=[(BASE, "Stacks")])
