"""AWS::EC2::VPCPeeringConnection: Ref is its id. A peering of two VPCs of the stack's
account is accepted by CloudFormation itself, as AWS's does, and completes ``active``;
one with another account's VPC is accepted in that account when PeerRoleArn is given
(pocketlink does not check the role's trust policy: a guess at the least AWS checks), and
otherwise completes ``pending-acceptance``, for that account to accept by hand."""

from __future__ import annotations

from dataclasses import replace

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import (
    Done,
    Provider,
    ec2_tag_specifications,
    settled_state,
    unless_gone,
)
from pocketlink.cloudformation.providers._ec2 import retag
from pocketlink.model.peering import PeeringState, VpcPeeringConnection


class VpcPeeringConnectionProvider(Provider):
    type_name = "AWS::EC2::VPCPeeringConnection"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in ("VpcId", "PeerVpcId", "PeerOwnerId", "PeerRegion")
                  if k in properties}
        params["TagSpecifications"] = ec2_tag_specifications("vpc-peering-connection",
                                                             properties)
        peering_id = api.call("ec2", "CreateVpcPeeringConnection", params)[
            "VpcPeeringConnection"]["VpcPeeringConnectionId"]
        api.initiated(peering_id)
        status = await self._past(api, peering_id, (PeeringState.INITIATING_REQUEST,))
        if status != PeeringState.PENDING_ACCEPTANCE:
            raise ProviderError(f"VPC peering connection {peering_id} is {status}")
        owner = str(properties.get("PeerOwnerId") or api.account)
        if owner == api.account or properties.get("PeerRoleArn"):
            accepter = Api(replace(api.context, account=owner, principal="", user_id=""),
                           api.stack_name, api.logical_id)
            accepter.call("ec2", "AcceptVpcPeeringConnection",
                          {"VpcPeeringConnectionId": peering_id})
            status = await self._past(api, peering_id, (PeeringState.PENDING_ACCEPTANCE,
                                                        PeeringState.PROVISIONING))
            if status != PeeringState.ACTIVE:
                raise ProviderError(f"VPC peering connection {peering_id} is {status}")
        return Done(peering_id, {"Id": peering_id})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        return Done(physical_id, {"Id": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone("InvalidStateTransition"):
            api.call("ec2", "DeleteVpcPeeringConnection",
                     {"VpcPeeringConnectionId": physical_id})

    @staticmethod
    async def _past(api: Api, peering_id: str, states: tuple[str, ...]) -> str:
        return await settled_state(api, VpcPeeringConnection, peering_id, states,
                                   f"VPC peering connection {peering_id} stayed "
                                   f"{' or '.join(states)}", gone=PeeringState.DELETED,
                                   member="status")
