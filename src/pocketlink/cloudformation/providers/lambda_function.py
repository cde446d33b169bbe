"""AWS::Lambda::Function, recorded in the backend's Lambda (moto's): the function, its code
read from S3 (``Code.S3Bucket``/``S3Key``, where ``cdk deploy`` published it) and its role
checked. pocketlink runs no Lambda: a function is stored, listed and deleted, never invoked.
The custom resources it would back are pocketlink's own providers
(``custom_vpc_restrict_default_sg``), so nothing waits on an invocation that never comes.
Properties not carried over fail the resource, naming them."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, tags_of, unless_gone

# CloudFormation's names that are CreateFunction's, as they are.
DIRECT = ("Handler", "Role", "Runtime", "Timeout", "MemorySize", "Description",
          "Environment", "Architectures", "Layers", "PackageType")
CODE = {"S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri"}
HANDLED = {"FunctionName", "Code", "Tags", *DIRECT}


def _refuse_unhandled(properties: dict) -> None:
    unhandled = sorted(set(properties) - HANDLED) + \
        sorted(f"Code.{k}" for k in set(properties.get("Code") or {}) - CODE)
    if unhandled:
        raise ProviderError(f"pocketlink's AWS::Lambda::Function does not carry out the "
                            f"properties [{', '.join(unhandled)}] yet")


class FunctionProvider(Provider):
    type_name = "AWS::Lambda::Function"

    async def create(self, api: Api, properties: dict) -> Done:
        _refuse_unhandled(properties)
        name = properties.get("FunctionName") or api.physical_name(64)
        params: dict = {"FunctionName": name, "Code": dict(properties["Code"]),
                        **{k: properties[k] for k in DIRECT if k in properties}}
        for number in ("Timeout", "MemorySize"):
            if number in params:
                params[number] = int(params[number])
        if tags_of(properties):
            params["Tags"] = {t["Key"]: t["Value"] for t in tags_of(properties)}
        made = await api.backend("lambda", "CreateFunction", params)
        return Done(name, {"Arn": made["FunctionArn"]})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        _refuse_unhandled(properties)
        if properties["Code"] != previous.get("Code"):
            await api.backend("lambda", "UpdateFunctionCode", {"FunctionName": physical_id,
                                                               **properties["Code"]})
        settings = {k: properties[k] for k in DIRECT
                    if k not in ("Architectures", "PackageType") and k in properties}
        for number in ("Timeout", "MemorySize"):
            if number in settings:
                settings[number] = int(settings[number])
        made = await api.backend("lambda", "UpdateFunctionConfiguration",
                                 {"FunctionName": physical_id, **settings})
        return Done(physical_id, {"Arn": made["FunctionArn"]})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            await api.backend("lambda", "DeleteFunction", {"FunctionName": physical_id})
