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
import dns.rrset

from pocketlink.model.privatelink import EndpointService

TIMEOUT = 2.0


async def public_answer(name: str, rdtype: dns.rdatatype.RdataType, host: str, port: int
                        ) -> list[dns.rrset.RRset]:
    """The answer's ``rdtype`` records for ``name`` from the public DNS at ``host:port``; none
    when it does not answer or answers an error. A proof that is not there yet is asked for
    again on the next pass, so a failed query is simply no proof (ACM's CNAME validation
    asks the same way: certificates.py)."""
    query = dns.message.make_query(name, rdtype)
    try:
        response = await dns.asyncquery.udp(query, host, port=port, timeout=TIMEOUT)
    except (dns.exception.DNSException, OSError):
        return []
    if response.rcode() != dns.rcode.NOERROR:
        return []
    return [rrset for rrset in response.answer if rrset.rdtype == rdtype]


def record_name(service: EndpointService) -> str:
    """``_abc...`` + the domain; a wildcard name's record goes at its base domain."""
    domain = (service.private_dns_name or "").removeprefix("*.")
    return f"{service.verification_name}.{domain}"


async def verify_private_dns(service: EndpointService, host: str, port: int) -> bool:
    """Whether ``<name>.<domain> TXT`` holds the service's verification value."""
    answer = await public_answer(record_name(service), dns.rdatatype.TXT, host, port)
    return any(b"".join(rdata.strings).decode(errors="replace") == service.verification_value
               for rrset in answer for rdata in rrset)
