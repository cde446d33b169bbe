"""AWS::S3::Bucket, made in the backend (S3 is moto's). Properties pocketlink does not
carry over fail the resource, naming them, rather than being dropped."""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, tags_of, unless_gone

HANDLED = {"BucketName", "AccessControl", "Tags", "VersioningConfiguration", "BucketEncryption",
           "PublicAccessBlockConfiguration", "LifecycleConfiguration", "OwnershipControls"}
# A lifecycle rule's members that pocketlink carries over (CloudFormation's names).
RULE_MEMBERS = {"Id", "Status", "Prefix", "ExpirationInDays", "NoncurrentVersionExpiration",
                "NoncurrentVersionExpirationInDays", "AbortIncompleteMultipartUpload"}


def encryption_rule(rule: dict) -> dict:
    """CloudFormation's ServerSideEncryptionByDefault is the API's
    ApplyServerSideEncryptionByDefault."""
    out = {k: v for k, v in rule.items() if k != "ServerSideEncryptionByDefault"}
    if "ServerSideEncryptionByDefault" in rule:
        out["ApplyServerSideEncryptionByDefault"] = rule["ServerSideEncryptionByDefault"]
    return out


def lifecycle_rule(rule: dict) -> dict:
    """A template's lifecycle rule as S3's API writes it."""
    unhandled = sorted(set(rule) - RULE_MEMBERS)
    if unhandled:
        raise ProviderError(f"pocketlink's AWS::S3::Bucket does not carry out the lifecycle "
                            f"rule properties [{', '.join(unhandled)}] yet")
    out: dict = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if rule.get("Id"):
        out["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    noncurrent = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if "NoncurrentVersionExpirationInDays" in rule else None)
    if noncurrent:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays":
                                              int(noncurrent["NoncurrentDays"])}
    if rule.get("AbortIncompleteMultipartUpload"):
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(
            rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return out


def canned_acl(access_control: str) -> str:
    """CloudFormation's AccessControl (``PublicRead``) is S3's canned ACL (``public-read``)."""
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in access_control).lstrip("-")


def _configure(api_calls: list, properties: dict, previous: dict, bucket: str) -> None:
    access = properties.get("AccessControl")
    if access and access != previous.get("AccessControl"):
        api_calls.append(("PutBucketAcl", {"Bucket": bucket, "ACL": canned_acl(access)}))
    if properties.get("Tags") != previous.get("Tags"):
        api_calls.append(("PutBucketTagging", {"Bucket": bucket,
                                               "Tagging": {"TagSet": tags_of(properties)}})
                         if tags_of(properties) else ("DeleteBucketTagging", {"Bucket": bucket}))
    versioning = properties.get("VersioningConfiguration")
    if versioning and versioning != previous.get("VersioningConfiguration"):
        api_calls.append(("PutBucketVersioning", {"Bucket": bucket, "VersioningConfiguration": {
            "Status": versioning["Status"]}}))
    encryption = properties.get("BucketEncryption")
    if encryption and encryption != previous.get("BucketEncryption"):
        api_calls.append(("PutBucketEncryption", {
            "Bucket": bucket, "ServerSideEncryptionConfiguration": {
                "Rules": [encryption_rule(r) for r in
                          encryption["ServerSideEncryptionConfiguration"]]}}))
    lifecycle = properties.get("LifecycleConfiguration")
    if lifecycle and lifecycle != previous.get("LifecycleConfiguration"):
        api_calls.append(("PutBucketLifecycleConfiguration", {
            "Bucket": bucket, "LifecycleConfiguration": {
                "Rules": [lifecycle_rule(r) for r in lifecycle.get("Rules") or []]}}))
    ownership = properties.get("OwnershipControls")
    if ownership and ownership != previous.get("OwnershipControls"):
        api_calls.append(("PutBucketOwnershipControls", {"Bucket": bucket,
                                                         "OwnershipControls": ownership}))
    block = properties.get("PublicAccessBlockConfiguration")
    if block and block != previous.get("PublicAccessBlockConfiguration"):
        api_calls.append(("PutPublicAccessBlock", {"Bucket": bucket,
                                                   "PublicAccessBlockConfiguration": block}))


class BucketProvider(Provider):
    type_name = "AWS::S3::Bucket"

    async def create(self, api: Api, properties: dict) -> Done:
        _refuse_unhandled(properties)
        name = properties.get("BucketName") or api.physical_name(63, lower=True)
        params: dict = {"Bucket": name}
        if api.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": api.region}
        await api.backend("s3", "CreateBucket", params)
        await self._apply(api, properties, {}, name)
        return self._done(api, name)

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        _refuse_unhandled(properties)
        await self._apply(api, properties, previous, physical_id)
        return self._done(api, physical_id)

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        with unless_gone():
            await api.backend("s3", "DeleteBucket", {"Bucket": physical_id})

    @staticmethod
    async def _apply(api: Api, properties: dict, previous: dict, bucket: str) -> None:
        calls: list = []
        _configure(calls, properties, previous, bucket)
        for operation, params in calls:
            await api.backend("s3", operation, params)

    @staticmethod
    def _done(api: Api, name: str) -> Done:
        region = api.region
        return Done(name, {
            "Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com"})


def _refuse_unhandled(properties: dict) -> None:
    unhandled = sorted(set(properties) - HANDLED)
    if unhandled:
        raise ProviderError(f"pocketlink's AWS::S3::Bucket does not carry out the properties "
                            f"[{', '.join(unhandled)}] yet")
