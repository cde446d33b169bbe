"""AWS::EC2::SecurityGroupIngress and AWS::EC2::SecurityGroupEgress: one rule each, its
physical id the rule's id (sgr-...)."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone
from pocketlink.cloudformation.providers.ec2_security_group import permission


class _Rule(Provider):
    verb = ""
    egress = False

    async def create(self, api: Api, properties: dict) -> Done:
        group_id = properties.get("GroupId")
        if not group_id and properties.get("GroupName"):
            group_id = api.call("ec2", "DescribeSecurityGroups", {
                "GroupNames": [properties["GroupName"]]})["SecurityGroups"][0]["GroupId"]
        answer = api.call("ec2", f"AuthorizeSecurityGroup{self.verb}", {
            "GroupId": group_id, "IpPermissions": [permission(properties, self.egress)]})
        rule_id = answer["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        return Done(rule_id, {"Id": rule_id})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        await self.delete(api, physical_id, previous)
        return await self.create(api, properties)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        groups = api.call("ec2", "DescribeSecurityGroupRules", {
            "SecurityGroupRuleIds": [physical_id]}).get("SecurityGroupRules") or []
        if not groups:
            return
        with unless_gone():
            api.call("ec2", f"RevokeSecurityGroup{self.verb}", {
                "GroupId": groups[0]["GroupId"], "SecurityGroupRuleIds": [physical_id]})


class IngressProvider(_Rule):
    type_name = "AWS::EC2::SecurityGroupIngress"
    verb = "Ingress"


class EgressProvider(_Rule):
    type_name = "AWS::EC2::SecurityGroupEgress"
    verb = "Egress"
    egress = True
