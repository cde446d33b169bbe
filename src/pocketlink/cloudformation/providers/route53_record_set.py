"""AWS::Route53::RecordSet: its physical id is the record's name, as CloudFormation's."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, unless_gone

MEMBERS = ("Name", "Type", "TTL", "SetIdentifier", "Weight", "Region", "Failover",
           "MultiValueAnswer", "HealthCheckId", "GeoLocation")


def _record(properties: dict) -> dict:
    record = {k: properties[k] for k in MEMBERS if k in properties}
    if properties.get("ResourceRecords"):
        record["ResourceRecords"] = [{"Value": str(v)} for v in properties["ResourceRecords"]]
    alias = properties.get("AliasTarget")
    if alias:
        record["AliasTarget"] = {"HostedZoneId": alias["HostedZoneId"],
                                 "DNSName": alias["DNSName"],
                                 "EvaluateTargetHealth": alias.get("EvaluateTargetHealth", False)}
    return record


def _zone(api: Api, properties: dict) -> str:
    if properties.get("HostedZoneId"):
        return str(properties["HostedZoneId"]).rsplit("/", 1)[-1]
    name = str(properties.get("HostedZoneName", "")).rstrip(".").lower() + "."
    zones = api.call("route53", "ListHostedZonesByName", {"DNSName": name}).get("HostedZones")
    matching = [z for z in zones or [] if z["Name"] == name]
    if len(matching) != 1:
        raise ProviderError(f"{'No' if not matching else 'More than one'} hosted zone named "
                            f"{name} (give HostedZoneId)")
    return matching[0]["Id"].rsplit("/", 1)[-1]


def _change(api: Api, zone_id: str, changes: list[tuple[str, dict]]) -> None:
    api.call("route53", "ChangeResourceRecordSets", {
        "HostedZoneId": zone_id,
        "ChangeBatch": {"Changes": [{"Action": action, "ResourceRecordSet": record}
                                    for action, record in changes]}})


class RecordSetProvider(Provider):
    type_name = "AWS::Route53::RecordSet"

    async def create(self, api: Api, properties: dict) -> Done:
        _change(api, _zone(api, properties), [("CREATE", _record(properties))])
        return Done(str(properties["Name"]))

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        old, new = _record(previous), _record(properties)
        same_key = (old["Name"].rstrip("."), old["Type"]) == (new["Name"].rstrip("."),
                                                               new["Type"])
        _change(api, _zone(api, properties),
                [("UPSERT", new)] if same_key else [("DELETE", old), ("CREATE", new)])
        return Done(str(properties["Name"]))

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone("not found"):
            _change(api, _zone(api, properties), [("DELETE", _record(properties))])
