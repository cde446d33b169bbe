"""What the EC2 providers share: tags and boolean attributes changed in place, and deletes that wait for what
still depends on the resource (an NLB's or an endpoint's ENIs leave a subnet once the
network has removed them) rather than fail at once."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import gone, tags_of

DEPENDENCY_WAIT = 120.0  # seconds a delete waits for the resources still in its way


def retag(api: Api, resource_id: str, properties: dict, previous: dict) -> None:
    new = {t["Key"]: t["Value"] for t in tags_of(properties)}
    old = {t["Key"]: t["Value"] for t in tags_of(previous)}
    dropped = [{"Key": k} for k in old if k not in new]
    if dropped:
        api.call("ec2", "DeleteTags", {"Resources": [resource_id], "Tags": dropped})
    changed = [{"Key": k, "Value": v} for k, v in new.items() if old.get(k) != v]
    if changed:
        api.call("ec2", "CreateTags", {"Resources": [resource_id], "Tags": changed})


def modify_attributes(api: Api, operation: str, key: str, resource_id: str,
                      names: tuple[str, ...], properties: dict, previous: dict) -> None:
    """Each boolean attribute of ``names`` whose property changed, one Modify*Attribute
    call each (EC2 takes one attribute a call)."""
    for name in names:
        if name in properties and properties[name] != previous.get(name):
            api.call("ec2", operation, {key: resource_id, name: {"Value": properties[name]}})


async def delete_when_free(api: Api, service: str, operation: str, params: dict) -> None:
    """``operation``, tried again each time the store changes while it answers
    DependencyViolation (or a ResourceInUse, an address InUse), until DEPENDENCY_WAIT runs
    out."""
    last: list[str] = []

    def attempt() -> bool:
        try:
            api.call(service, operation, params)
        except ProviderError as error:
            if gone(error):
                return True
            if "DependencyViolation" in str(error) or "InUse" in str(error):
                last[:] = [str(error)]
                return False
            raise
        return True

    try:
        await api.until(attempt, "still in use", DEPENDENCY_WAIT)
    except ProviderError:
        if last:
            raise ProviderError(last[0]) from None
        raise


async def delete_unless_in_use(api: Api, operation: str, params: dict) -> None:
    """``operation``, tried again on each store change while it answers IncorrectState
    (a gateway still attached or used: what depends on it goes first)."""
    def attempt() -> bool:
        try:
            api.call("ec2", operation, params)
        except ProviderError as error:
            if gone(error):
                return True
            if "IncorrectState" in str(error):
                return False
            raise
        return True

    await api.until(attempt, f"{operation}: still in use", DEPENDENCY_WAIT)
