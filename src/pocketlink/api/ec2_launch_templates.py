"""Launch templates: Create, versions (with SourceVersion), Describe both, the default
version, Delete; and what a launch from one asks of RunInstances (``launch_parameters``).

A version is checked when it is made (its AMI id, UserData, metadata options, security
group ids, the resource types it tags), as EC2 refuses a malformed one; what needs the
network (the subnet, the groups' VPC) is checked by the launch, as EC2's warnings leave it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from botocore.model import ListShape, Shape, StructureShape

from pocketlink.api import filters, pages, tags
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.ec2_instance_metadata import metadata_options
from pocketlink.api.ec2_instances import _user_data as checked_user_data
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import find, owned
from pocketlink.model import ids
from pocketlink.model.launch_templates import LaunchTemplate, LaunchTemplateVersion
from pocketlink.store import Store
from pocketlink.wire import specs
from pocketlink.wire.errors import ServiceError
from pocketlink.wire.numbers import integer

# AWS's rule for a template name (CreateLaunchTemplate's LaunchTemplateName pattern).
NAME = re.compile(r"[a-zA-Z0-9().\-/_]{3,128}")
NAME_RULE = ("A launch template name must be between 3 and 128 characters, and may contain "
             "letters, numbers, and the following characters: - ( ) . / _.")
MAX_VERSIONS = 10000
# What a launch template may tag at launch (the types RunInstances tags).
TAGGED_AT_LAUNCH = ("instance", "volume", "network-interface", "spot-instances-request")

TEMPLATE_FILTERS: dict[str, filters.Field] = {
    "launch-template-name": lambda t: t.name,
    "create-time": lambda t: t.created.isoformat(),
}


def _response_shape() -> StructureShape:
    shape = specs.load("ec2").model.shape_for("ResponseLaunchTemplateData")
    assert isinstance(shape, StructureShape)
    return shape


def _fit(shape: Shape, value):
    """``value`` with only what ``shape`` names: a request's data, as a response carries it
    (the two models name the same members; a member the response lacks is dropped)."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {k: _fit(shape.members[k], v) for k, v in value.items() if k in shape.members}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_fit(shape.member, v) for v in value]
    return value


def describe_template(template: LaunchTemplate) -> dict:
    item = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name,
            "CreateTime": template.created, "CreatedBy": template.created_by,
            "DefaultVersionNumber": template.default_version,
            "LatestVersionNumber": template.latest_version}
    if template.tags:
        item["Tags"] = tags.tag_set(template.tags)
    return item


def describe_version(template: LaunchTemplate, version: LaunchTemplateVersion) -> dict:
    data = _fit(_response_shape(), version.data)
    item = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name,
            "VersionNumber": version.number, "CreateTime": version.created,
            "CreatedBy": template.created_by,
            "DefaultVersion": version.number == template.default_version,
            "LaunchTemplateData": data}
    if version.description:
        item["VersionDescription"] = version.description
    return item


def _check_name(name: str | None) -> str:
    if not name:
        raise ec2.MissingParameter("LaunchTemplateName")
    if not NAME.fullmatch(name):
        raise ec2.InvalidLaunchTemplateNameMalformedException(
            f"The specified launch template name is invalid. {NAME_RULE}")
    return name


def _check_data(data: dict | None) -> dict:
    """The version's data, refused where EC2 refuses it at creation."""
    if data is None:
        raise ec2.MissingParameter("LaunchTemplateData")
    image_id = data.get("ImageId")
    if image_id is not None and not ids.looks_like("ami", image_id):
        raise ec2.InvalidAMIIDMalformed(image_id)
    checked_user_data(data)
    metadata_options(data.get("MetadataOptions"))
    for group_id in data.get("SecurityGroupIds") or []:
        if not ids.looks_like("sg", group_id):
            raise ec2.InvalidGroupIdMalformed(group_id)
    if data.get("NetworkInterfaces") and (data.get("SecurityGroupIds") or
                                          data.get("SecurityGroups")):
        # EC2's own words for RunInstances; a launch template cannot hold both either.
        raise ec2.InvalidParameterCombination(
            "Network interfaces and an instance-level security groups may not be specified "
            "on the same request")
    for spec in data.get("TagSpecifications") or []:
        if spec.get("ResourceType") not in TAGGED_AT_LAUNCH:
            raise ec2.InvalidParameterValue(
                f"'{spec.get('ResourceType')}' is not a valid taggable resource type for "
                "this operation.")
        tags.validate({t.get("Key", ""): t.get("Value", "") for t in spec.get("Tags") or []})
    return data


def _template_tags(params: dict) -> dict[str, str]:
    return tags.from_specifications(params, "launch-template")


def require_template(context: RequestContext, template_id: str | None,
                     name: str | None) -> LaunchTemplate:
    """The caller's template by id or by name (one of them), or EC2's error for it."""
    if template_id and name:
        raise ec2.InvalidParameterCombination(
            "Either a launch template ID or a launch template name may be specified, not both")
    if template_id:
        if not ids.looks_like("lt", template_id):
            # AWS documents the code; the message is pocketlink's.
            raise ec2.InvalidLaunchTemplateIdMalformed(
                f"The specified ID for the launch template ({template_id}) is not valid.")
        found = find(context, LaunchTemplate, template_id)
        if found is None:
            raise ec2.InvalidLaunchTemplateIdNotFound(template_id)
        return found
    if not name:
        raise ec2.MissingParameter("LaunchTemplateId or LaunchTemplateName")
    found = next((t for t in owned(context, LaunchTemplate) if t.name == name), None)
    if found is None:
        raise ec2.InvalidLaunchTemplateNameNotFoundException(name)
    return found


def require_specified(context: RequestContext, spec: dict) -> LaunchTemplate:
    """The template ``spec`` names by ``LaunchTemplateId`` or ``LaunchTemplateName``: a
    LaunchTemplateSpecification, or the request of a call that takes either."""
    return require_template(context, spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName"))


def resolve_version(template: LaunchTemplate, version: str | None) -> LaunchTemplateVersion:
    """``$Latest``, ``$Default`` (also when none is given) or a number, as EC2 reads them."""
    if version in (None, "", "$Default"):
        number = template.default_version
    elif version == "$Latest":
        number = template.latest_version
    else:
        number = integer(version)
    found = template.version(number) if number is not None else None
    if found is None:
        raise ec2.InvalidLaunchTemplateIdVersionNotFound(version, template.id)
    return found


def launch_parameters(context: RequestContext, spec: dict, given: dict
                      ) -> tuple[dict, LaunchTemplate, LaunchTemplateVersion]:
    """RunInstances' parameters for a launch from the template ``spec`` names
    (``LaunchTemplateId`` or ``LaunchTemplateName``, and ``Version``): the version's data,
    with what the call ``given`` sets itself taking precedence, as EC2 merges them."""
    template = require_specified(context, spec)
    version = resolve_version(template, spec.get("Version"))
    merged = {key: value for key, value in version.data.items() if key != "TagSpecifications"}
    if given.get("NetworkInterfaces") or given.get("SubnetId"):
        merged.pop("NetworkInterfaces", None)
    if given.get("NetworkInterfaces"):
        merged.pop("SecurityGroupIds", None)
        merged.pop("SecurityGroups", None)
    merged.update({k: v for k, v in given.items() if v is not None and k != "LaunchTemplate"})
    # Tags for the same resource type: the call's replace the template's.
    given_types = {s.get("ResourceType") for s in given.get("TagSpecifications") or []}
    merged["TagSpecifications"] = [
        s for s in version.data.get("TagSpecifications") or []
        if s.get("ResourceType") in ("instance", "network-interface", "volume")
        and s.get("ResourceType") not in given_types] + list(given.get("TagSpecifications") or [])
    return merged, template, version


def launch_template_profile(store: Store, account: str, region: str,
                            form: Mapping[str, str]) -> str | None:
    """The instance profile (ARN or name) in the launch template a RunInstances request
    (``form``) launches from: what the gateway asks IAM for before the handler runs."""
    template_id = form.get("LaunchTemplate.LaunchTemplateId")
    name = form.get("LaunchTemplate.LaunchTemplateName")
    found = next((t for t in store.all(LaunchTemplate)
                  if (t.account, t.region) == (account, region) and
                  (t.id == template_id if template_id else t.name == name)), None)
    if found is None:
        return None
    try:
        version = resolve_version(found, form.get("LaunchTemplate.Version"))
    except ServiceError:
        return None
    profile = version.data.get("IamInstanceProfile") or {}
    return profile.get("Arn") or profile.get("Name")


@operation("ec2", "CreateLaunchTemplate")
def create_launch_template(context: RequestContext, params: dict) -> dict:
    token = params.get("ClientToken")
    earlier = next((t for t in owned(context, LaunchTemplate)
                    if token and t.client_token == token), None)
    if earlier is not None:  # a retry of a create that happened
        return {"LaunchTemplate": describe_template(earlier)}
    name = _check_name(params.get("LaunchTemplateName"))
    data = _check_data(params.get("LaunchTemplateData"))
    template_tags = _template_tags(params)
    if any(t.name == name for t in owned(context, LaunchTemplate)):
        raise ec2.InvalidLaunchTemplateNameAlreadyExistsException()
    template = LaunchTemplate(
        id=ids.new_id("lt"), account=context.account, region=context.region, name=name,
        created_by=context.principal, tags=template_tags, client_token=token,
        versions=[LaunchTemplateVersion(number=1, description=params.get("VersionDescription"),
                                        data=data)])
    with context.store.transaction() as tx:
        tx.put(template)
    return {"LaunchTemplate": describe_template(template)}


@operation("ec2", "CreateLaunchTemplateVersion")
def create_launch_template_version(context: RequestContext, params: dict) -> dict:
    template = require_specified(context, params)
    given = params.get("LaunchTemplateData")
    if given is None:
        raise ec2.MissingParameter("LaunchTemplateData")
    data = dict(given)
    if params.get("SourceVersion") is not None:
        # The source's data, with the keys the request gives replacing its own.
        data = {**resolve_version(template, params["SourceVersion"]).data, **given}
    _check_data(data)
    if len(template.versions) >= MAX_VERSIONS:
        raise ec2.InvalidParameterValue(
            f"The launch template has reached its limit of {MAX_VERSIONS} versions")
    with context.store.transaction() as tx:
        mine = tx.edit(LaunchTemplate, template.id)
        # Numbers follow the highest version there is (pocketlink's reading of AWS's docs).
        version = LaunchTemplateVersion(number=mine.latest_version + 1,
                                        description=params.get("VersionDescription"), data=data)
        mine.versions.append(version)
        mine.latest_version = version.number
    return {"LaunchTemplateVersion": describe_version(mine, version)}


@operation("ec2", "DescribeLaunchTemplates")
def describe_launch_templates(context: RequestContext, params: dict) -> dict:
    if params.get("LaunchTemplateIds") and params.get("LaunchTemplateNames"):
        raise ec2.InvalidParameterCombination(
            "Either launch template IDs or launch template names may be specified, not both")
    if params.get("LaunchTemplateIds"):
        found = [require_template(context, i, None) for i in params["LaunchTemplateIds"]]
    elif params.get("LaunchTemplateNames"):
        found = [require_template(context, None, n) for n in params["LaunchTemplateNames"]]
    else:
        found = owned(context, LaunchTemplate)
    found = filters.apply(found, params.get("Filters"), TEMPLATE_FILTERS)
    chunk, more = pages.page(found, params, low=1, high=200)
    return {"LaunchTemplates": [describe_template(t) for t in chunk], **more}


VERSION_FILTERS: dict[str, filters.Field] = {
    "is-default-version": lambda v: v[1].number == v[0].default_version,
    "image-id": lambda v: v[1].data.get("ImageId"),
    "instance-type": lambda v: v[1].data.get("InstanceType"),
    "ram-disk-id": lambda v: v[1].data.get("RamDiskId"),
    "kernel-id": lambda v: v[1].data.get("KernelId"),
    "create-time": lambda v: v[1].created.isoformat(),
    "http-tokens": lambda v: (v[1].data.get("MetadataOptions") or {}).get("HttpTokens"),
    "http-endpoint": lambda v: (v[1].data.get("MetadataOptions") or {}).get("HttpEndpoint"),
}


def _filtered_versions(pairs: list[tuple[LaunchTemplate, LaunchTemplateVersion]],
                       given: list[dict] | None) -> list[tuple]:
    """The version filters (no tags: a version has none, its template's are not asked)."""
    for flt in given or []:
        name = flt.get("Name")
        if name not in VERSION_FILTERS:
            raise ec2.InvalidParameterValue(f"The filter '{name}' is invalid")
        field = VERSION_FILTERS[name]
        pairs = [p for p in pairs if any(
            str(field(p)).lower() == str(want).lower() for want in flt.get("Values") or [])]
    return pairs


def _version_bound(value: str | None, name: str) -> int | None:
    if not value:
        return None
    number = integer(value)
    if number is None:
        raise invalid_value(name, value)
    return number


@operation("ec2", "DescribeLaunchTemplateVersions")
def describe_launch_template_versions(context: RequestContext, params: dict) -> dict:
    if params.get("LaunchTemplateId") or params.get("LaunchTemplateName"):
        templates = [require_specified(context, params)]
    elif params.get("Versions"):
        raise ec2.InvalidParameterCombination(
            "Versions can be specified only with a launch template ID or name")
    else:
        templates = owned(context, LaunchTemplate)
    pairs: list[tuple[LaunchTemplate, LaunchTemplateVersion]] = []
    if params.get("Versions"):
        (template,) = templates
        pairs = [(template, resolve_version(template, v))
                 for v in dict.fromkeys(params["Versions"])]
    else:
        low, high = (_version_bound(params.get(key), key) for key in ("MinVersion",
                                                                       "MaxVersion"))
        pairs = [(t, v) for t in templates for v in t.versions
                 if (low is None or v.number >= low) and (high is None or v.number <= high)]
    pairs = _filtered_versions(pairs, params.get("Filters"))
    chunk, more = pages.page(pairs, params, low=1, high=200)
    return {"LaunchTemplateVersions": [describe_version(t, v) for t, v in chunk], **more}


@operation("ec2", "ModifyLaunchTemplate")
def modify_launch_template(context: RequestContext, params: dict) -> dict:
    template = require_specified(context, params)
    default = params.get("DefaultVersion")
    if default is None:
        return {"LaunchTemplate": describe_template(template)}
    version = resolve_version(template, default)
    with context.store.transaction() as tx:
        mine = tx.edit(LaunchTemplate, template.id)
        mine.default_version = version.number
    return {"LaunchTemplate": describe_template(mine)}


@operation("ec2", "DeleteLaunchTemplate")
def delete_launch_template(context: RequestContext, params: dict) -> dict:
    template = require_specified(context, params)
    with context.store.transaction() as tx:
        tx.delete(template)
    return {"LaunchTemplate": describe_template(template)}


@operation("ec2", "DeleteLaunchTemplateVersions")
def delete_launch_template_versions(context: RequestContext, params: dict) -> dict:
    """Each version deleted or refused on its own, as AWS answers: the default version
    cannot go (DeleteLaunchTemplate removes the template); an unknown one is not there."""
    template = require_specified(context, params)
    done, refused = [], []
    doomed: set[int] = set()
    for wanted in dict.fromkeys(params["Versions"]):
        number = integer(wanted)
        row = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name}
        if number is None or template.version(number) is None:
            refused.append({**row, "VersionNumber": number or 0, "ResponseError": {
                "Code": "launchTemplateVersionDoesNotExist",
                "Message": "The specified launch template version does not exist."}})
        elif number == template.default_version:
            # AWS's code; the message is pocketlink's.
            refused.append({**row, "VersionNumber": number, "ResponseError": {
                "Code": "unexpectedError",
                "Message": "Cannot delete the default version of a launch template; delete "
                           "the launch template or make another version the default."}})
        else:
            doomed.add(number)
            done.append({**row, "VersionNumber": number})
    if doomed:
        with context.store.transaction() as tx:
            mine = tx.edit(LaunchTemplate, template.id)
            mine.versions = [v for v in mine.versions if v.number not in doomed]
            mine.latest_version = max(v.number for v in mine.versions)
    return {"SuccessfullyDeletedLaunchTemplateVersions": done,
            "UnsuccessfullyDeletedLaunchTemplateVersions": refused}
