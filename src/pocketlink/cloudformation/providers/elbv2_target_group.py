"""AWS::ElasticLoadBalancingV2::TargetGroup."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, tags_of, unless_gone
from pocketlink.cloudformation.providers._elbv2 import attributes, retag
from pocketlink.model.elbv2 import Listener

NAME_LENGTH = 32
HEALTH = ("HealthCheckProtocol", "HealthCheckPort", "HealthCheckEnabled", "HealthCheckPath",
          "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
          "UnhealthyThresholdCount", "Matcher")


def _targets(properties: dict) -> list[dict]:
    return [{k: t[k] for k in ("Id", "Port", "AvailabilityZone") if k in t}
            for t in properties.get("Targets") or []]


class TargetGroupProvider(Provider):
    type_name = "AWS::ElasticLoadBalancingV2::TargetGroup"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in ("Protocol", "ProtocolVersion", "Port", "VpcId",
                                             "TargetType", "IpAddressType", *HEALTH)
                  if k in properties}
        params["Name"] = properties.get("Name") or api.physical_name(NAME_LENGTH)
        if tags_of(properties):
            params["Tags"] = tags_of(properties)
        group = api.call("elbv2", "CreateTargetGroup", params)["TargetGroups"][0]
        arn = group["TargetGroupArn"]
        attributes(api, "ModifyTargetGroupAttributes", "TargetGroupArn", arn,
                   properties.get("TargetGroupAttributes") or [], [])
        if _targets(properties):
            api.call("elbv2", "RegisterTargets", {"TargetGroupArn": arn,
                                                  "Targets": _targets(properties)})
        return self._done(api, arn)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        health = {k: properties[k] for k in HEALTH if k in properties and
                  properties[k] != previous.get(k)}
        if health:
            api.call("elbv2", "ModifyTargetGroup", {"TargetGroupArn": physical_id, **health})
        attributes(api, "ModifyTargetGroupAttributes", "TargetGroupArn", physical_id,
                   properties.get("TargetGroupAttributes") or [],
                   previous.get("TargetGroupAttributes") or [])
        new, old = _targets(properties), _targets(previous)
        gone_ = [t for t in old if t not in new]
        if gone_:
            api.call("elbv2", "DeregisterTargets", {"TargetGroupArn": physical_id,
                                                    "Targets": gone_})
        added = [t for t in new if t not in old]
        if added:
            api.call("elbv2", "RegisterTargets", {"TargetGroupArn": physical_id,
                                                  "Targets": added})
        retag(api, physical_id, properties, previous)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("elbv2", "DeleteTargetGroup", {"TargetGroupArn": physical_id})

    @staticmethod
    def _done(api: Api, arn: str) -> Done:
        name = arn.split(":targetgroup/", 1)[1].split("/")[0]
        balancers = sorted({lst.load_balancer_arn for lst in api.context.store.all(Listener)
                            if lst.target_group_arn == arn})
        return Done(arn, {"TargetGroupArn": arn, "TargetGroupName": name,
                          "TargetGroupFullName": arn.split(":", 5)[5],
                          "LoadBalancerArns": balancers})
