"""AWS::EC2::NetworkInsightsPath: a Reachability Analyzer path; only its tags change in
place (every other property is create-only, so a change replaces it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import (
    Done,
    Provider,
    ec2_tag_specifications,
    unless_gone,
)
from pocketlink.cloudformation.providers._ec2 import retag

_PASSED = ("SourceIp", "DestinationIp", "Source", "Destination", "Protocol",
           "DestinationPort", "FilterAtSource", "FilterAtDestination")


class NetworkInsightsPathProvider(Provider):
    type_name = "AWS::EC2::NetworkInsightsPath"

    async def create(self, api: Api, properties: dict) -> Done:
        params = {k: properties[k] for k in _PASSED if k in properties}
        params["TagSpecifications"] = ec2_tag_specifications("network-insights-path",
                                                             properties)
        params["ClientToken"] = str(uuid.uuid4())
        path = api.call("ec2", "CreateNetworkInsightsPath", params)["NetworkInsightsPath"]
        return self._done(path)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        retag(api, physical_id, properties, previous)
        (path,) = api.call("ec2", "DescribeNetworkInsightsPaths", {
            "NetworkInsightsPathIds": [physical_id]})["NetworkInsightsPaths"]
        return self._done(path)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        # A path with analyses is refused (AnalysisExistsForNetworkInsightsPath), as the
        # API refuses it: they are not the stack's to delete.
        with unless_gone():
            api.call("ec2", "DeleteNetworkInsightsPath", {"NetworkInsightsPathId": physical_id})

    @staticmethod
    def _done(path: dict) -> Done:
        created = path["CreatedDate"]
        return Done(path["NetworkInsightsPathId"], {
            "NetworkInsightsPathId": path["NetworkInsightsPathId"],
            "NetworkInsightsPathArn": path["NetworkInsightsPathArn"],
            "CreatedDate": created.isoformat() if isinstance(created, datetime) else created,
            "SourceArn": path.get("SourceArn", ""),
            "DestinationArn": path.get("DestinationArn", "")})
