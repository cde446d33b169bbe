"""AWS::AutoScaling::AutoScalingGroup: Ref is the group's name. Without a CreationPolicy,
CloudFormation's create and update complete once the desired capacity is InService, and
so do these; the scaler (reconcile/autoscaling.py) launches and registers the instances.
A delete force-deletes the group and waits for its instances to be terminated.

Launch configurations, mixed instances policies, notification and lifecycle hook
configurations and metrics collection are not served by pocketlink's Auto Scaling: the
handler refuses them by name, so the resource fails rather than half-exists.
"""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, gone
from pocketlink.model.autoscaling import IN_SERVICE, AutoScalingGroup

NAME_LENGTH = 255
UNSERVED = ("LaunchConfigurationName", "MixedInstancesPolicy", "InstanceId",
            "LifecycleHookSpecificationList", "NotificationConfigurations", "MetricsCollection",
            "LoadBalancerNames", "WarmPool")
# Properties that map one to one onto Create/UpdateAutoScalingGroup's parameters.
SETTINGS = ("MinSize", "MaxSize", "DesiredCapacity", "HealthCheckType",
            "HealthCheckGracePeriod", "MaxInstanceLifetime", "TerminationPolicies",
            "NewInstancesProtectedFromScaleIn", "AvailabilityZones")


def _params(properties: dict) -> dict:
    unserved = [k for k in UNSERVED if properties.get(k)]
    if unserved:
        raise ProviderError(f"pocketlink's Auto Scaling groups do not support "
                            f"{', '.join(unserved)}")
    params = {k: properties[k] for k in SETTINGS if k in properties}
    if "Cooldown" in properties:
        params["DefaultCooldown"] = properties["Cooldown"]
    if properties.get("VPCZoneIdentifier"):
        params["VPCZoneIdentifier"] = ",".join(properties["VPCZoneIdentifier"])
    if properties.get("LaunchTemplate"):
        params["LaunchTemplate"] = {k: str(v) for k, v in properties["LaunchTemplate"].items()
                                    if k in ("LaunchTemplateId", "LaunchTemplateName",
                                             "Version")}
    return params


def _tags(name: str, properties: dict) -> list[dict]:
    return [{"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": t["Key"],
             "Value": str(t.get("Value", "")),
             "PropagateAtLaunch": str(t.get("PropagateAtLaunch", "false")).lower() == "true"}
            for t in properties.get("Tags") or []]


async def _in_service(api: Api, name: str) -> None:
    """Until the group's desired capacity is InService (CloudFormation's wait)."""

    def ready() -> bool:
        group = next((g for g in api.context.store.all(AutoScalingGroup)
                      if g.account == api.account and g.region == api.region and
                      g.name == name), None)
        if group is None:
            raise ProviderError(f"Auto Scaling group {name} no longer exists")
        serving = sum(m.lifecycle_state == IN_SERVICE for m in group.instances)
        return serving == group.desired_capacity and len(group.instances) == serving

    await api.until(ready, f"Auto Scaling group {name} did not reach its desired capacity "
                           "of InService instances")


class AutoScalingGroupProvider(Provider):
    type_name = "AWS::AutoScaling::AutoScalingGroup"

    async def create(self, api: Api, properties: dict) -> Done:
        name = properties.get("AutoScalingGroupName") or api.physical_name(NAME_LENGTH)
        params = {"AutoScalingGroupName": name, **_params(properties)}
        if properties.get("TargetGroupARNs"):
            params["TargetGroupARNs"] = properties["TargetGroupARNs"]
        if properties.get("Tags"):
            params["Tags"] = _tags(name, properties)
        api.call("autoscaling", "CreateAutoScalingGroup", params)
        api.initiated(name)
        await _in_service(api, name)
        return self._done(api, name)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        new, old = _params(properties), _params(previous)
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if changed:
            api.call("autoscaling", "UpdateAutoScalingGroup",
                     {"AutoScalingGroupName": physical_id, **changed})
        now_, before = (set(p.get("TargetGroupARNs") or []) for p in (properties, previous))
        if now_ - before:
            api.call("autoscaling", "AttachLoadBalancerTargetGroups", {
                "AutoScalingGroupName": physical_id, "TargetGroupARNs": sorted(now_ - before)})
        if before - now_:
            api.call("autoscaling", "DetachLoadBalancerTargetGroups", {
                "AutoScalingGroupName": physical_id, "TargetGroupARNs": sorted(before - now_)})
        tags, earlier = _tags(physical_id, properties), _tags(physical_id, previous)
        dropped = [t for t in earlier if t["Key"] not in {n["Key"] for n in tags}]
        if dropped:
            api.call("autoscaling", "DeleteTags", {"Tags": dropped})
        if [t for t in tags if t not in earlier]:
            api.call("autoscaling", "CreateOrUpdateTags",
                     {"Tags": [t for t in tags if t not in earlier]})
        await _in_service(api, physical_id)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        try:
            api.call("autoscaling", "DeleteAutoScalingGroup",
                     {"AutoScalingGroupName": physical_id, "ForceDelete": True})
        except ProviderError as error:
            if gone(error) or "not found" in str(error).lower():
                return
            raise
        await api.until(lambda: not any(
            g.name == physical_id and g.account == api.account and g.region == api.region
            for g in api.context.store.all(AutoScalingGroup)),
            f"Auto Scaling group {physical_id} kept instances it could not terminate")

    @staticmethod
    def _done(api: Api, name: str) -> Done:
        (group,) = api.call("autoscaling", "DescribeAutoScalingGroups",
                            {"AutoScalingGroupNames": [name]})["AutoScalingGroups"]
        return Done(name, {"AutoScalingGroupName": name,
                           "AutoScalingGroupARN": group["AutoScalingGroupARN"]})
