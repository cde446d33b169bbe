"""DNS: the names pocketlink answers for, and the servers that answer.

- ``Zone``/``ZoneSet`` (zones.py): authoritative data — record sets by name and type,
  wildcards, CNAME and alias chasing — built from the store.
- ``DnsServer`` (server.py): UDP and TCP on asyncio, answering from a ZoneSet, with
  ``TcpLimits`` (idle timeout, per-client and total caps) so no client exhausts it.
- ``aws_zones`` (aws_names.py): the names AWS publishes (endpoints', NLBs'), and which names
  AWS owns, that no tenant's public zone may answer for.
- ``public_zones`` (public.py): what the public internet would see: the delegated Route 53
  public hosted zone of each name. This is where
  StartVpcEndpointServicePrivateDnsVerification looks for its TXT record.
- ``vpc_zones`` (vpc.py): what a VPC's resolver knows: its instances, its endpoints' private
  names, the private hosted zones associated with it, and the public DNS.
"""
