"""AWS::EC2::NatGateway: a public NAT gateway with its Elastic IP. Complete once
``available`` (AWS's wait), deleted once ``deleted``, so that its address can be released
and its subnet deleted after it. Private NAT gateways are not built by pocketlink."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import (
    Done,
    Provider,
    ec2_tag_specifications,
    settled_state,
    unless_gone,
)
from pocketlink.cloudformation.providers._ec2 import retag
from pocketlink.model.internet import NatGateway
from pocketlink.model.states import NatGatewayState


def _state(api: Api, nat_id: str) -> NatGateway | None:
    return api.context.store.get(NatGateway, nat_id)


class NatGatewayProvider(Provider):
    type_name = "AWS::EC2::NatGateway"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in ("SubnetId", "AllocationId", "ConnectivityType",
                                             "PrivateIpAddress") if k in properties}
        params["TagSpecifications"] = ec2_tag_specifications("natgateway", properties)
        nat = api.call("ec2", "CreateNatGateway", params)["NatGateway"]
        nat_id = nat["NatGatewayId"]
        api.initiated(nat_id)
        state = await settled_state(api, NatGateway, nat_id, (NatGatewayState.PENDING,),
                                    f"NAT gateway {nat_id} did not become available",
                                    gone=NatGatewayState.DELETED)
        if state != NatGatewayState.AVAILABLE:
            found = _state(api, nat_id)
            why = found.failure_message if found is not None else None
            raise ProviderError(f"NAT gateway {nat_id} is {state}" + (f": {why}" if why else ""))
        return self._done(api, nat_id)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            api.call("ec2", "DeleteNatGateway", {"NatGatewayId": physical_id})
        await api.until(lambda: (found := _state(api, physical_id)) is None or
                        found.state == NatGatewayState.DELETED,
                        f"NAT gateway {physical_id} was not deleted")

    @staticmethod
    def _done(api: Api, nat_id: str) -> Done:
        (nat,) = api.call("ec2", "DescribeNatGateways",
                          {"NatGatewayIds": [nat_id]})["NatGateways"]
        addresses = nat.get("NatGatewayAddresses") or [{}]
        return Done(nat_id, {"NatGatewayId": nat_id,
                             "EniId": addresses[0].get("NetworkInterfaceId", "")})
