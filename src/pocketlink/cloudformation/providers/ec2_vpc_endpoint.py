"""AWS::EC2::VPCEndpoint: done once the endpoint is ``available`` (its listeners bound)
or ``pendingAcceptance`` (the service's owner decides), as AWS's handler waits;
``DnsEntries`` are ``<hosted zone id>:<dns name>``, as AWS formats them."""

from __future__ import annotations

import json
from datetime import datetime

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications, gone
from pocketlink.cloudformation.providers._ec2 import retag
from pocketlink.model.privatelink import VpcEndpoint

SETTLED = ("available", "pendingAcceptance")
FAILED = ("failed", "rejected")


def _policy(properties: dict) -> str | None:
    document = properties.get("PolicyDocument")
    if document is None or isinstance(document, str):
        return document
    return json.dumps(document)


class VpcEndpointProvider(Provider):
    type_name = "AWS::EC2::VPCEndpoint"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in ("VpcId", "ServiceName", "SubnetIds",
                                             "SecurityGroupIds", "PrivateDnsEnabled",
                                             "RouteTableIds", "IpAddressType", "DnsOptions")
                  if k in properties}
        params["VpcEndpointType"] = properties.get("VpcEndpointType", "Gateway")
        if _policy(properties) is not None:
            params["PolicyDocument"] = _policy(properties)
        params["TagSpecifications"] = ec2_tag_specifications("vpc-endpoint", properties)
        endpoint_id = api.call("ec2", "CreateVpcEndpoint", params)["VpcEndpoint"]["VpcEndpointId"]
        api.initiated(endpoint_id)
        return await self._settled(api, endpoint_id)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        params: dict = {"VpcEndpointId": physical_id}
        for member, add, remove in (("SubnetIds", "AddSubnetIds", "RemoveSubnetIds"),
                                    ("SecurityGroupIds", "AddSecurityGroupIds",
                                     "RemoveSecurityGroupIds"),
                                    ("RouteTableIds", "AddRouteTableIds", "RemoveRouteTableIds")):
            new, old = set(properties.get(member) or []), set(previous.get(member) or [])
            if new - old:
                params[add] = sorted(new - old)
            if old - new:
                params[remove] = sorted(old - new)
        if _policy(properties) != _policy(previous):
            if _policy(properties) is None:
                params["ResetPolicy"] = True
            else:
                params["PolicyDocument"] = _policy(properties)
        if properties.get("PrivateDnsEnabled") != previous.get("PrivateDnsEnabled") and \
                "PrivateDnsEnabled" in properties:
            params["PrivateDnsEnabled"] = properties["PrivateDnsEnabled"]
        if len(params) > 1:
            api.call("ec2", "ModifyVpcEndpoint", params)
        retag(api, physical_id, properties, previous)
        return await self._settled(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        try:
            answer = api.call("ec2", "DeleteVpcEndpoints", {"VpcEndpointIds": [physical_id]})
        except ProviderError as error:
            if gone(error):
                return
            raise
        for failure in answer.get("Unsuccessful") or []:
            error = failure.get("Error") or {}
            if "NotFound" not in error.get("Code", ""):
                raise ProviderError(f"{error.get('Code')}: {error.get('Message')}")

    @staticmethod
    async def _settled(api: Api, endpoint_id: str) -> Done:
        store = api.context.store

        def state() -> str | None:
            endpoint = store.get(VpcEndpoint, endpoint_id)
            if endpoint is None:
                return "deleted"
            return endpoint.state if endpoint.state in SETTLED + FAILED else None
        final = await api.until(state, f"VPC endpoint {endpoint_id} did not become available")
        endpoint = api.call("ec2", "DescribeVpcEndpoints",
                            {"VpcEndpointIds": [endpoint_id]})["VpcEndpoints"][0]
        if final not in SETTLED:
            problem = endpoint.get("LastError") or {}
            raise ProviderError(f"VPC endpoint {endpoint_id} is {final}"
                                + (f": {problem.get('Message')}" if problem else ""))
        created = endpoint["CreationTimestamp"]
        return Done(endpoint_id, {
            "Id": endpoint_id,
            "CreationTimestamp": created.isoformat() if isinstance(created, datetime)
            else str(created),
            "DnsEntries": [f"{e['HostedZoneId']}:{e['DnsName']}"
                           for e in endpoint.get("DnsEntries") or []],
            "NetworkInterfaceIds": list(endpoint.get("NetworkInterfaceIds") or [])})
