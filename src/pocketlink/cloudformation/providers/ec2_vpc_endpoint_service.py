"""AWS::EC2::VPCEndpointService."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import retag


class VpcEndpointServiceProvider(Provider):
    type_name = "AWS::EC2::VPCEndpointService"

    async def create(self, api: Api, properties: dict) -> Done:
        if properties.get("GatewayLoadBalancerArns"):
            raise ProviderError("pocketlink serves endpoint services of Network Load "
                                "Balancers only (GatewayLoadBalancerArns given)")
        params = {k: properties[k] for k in ("NetworkLoadBalancerArns", "AcceptanceRequired",
                                             "SupportedIpAddressTypes") if k in properties}
        params["TagSpecifications"] = ec2_tag_specifications("vpc-endpoint-service",
                                                             properties)
        service = api.call("ec2", "CreateVpcEndpointServiceConfiguration",
                           params)["ServiceConfiguration"]
        return self._done(service["ServiceId"], service["ServiceName"])

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        params: dict = {"ServiceId": physical_id}
        if properties.get("AcceptanceRequired") != previous.get("AcceptanceRequired"):
            params["AcceptanceRequired"] = bool(properties.get("AcceptanceRequired", False))
        new = set(properties.get("NetworkLoadBalancerArns") or [])
        old = set(previous.get("NetworkLoadBalancerArns") or [])
        if new - old:
            params["AddNetworkLoadBalancerArns"] = sorted(new - old)
        if old - new:
            params["RemoveNetworkLoadBalancerArns"] = sorted(old - new)
        if len(params) > 1:
            api.call("ec2", "ModifyVpcEndpointServiceConfiguration", params)
        retag(api, physical_id, properties, previous)
        service = api.call("ec2", "DescribeVpcEndpointServiceConfigurations",
                           {"ServiceIds": [physical_id]})["ServiceConfigurations"][0]
        return self._done(physical_id, service["ServiceName"])

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        answer = api.call("ec2", "DeleteVpcEndpointServiceConfigurations",
                          {"ServiceIds": [physical_id]})
        for failure in answer.get("Unsuccessful") or []:
            error = failure.get("Error") or {}
            if "NotFound" not in error.get("Code", ""):
                raise ProviderError(f"{error.get('Code')}: {error.get('Message')}")

    @staticmethod
    def _done(service_id: str, service_name: str) -> Done:
        return Done(service_id, {"ServiceId": service_id, "ServiceName": service_name})
