"""AWS::S3::BucketPolicy, put in the backend's S3; its physical id is the bucket's name."""

from __future__ import annotations

import json

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone


def _document(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class BucketPolicyProvider(Provider):
    type_name = "AWS::S3::BucketPolicy"

    async def create(self, api: Api, properties: dict) -> Done:
        await api.backend("s3", "PutBucketPolicy", {
            "Bucket": properties["Bucket"], "Policy": _document(properties["PolicyDocument"])})
        return Done(str(properties["Bucket"]))

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        return await self.create(api, properties)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            await api.backend("s3", "DeleteBucketPolicy", {"Bucket": physical_id})
