"""AWS::CertificateManager::Certificate: requested through ACM's handler; a
DomainValidationOptions entry with a HostedZoneId has its validation CNAME written into
that zone, as CloudFormation does, and the resource completes only once ACM has really
seen the record (ISSUED). Ref is the certificate's ARN.

AWS matches an option to a certificate name by equal DomainName only (a name without one
waits for a hand-written record); pocketlink also takes an option naming a superdomain
of the name (seed 002's template names its zone's domain), since the record of
``app.example.com`` belongs in ``example.com``'s zone: a guess beyond AWS, said here.
On delete the records the resource wrote go too, unless another certificate of the
account still uses them (AWS leaves them behind; pocketlink leaves nothing).
"""

from __future__ import annotations

from pocketlink.cloudformation.calls import Api, ProviderError
from pocketlink.cloudformation.providers import Done, Provider, settled_state, tags_of, unless_gone
from pocketlink.cloudformation.providers._ec2 import delete_when_free
from pocketlink.model.acm import Certificate, CertificateStatus, validation_record

# How long the resource waits for ACM: its own validation window (72 hours), as at AWS,
# where a name without a HostedZoneId waits for the record to be written by hand.
VALIDATION_WAIT = 72 * 3600.0


def _names(properties: dict) -> list[str]:
    names = [str(properties["DomainName"])] + [str(n) for n in
                                               properties.get("SubjectAlternativeNames") or []]
    return list(dict.fromkeys(n.lower() for n in names))


def _zone_for(name: str, options: list[dict]) -> str | None:
    """The hosted zone of the option naming ``name`` itself, else a superdomain of it."""
    base = name.removeprefix("*.")
    ranked = []
    for option in options:
        given = str(option.get("DomainName", "")).lower().rstrip(".")
        if not option.get("HostedZoneId"):
            continue
        if given in (name, base):
            ranked.append((0, option))
        elif base.endswith("." + given):
            ranked.append((len(base) - len(given), option))
    if not ranked:
        return None
    return str(min(ranked, key=lambda r: r[0])[1]["HostedZoneId"]).rsplit("/", 1)[-1]


def _records(api: Api, properties: dict) -> list[tuple[str, str, str]]:
    """(zone, record name, value) of each validation CNAME the resource writes."""
    if properties.get("ValidationMethod", "EMAIL") != "DNS":
        return []
    options = properties.get("DomainValidationOptions") or []
    found = {}
    for name in _names(properties):
        zone = _zone_for(name, options)
        if zone is not None:
            record, value = validation_record(api.account, name)
            found[(zone, record)] = value
    return [(zone, record, value) for (zone, record), value in found.items()]


def _change(api: Api, action: str, zone: str, record: str, value: str) -> None:
    api.call("route53", "ChangeResourceRecordSets", {"HostedZoneId": zone, "ChangeBatch": {
        "Changes": [{"Action": action, "ResourceRecordSet": {
            "Name": record, "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": value}]}}]}})


class CertificateProvider(Provider):
    type_name = "AWS::CertificateManager::Certificate"

    async def create(self, api: Api, properties: dict) -> Done:
        if properties.get("CertificateAuthorityArn"):
            raise ProviderError("pocketlink issues public certificates only "
                                "(CertificateAuthorityArn given)")
        params: dict = {"DomainName": properties["DomainName"],
                        "ValidationMethod": properties.get("ValidationMethod", "EMAIL")}
        for key in ("SubjectAlternativeNames", "KeyAlgorithm"):
            if key in properties:
                params[key] = properties[key]
        if "CertificateTransparencyLoggingPreference" in properties:
            params["Options"] = {"CertificateTransparencyLoggingPreference":
                                 properties["CertificateTransparencyLoggingPreference"]}
        chosen = [{"DomainName": o["DomainName"], "ValidationDomain": o["ValidationDomain"]}
                  for o in properties.get("DomainValidationOptions") or []
                  if o.get("ValidationDomain")]
        if chosen:
            params["DomainValidationOptions"] = chosen
        if tags_of(properties):
            params["Tags"] = tags_of(properties)
        arn = api.call("acm", "RequestCertificate", params)["CertificateArn"]
        api.initiated(arn)
        for zone, record, value in _records(api, properties):
            _change(api, "UPSERT", zone, record, value)

        status = await settled_state(api, Certificate, arn,
                                     (CertificateStatus.PENDING_VALIDATION,),
                                     f"Certificate {arn} was not validated", member="status",
                                     timeout=VALIDATION_WAIT)
        if status != CertificateStatus.ISSUED:
            raise ProviderError(f"Certificate {arn} is {status}, not ISSUED")
        return Done(arn, {"CertificateArn": arn})

    async def update(self, api: Api, physical_id: str, properties: dict, previous: dict
                     ) -> Done:
        if properties.get("CertificateTransparencyLoggingPreference") != \
                previous.get("CertificateTransparencyLoggingPreference"):
            raise ProviderError("pocketlink cannot change a certificate's "
                                "CertificateTransparencyLoggingPreference in place")
        new = {t["Key"]: t["Value"] for t in tags_of(properties)}
        old = {t["Key"]: t["Value"] for t in tags_of(previous)}
        dropped = [{"Key": k, "Value": v} for k, v in old.items() if k not in new]
        if dropped:
            api.call("acm", "RemoveTagsFromCertificate", {"CertificateArn": physical_id,
                                                          "Tags": dropped})
        changed = [{"Key": k, "Value": v} for k, v in new.items() if old.get(k) != v]
        if changed:
            api.call("acm", "AddTagsToCertificate", {"CertificateArn": physical_id,
                                                     "Tags": changed})
        return Done(physical_id, {"CertificateArn": physical_id})

    async def delete(self, api: Api, physical_id: str, properties: dict) -> None:
        # A listener that served it may still be leaving (ResourceInUse until it has).
        await delete_when_free(api, "acm", "DeleteCertificate",
                               {"CertificateArn": physical_id})
        still = {record for c in api.context.store.all(Certificate)
                 if c.account == api.account for v in c.validations
                 for record in [v.record_name] if record}
        for zone, record, value in _records(api, properties):
            if record in still:
                continue
            with unless_gone("not found"):
                _change(api, "DELETE", zone, record, value)
