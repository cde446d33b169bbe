"""AWS::Route53::HostedZone: public, or private with its VPCs; NameServers as AWS lists them."""

from __future__ import annotations

import uuid

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone


def _vpc(vpc: dict) -> dict:
    return {"VPCId": vpc["VPCId"], "VPCRegion": vpc["VPCRegion"]}


def _tags(api: Api, zone_id: str, properties: dict, previous: dict) -> None:
    new = {t["Key"]: str(t.get("Value", "")) for t in properties.get("HostedZoneTags") or []}
    old = {t["Key"]: str(t.get("Value", "")) for t in previous.get("HostedZoneTags") or []}
    params: dict = {"ResourceType": "hostedzone", "ResourceId": zone_id}
    if [k for k in old if k not in new]:
        params["RemoveTagKeys"] = [k for k in old if k not in new]
    if {k: v for k, v in new.items() if old.get(k) != v}:
        params["AddTags"] = [{"Key": k, "Value": v} for k, v in new.items() if old.get(k) != v]
    if len(params) > 2:
        api.call("route53", "ChangeTagsForResource", params)


class HostedZoneProvider(Provider):
    type_name = "AWS::Route53::HostedZone"

    async def create(self, api: Api, properties: dict) -> Done:
        vpcs = [_vpc(v) for v in properties.get("VPCs") or []]
        params: dict = {"Name": properties["Name"], "CallerReference": str(uuid.uuid4())}
        comment = (properties.get("HostedZoneConfig") or {}).get("Comment")
        if comment:
            params["HostedZoneConfig"] = {"Comment": comment}
        if vpcs:
            params["VPC"] = vpcs[0]
        zone = api.call("route53", "CreateHostedZone", params)
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        for vpc in vpcs[1:]:
            api.call("route53", "AssociateVPCWithHostedZone", {"HostedZoneId": zone_id,
                                                               "VPC": vpc})
        _tags(api, zone_id, properties, {})
        return self._done(api, zone_id)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        new = [_vpc(v) for v in properties.get("VPCs") or []]
        old = [_vpc(v) for v in previous.get("VPCs") or []]
        for vpc in new:
            if vpc not in old:
                api.call("route53", "AssociateVPCWithHostedZone", {"HostedZoneId": physical_id,
                                                                   "VPC": vpc})
        for vpc in old:
            if vpc not in new:
                api.call("route53", "DisassociateVPCFromHostedZone",
                         {"HostedZoneId": physical_id, "VPC": vpc})
        comment = (properties.get("HostedZoneConfig") or {}).get("Comment")
        if comment != (previous.get("HostedZoneConfig") or {}).get("Comment"):
            api.call("route53", "UpdateHostedZoneComment", {"Id": physical_id,
                                                            "Comment": comment or ""})
        _tags(api, physical_id, properties, previous)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("route53", "DeleteHostedZone", {"Id": physical_id})

    @staticmethod
    def _done(api: Api, zone_id: str) -> Done:
        zone = api.call("route53", "GetHostedZone", {"Id": zone_id})
        servers = (zone.get("DelegationSet") or {}).get("NameServers") or []
        return Done(zone_id, {"Id": zone_id, "NameServers": servers})
