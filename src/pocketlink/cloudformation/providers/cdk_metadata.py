"""AWS::CDK::Metadata: what the CDK records of the app that made a template. AWS stores it
and makes nothing; so does pocketlink."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider


class CdkMetadataProvider(Provider):
    type_name = "AWS::CDK::Metadata"

    async def create(self, api: Api, properties: dict) -> Done:
        return Done(api.physical_name(128))

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        return Done(physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        return None
