"""An endpoint service's private DNS name as the seeds' providers set it by hand (seed000's
section 3, seed002's caveat): the name on the service, the TXT record EC2 asks for put in
the domain's public hosted zone, and the verification that reads it back."""

from __future__ import annotations

from pocketlink.polling import wait_for


def name_service(provider, service_id: str, name: str) -> dict:
    """Sets ``name`` on the service; the TXT record EC2 then asks for (``Name``, ``Value``,
    ``State``: its PrivateDnsNameConfiguration)."""
    provider.modify_vpc_endpoint_service_configuration(ServiceId=service_id, PrivateDnsName=name)
    [config] = provider.describe_vpc_endpoint_service_configurations(
        ServiceIds=[service_id])["ServiceConfigurations"]
    return config["PrivateDnsNameConfiguration"]


def verify(provider, route53, service_id: str, zone_id: str, name: str, record: dict,
           timeout: float = 60) -> None:
    """``record`` (``name_service``'s) put in the hosted zone ``zone_id``, then EC2's
    verification started and waited for."""
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"{record['Name']}.{name}", "Type": "TXT", "TTL": 300,
            "ResourceRecords": [{"Value": f'"{record["Value"]}"'}]}}]})
    provider.start_vpc_endpoint_service_private_dns_verification(ServiceId=service_id)
    wait_for(lambda: provider.describe_vpc_endpoint_service_configurations(
        ServiceIds=[service_id])["ServiceConfigurations"][0][
        "PrivateDnsNameConfiguration"]["State"] == "verified", "the name verified",
        timeout=timeout)
