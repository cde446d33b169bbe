"""CloudFormation's template operations: a stack's template, what a template declares
(ValidateTemplate, GetTemplateSummary), and the exports of the account's stacks."""

from __future__ import annotations

import json

from pocketlink.api.cloudformation_change_sets import require_change_set
from pocketlink.api.cloudformation_common import require_stack, required_capabilities
from pocketlink.api.context import RequestContext
from pocketlink.api.handlers import operation
from pocketlink.cloudformation.errors import ValidationError
from pocketlink.cloudformation.template import Template, parse
from pocketlink.model.cloudformation import Stack


@operation("cloudformation", "GetTemplate")
def get_template(context: RequestContext, params: dict) -> dict:
    if params.get("ChangeSetName"):
        text = require_change_set(context, params["ChangeSetName"], params.get("StackName")
                                  ).template
    else:
        text = require_stack(context, params.get("StackName")).template
    return {"TemplateBody": text, "StagesAvailable": ["Original", "Processed"]}


def _declared(template: Template, summary: bool) -> list[dict]:
    out = []
    for key, declaration in template.parameters.items():
        item: dict = {"ParameterKey": key,
                      "NoEcho": str(declaration.get("NoEcho", "false")).lower() == "true"}
        if "Default" in declaration:
            default = declaration["Default"]
            item["DefaultValue"] = ",".join(map(str, default)) if isinstance(default, list) \
                else str(default).lower() if isinstance(default, bool) else str(default)
        if declaration.get("Description"):
            item["Description"] = declaration["Description"]
        if summary:
            item["ParameterType"] = str(declaration["Type"])
            item["ParameterConstraints"] = {"AllowedValues": [
                str(v) for v in declaration.get("AllowedValues") or []]}
        out.append(item)
    return out


def _capabilities(template: Template) -> dict:
    needed = required_capabilities(template)
    if needed is None:
        return {}
    return {"Capabilities": [needed],
            "CapabilitiesReason": "The following resource(s) require capabilities: ["
                                  + ", ".join(sorted({d["Type"] for d in
                                                      template.resources.values()
                                                      if d["Type"].startswith("AWS::IAM::")}))
                                  + "]"}


def _template_in(context: RequestContext, params: dict) -> Template:
    if params.get("TemplateBody") is not None:
        return parse(params["TemplateBody"])
    if params.get("StackName"):
        return parse(require_stack(context, params["StackName"]).template)
    if params.get("TemplateURL"):
        raise ValidationError("pocketlink reads templates from TemplateBody; TemplateURL "
                              "(an S3 object) is not supported yet")
    raise ValidationError("Either Template URL or Template Body must be specified.")


@operation("cloudformation", "ValidateTemplate")
def validate_template(context: RequestContext, params: dict) -> dict:
    template = _template_in(context, params)
    item: dict = {"Parameters": _declared(template, summary=False), **_capabilities(template),
                  "DeclaredTransforms": []}
    if template.description:
        item["Description"] = template.description
    return item


@operation("cloudformation", "GetTemplateSummary")
def get_template_summary(context: RequestContext, params: dict) -> dict:
    template = _template_in(context, params)
    item: dict = {
        "Parameters": _declared(template, summary=True), **_capabilities(template),
        "ResourceTypes": sorted({d["Type"] for d in template.resources.values()}),
        "Version": str(template.body.get("AWSTemplateFormatVersion", "2010-09-09")),
        "DeclaredTransforms": [],
        "ResourceIdentifierSummaries": [],
    }
    if template.description:
        item["Description"] = template.description
    if "Metadata" in template.body:
        item["Metadata"] = json.dumps(template.body["Metadata"], default=str)
    return item


@operation("cloudformation", "ListExports")
def list_exports(context: RequestContext, params: dict) -> dict:
    exports = [{"ExportingStackId": stack.id, "Name": output["ExportName"],
                "Value": output["OutputValue"]}
               for stack in context.store.all(Stack)
               if stack.account == context.account and stack.region == context.region and
               stack.deleted is None
               for output in stack.outputs if output.get("ExportName")]
    return {"Exports": exports}
