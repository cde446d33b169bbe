"""AWS::EC2::FlowLog: one flow log for one resource; only its tags change in place (every
other property is create-only, so a change replaces it)."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, ec2_tag_specifications
from pocketlink.cloudformation.providers._ec2 import retag

_PASSED = ("ResourceType", "TrafficType", "LogDestinationType", "LogDestination",
           "LogGroupName", "DeliverLogsPermissionArn", "DeliverCrossAccountRole", "LogFormat",
           "MaxAggregationInterval", "DestinationOptions")


class FlowLogProvider(Provider):
    type_name = "AWS::EC2::FlowLog"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in _PASSED if k in properties}
        params["ResourceIds"] = [properties["ResourceId"]]
        params["TagSpecifications"] = ec2_tag_specifications("vpc-flow-log", properties)
        made = api.call("ec2", "CreateFlowLogs", params)
        for failure in made.get("Unsuccessful") or []:
            raise ProviderError(failure["Error"]["Message"])
        (flow_log_id,) = made["FlowLogIds"]
        return Done(flow_log_id, {"Id": flow_log_id})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        return Done(physical_id, {"Id": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        # An id EC2 does not know comes back as an Unsuccessful item: already gone.
        api.call("ec2", "DeleteFlowLogs", {"FlowLogIds": [physical_id]})
