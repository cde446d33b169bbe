"""DNS: the names pocketlink answers for, and the servers that answer.

- ``Zone``/``ZoneSet`` (zones.py): authoritative data — record sets by name and type,
  wildcards, CNAME and alias chasing — built from the store.
- ``DnsServer`` (server.py): UDP and TCP on asyncio, answering from a ZoneSet.
- ``public_zones`` (public.py): what the public internet would see: Route 53 public hosted
  zones. This is where StartVpcEndpointServicePrivateDnsVerification looks for its TXT record.
"""
