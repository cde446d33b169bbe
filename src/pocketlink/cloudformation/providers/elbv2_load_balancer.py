"""AWS::ElasticLoadBalancingV2::LoadBalancer: done once the load balancer is ``active``
(its nodes listening), as AWS's handler waits."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, settled_state, tags_of, unless_gone
from pocketlink.cloudformation.providers._elbv2 import attributes, retag
from pocketlink.model.elbv2 import LoadBalancer

NAME_LENGTH = 32


class LoadBalancerProvider(Provider):
    type_name = "AWS::ElasticLoadBalancingV2::LoadBalancer"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in ("Subnets", "SubnetMappings", "SecurityGroups",
                                             "Scheme", "IpAddressType", "Type")
                  if k in properties}
        params["Name"] = properties.get("Name") or api.physical_name(NAME_LENGTH)
        params.setdefault("Type", "application")
        if tags_of(properties):
            params["Tags"] = tags_of(properties)
        balancer = api.call("elbv2", "CreateLoadBalancer", params)["LoadBalancers"][0]
        arn = balancer["LoadBalancerArn"]
        api.initiated(arn)
        if properties.get("SecurityGroups") and \
                "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic" in properties:
            _set_security_groups(api, arn, properties)  # CreateLoadBalancer has no such field
        attributes(api, "ModifyLoadBalancerAttributes", "LoadBalancerArn", arn,
                   properties.get("LoadBalancerAttributes") or [], [])
        return await self._active(api, arn)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        if sorted(properties.get("Subnets") or []) != sorted(previous.get("Subnets") or []) or \
                properties.get("SubnetMappings") != previous.get("SubnetMappings"):
            raise ProviderError("pocketlink cannot change a load balancer's subnets in place "
                                "(SetSubnets)")
        if any(properties.get(k) != previous.get(k) for k in (
                "SecurityGroups", "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")):
            _set_security_groups(api, physical_id, properties)
        if properties.get("IpAddressType") != previous.get("IpAddressType") and \
                properties.get("IpAddressType"):
            api.call("elbv2", "SetIpAddressType", {"LoadBalancerArn": physical_id,
                                                   "IpAddressType": properties["IpAddressType"]})
        attributes(api, "ModifyLoadBalancerAttributes", "LoadBalancerArn", physical_id,
                   properties.get("LoadBalancerAttributes") or [],
                   previous.get("LoadBalancerAttributes") or [])
        retag(api, physical_id, properties, previous)
        return await self._active(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("elbv2", "DeleteLoadBalancer", {"LoadBalancerArn": physical_id})

    @staticmethod
    async def _active(api: Api, arn: str) -> Done:
        final = await settled_state(api, LoadBalancer, arn, ("provisioning",),
                                    f"Load balancer {arn} did not become active")
        if final != "active":
            raise ProviderError(f"Load balancer {arn} is {final}")
        balancer = api.call("elbv2", "DescribeLoadBalancers",
                            {"LoadBalancerArns": [arn]})["LoadBalancers"][0]
        return Done(arn, {
            "LoadBalancerArn": arn, "DNSName": balancer["DNSName"],
            "CanonicalHostedZoneID": balancer["CanonicalHostedZoneId"],
            "LoadBalancerName": balancer["LoadBalancerName"],
            "LoadBalancerFullName": arn.split(":loadbalancer/", 1)[1],
            "SecurityGroups": list(balancer.get("SecurityGroups") or [])})


def _set_security_groups(api: Api, arn: str, properties: dict) -> None:
    params = {"LoadBalancerArn": arn, "SecurityGroups": properties.get("SecurityGroups") or []}
    if "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic" in properties:
        params["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = \
            properties["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"]
    api.call("elbv2", "SetSecurityGroups", params)
