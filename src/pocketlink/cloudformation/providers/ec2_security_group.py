"""AWS::EC2::SecurityGroup, its inline rules kept as the template says (an egress list
replaces the default allow-all rule, as CloudFormation does)."""

from __future__ import annotations

import json

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import delete_when_free, retag

ALL_OUT = {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}


def permission(rule: dict, egress: bool) -> dict:
    """A template's rule (CidrIp, SourceSecurityGroupId...) as an IpPermission."""
    protocol = str(rule.get("IpProtocol", "-1"))
    item: dict = {"IpProtocol": protocol}
    if protocol not in ("-1", "all"):
        item["FromPort"] = int(rule.get("FromPort", -1))
        item["ToPort"] = int(rule.get("ToPort", -1))
    extra = {"Description": rule["Description"]} if rule.get("Description") else {}
    group = rule.get("DestinationSecurityGroupId" if egress else "SourceSecurityGroupId")
    prefix = rule.get("DestinationPrefixListId" if egress else "SourcePrefixListId")
    if rule.get("CidrIp"):
        item["IpRanges"] = [{"CidrIp": rule["CidrIp"], **extra}]
    if rule.get("CidrIpv6"):
        item["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **extra}]
    if group:
        pair = {"GroupId": group, **extra}
        if rule.get("SourceSecurityGroupOwnerId"):
            pair["UserId"] = rule["SourceSecurityGroupOwnerId"]
        item["UserIdGroupPairs"] = [pair]
    if prefix:
        item["PrefixListIds"] = [{"PrefixListId": prefix, **extra}]
    return item


def _key(rule: dict, egress: bool) -> str:
    return json.dumps(permission(rule, egress), sort_keys=True)


class SecurityGroupProvider(Provider):
    type_name = "AWS::EC2::SecurityGroup"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {"GroupName": properties.get("GroupName") or api.physical_name(255),
                  "Description": properties.get("GroupDescription", ""),
                  "TagSpecifications": ec2_tag_specifications("security-group", properties)}
        if properties.get("VpcId"):
            params["VpcId"] = properties["VpcId"]
        group_id = api.call("ec2", "CreateSecurityGroup", params)["GroupId"]
        self._rules(api, group_id, properties, {"SecurityGroupEgress": [ALL_OUT]})
        return self._done(api, group_id)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        old = dict(previous)
        old.setdefault("SecurityGroupEgress", [ALL_OUT])
        self._rules(api, physical_id, properties, old)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        await delete_when_free(api, "ec2", "DeleteSecurityGroup", {"GroupId": physical_id})

    @staticmethod
    def _rules(api: Api, group_id: str, properties: dict, previous: dict) -> None:
        for member, egress, verb in (("SecurityGroupIngress", False, "Ingress"),
                                     ("SecurityGroupEgress", True, "Egress")):
            wanted = properties.get(member)
            if wanted is None and egress:
                wanted = [ALL_OUT]
            wanted = wanted or []
            had = previous.get(member) or []
            wanted_keys = {_key(r, egress) for r in wanted}
            had_keys = {_key(r, egress) for r in had}
            gone = [permission(r, egress) for r in had if _key(r, egress) not in wanted_keys]
            new = [permission(r, egress) for r in wanted if _key(r, egress) not in had_keys]
            if gone:
                api.call("ec2", f"RevokeSecurityGroup{verb}", {"GroupId": group_id,
                                                               "IpPermissions": gone})
            if new:
                api.call("ec2", f"AuthorizeSecurityGroup{verb}", {"GroupId": group_id,
                                                                  "IpPermissions": new})

    @staticmethod
    def _done(api: Api, group_id: str) -> Done:
        group = api.call("ec2", "DescribeSecurityGroups",
                         {"GroupIds": [group_id]})["SecurityGroups"][0]
        return Done(group_id, {"GroupId": group_id, "Id": group_id,
                               "VpcId": group.get("VpcId", "")})
