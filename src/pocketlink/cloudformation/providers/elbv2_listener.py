"""AWS::ElasticLoadBalancingV2::Listener."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone

MEMBERS = ("Port", "Protocol", "DefaultActions", "Certificates", "SslPolicy", "AlpnPolicy")


class ListenerProvider(Provider):
    type_name = "AWS::ElasticLoadBalancingV2::Listener"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in ("LoadBalancerArn", *MEMBERS) if k in properties}
        listener = api.call("elbv2", "CreateListener", params)["Listeners"][0]
        return Done(listener["ListenerArn"], {"ListenerArn": listener["ListenerArn"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        params = {k: properties[k] for k in MEMBERS if k in properties}
        api.call("elbv2", "ModifyListener", {"ListenerArn": physical_id, **params})
        return Done(physical_id, {"ListenerArn": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("elbv2", "DeleteListener", {"ListenerArn": physical_id})
