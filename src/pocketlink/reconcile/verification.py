"""Private DNS name verification: is the provider's TXT record on the public name servers?

AWS looks the record up on the public DNS; pocketlink's public DNS is its own server on
loopback, so this asks that server, with a real DNS query (dnspython).
"""

from __future__ import annotations

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from pocketlink.model.privatelink import EndpointService

TIMEOUT = 2.0


def record_name(service: EndpointService) -> str:
    """``_abc...`` + the domain; a wildcard name's record goes at its base domain."""
    domain = (service.private_dns_name or "").removeprefix("*.")
    return f"{service.verification_name}.{domain}"


async def verify_private_dns(service: EndpointService, host: str, port: int) -> bool:
    """Whether ``<name>.<domain> TXT`` holds the service's verification value."""
    query = dns.message.make_query(record_name(service), dns.rdatatype.TXT)
    try:
        response = await dns.asyncquery.udp(query, host, port=port, timeout=TIMEOUT)
    except (dns.exception.DNSException, OSError):
        return False
    if response.rcode() != dns.rcode.NOERROR:
        return False
    for rrset in response.answer:
        if rrset.rdtype != dns.rdatatype.TXT:
            continue
        for rdata in rrset:
            if b"".join(rdata.strings).decode(errors="replace") == service.verification_value:
                return True
    return False
