"""AWS::SSM::Parameter, made in the backend (SSM is moto's)."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api
from pocketlink.cloudformation.providers import Done, Provider, unless_gone

MEMBERS = ("Type", "Value", "Description", "AllowedPattern", "Tier", "Policies", "DataType")


class ParameterProvider(Provider):
    type_name = "AWS::SSM::Parameter"

    async def create(self, api: Api, properties: dict) -> Done:
        name = properties.get("Name") or f"CFN-{api.logical_id}-{api.physical_name(12)[-12:]}"
        params = {"Name": name, **{k: properties[k] for k in MEMBERS if k in properties}}
        tags = properties.get("Tags") or {}
        if tags:
            params["Tags"] = [{"Key": k, "Value": str(v)} for k, v in tags.items()]
        await api.backend("ssm", "PutParameter", params)
        return self._done(name, properties)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        params = {"Name": physical_id, "Overwrite": True,
                  **{k: properties[k] for k in MEMBERS if k in properties}}
        await api.backend("ssm", "PutParameter", params)
        return self._done(physical_id, properties)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone("ParameterNotFound"):
            await api.backend("ssm", "DeleteParameter", {"Name": physical_id})

    @staticmethod
    def _done(name: str, properties: dict) -> Done:
        return Done(name, {"Type": properties.get("Type", "String"),
                           "Value": properties.get("Value", "")})
