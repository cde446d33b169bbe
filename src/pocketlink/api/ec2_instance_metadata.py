"""An instance's metadata options and IAM instance profile: RunInstances' ``MetadataOptions``
and ``IamInstanceProfile``, their part of DescribeInstances, ModifyInstanceMetadataOptions,
and the instance profile associations (Associate, Describe, Replace, Disassociate).

The instance profile is IAM's (the backend's): the gateway asks IAM for it before the
handler runs (``imds.roles.InstanceProfiles.prefetch``), so a handler finds IAM's answer in
``context.instance_profiles``. The instance metadata service (``pocketlink.imds``) reads
these settings from the store at each request: a change applies at once.
"""

from __future__ import annotations

from pocketlink.api import filters, pages
from pocketlink.api.context import RequestContext
from pocketlink.api.ec2_common import invalid_value
from pocketlink.api.errors import ec2
from pocketlink.api.handlers import operation
from pocketlink.api.lookups import owned, require
from pocketlink.imds.roles import Unavailable
from pocketlink.model import ids
from pocketlink.model.ec2 import Instance, InstanceProfileAssociation, MetadataOptions
from pocketlink.wire.errors import ServiceError

ENABLED = ("enabled", "disabled")
CHOICES = {"HttpTokens": ("optional", "required"), "HttpEndpoint": ENABLED,
           "HttpProtocolIpv6": ENABLED, "InstanceMetadataTags": ENABLED}
FIELDS = {"HttpTokens": "http_tokens", "HttpEndpoint": "http_endpoint",
          "HttpProtocolIpv6": "http_protocol_ipv6",
          "InstanceMetadataTags": "instance_metadata_tags",
          "HttpPutResponseHopLimit": "http_put_response_hop_limit"}
MAX_HOPS = 64


def metadata_options(given: dict | None, base: MetadataOptions | None = None) -> MetadataOptions:
    """``base`` (AWS's defaults when None) with what ``given`` sets, checked."""
    options = MetadataOptions(**vars(base)) if base else MetadataOptions()
    for key, value in (given or {}).items():
        if key not in FIELDS or value is None:
            continue
        if key == "HttpPutResponseHopLimit":
            # AWS documents the range (1-64); the message is pocketlink's.
            if not 1 <= int(value) <= MAX_HOPS:
                raise ec2.InvalidParameterValue(
                    f"The HttpPutResponseHopLimit value ({value}) is invalid: it must be "
                    f"between 1 and {MAX_HOPS}.")
            value = int(value)
        elif value not in CHOICES[key]:
            raise invalid_value(key, value, f"Valid values: {', '.join(CHOICES[key])}.")
        setattr(options, FIELDS[key], value)
    return options


def describe_metadata_options(options: MetadataOptions, state: str = "applied") -> dict:
    return {"State": state, "HttpTokens": options.http_tokens,
            "HttpPutResponseHopLimit": options.http_put_response_hop_limit,
            "HttpEndpoint": options.http_endpoint,
            "HttpProtocolIpv6": options.http_protocol_ipv6,
            "InstanceMetadataTags": options.instance_metadata_tags}


def instance_profile(context: RequestContext, given: dict | None
                     ) -> InstanceProfileAssociation | None:
    """The association RunInstances' (or Associate's) ``IamInstanceProfile`` makes, once
    IAM has said the profile exists in the caller's account."""
    if not given or not (given.get("Arn") or given.get("Name")):
        return None
    by_arn = bool(given.get("Arn"))
    reference = given["Arn"] if by_arn else given["Name"]
    profiles = context.instance_profiles
    try:
        profile = profiles.known(context.account, reference) if profiles else None
    except Unavailable:
        raise ServiceError("IAM did not answer for the instance profile; try again",
                           code="Unavailable", status=503) from None
    if profile is None:
        what = "arn" if by_arn else "name"
        raise invalid_value(f"iamInstanceProfile.{what}", reference,
                            f"Invalid IAM Instance Profile {'ARN' if by_arn else 'name'}")
    return InstanceProfileAssociation(association_id=ids.new_id("iip-assoc"),
                                      arn=profile.arn, profile_id=profile.profile_id)


def describe_profile(association: InstanceProfileAssociation) -> dict:
    return {"Arn": association.arn, "Id": association.profile_id}


def _association(instance: Instance, state: str | None = None) -> dict:
    association = instance.iam_instance_profile
    assert association is not None
    return {"AssociationId": association.association_id, "InstanceId": instance.id,
            "IamInstanceProfile": describe_profile(association),
            "State": state or association.state}


@operation("ec2", "ModifyInstanceMetadataOptions")
def modify_instance_metadata_options(context: RequestContext, params: dict) -> dict:
    instance = require(context, Instance, params["InstanceId"])
    options = metadata_options(params, instance.metadata_options)
    with context.store.transaction() as tx:
        tx.edit(Instance, instance.id).metadata_options = options
    return {"InstanceId": instance.id,
            "InstanceMetadataOptions": describe_metadata_options(options, "pending")}


@operation("ec2", "AssociateIamInstanceProfile")
def associate_iam_instance_profile(context: RequestContext, params: dict) -> dict:
    instance = require(context, Instance, params["InstanceId"])
    if instance.iam_instance_profile is not None:
        raise ec2.IncorrectState(f"There is an existing association for instance {instance.id}")
    if instance.state in ("shutting-down", "terminated"):
        raise ec2.IncorrectInstanceState(
            f"The instance '{instance.id}' is not in a state from which an IAM instance "
            "profile can be associated.")
    return _associate(context, instance, params)


def _associate(context: RequestContext, instance: Instance, params: dict) -> dict:
    """Where associating and replacing meet, once the instance is checked: ``params``'
    instance profile becomes ``instance``'s (in place of any it had), "associating"."""
    association = instance_profile(context, params.get("IamInstanceProfile"))
    if association is None:
        raise ec2.MissingParameter("IamInstanceProfile")
    with context.store.transaction() as tx:
        mine = tx.edit(Instance, instance.id)
        mine.iam_instance_profile = association
    return {"IamInstanceProfileAssociation": _association(mine, "associating")}


def _associated(context: RequestContext) -> list[Instance]:
    return [i for i in owned(context, Instance)
            if i.iam_instance_profile is not None and i.state != "terminated"]


ASSOCIATION_FILTERS: dict[str, filters.Field] = {
    "instance-id": lambda i: i.id,
    "state": lambda i: i.iam_instance_profile.state,
}


@operation("ec2", "DescribeIamInstanceProfileAssociations")
def describe_iam_instance_profile_associations(context: RequestContext, params: dict) -> dict:
    found = _associated(context)
    wanted = params.get("AssociationIds")
    if wanted:
        by_id = {i.iam_instance_profile.association_id: i for i in found}  # type: ignore[union-attr]
        missing = [a for a in wanted if a not in by_id]
        if missing:
            raise ec2.InvalidAssociationIDNotFound(missing[0])
        found = [by_id[a] for a in dict.fromkeys(wanted)]
    found = filters.apply(found, params.get("Filters"), ASSOCIATION_FILTERS)
    chunk, more = pages.page(found, params)
    return {"IamInstanceProfileAssociations": [_association(i) for i in chunk], **more}


def _associated_by_id(context: RequestContext, association_id: str) -> Instance:
    instance = next((i for i in _associated(context)
                     if i.iam_instance_profile.association_id == association_id), None)  # type: ignore[union-attr]
    if instance is None:
        raise ec2.InvalidAssociationIDNotFound(association_id)
    return instance


@operation("ec2", "ReplaceIamInstanceProfileAssociation")
def replace_iam_instance_profile_association(context: RequestContext, params: dict) -> dict:
    instance = _associated_by_id(context, params["AssociationId"])
    return _associate(context, instance, params)


@operation("ec2", "DisassociateIamInstanceProfile")
def disassociate_iam_instance_profile(context: RequestContext, params: dict) -> dict:
    instance = _associated_by_id(context, params["AssociationId"])
    answer = _association(instance, "disassociating")
    with context.store.transaction() as tx:
        tx.edit(Instance, instance.id).iam_instance_profile = None
    return {"IamInstanceProfileAssociation": answer}
