"""DNS: the names pocketlink answers for, and the servers that answer.

The zones are built in the daemon, from the store; the servers run in a process of their
own (the DNS process), so that no API request delays a lookup and no query flood delays
the API. The daemon binds every DNS socket, hands the process a copy, keeps its own, and
ships it the zones that changed.

- ``Zone``/``ZoneSet`` (zones.py): authoritative data — record sets by name and type,
  wildcards, CNAME and alias chasing — built from the store; ``Zone.plain`` is the form
  it travels in, and the DNS process reads it at the zone's first query.
- ``DnsServer`` (server.py): UDP and TCP on asyncio, answering from a ZoneSet, with
  ``TcpLimits`` (idle timeout, per-client and total caps) so no client exhausts it, and
  ``Answers``: a UDP query asked again answered from its earlier reply.
- ``DnsProcess`` (process.py): the daemon's side: starts and restarts the DNS process
  (at a higher CPU priority), hands it sockets, builds each server's zones (a *view*:
  ``public`` or a VPC id) when the store changed and ships the views that changed,
  versioned; a new view alone is built and shipped when its server starts. At a restart
  it starts serving the resolvers the serving snapshot kept (snapshot.py) before the store
  is read (``handed``: once the channel holds their sockets, before the daemon's imports
  block its loop), and builds their views from the store once the first pass takes them
  over.
- ``DnsChild`` (child.py): the DNS process: one ``DnsServer`` per view, on the sockets
  and from the zones it was handed.
- ``aws_zones`` (aws_names.py): the names AWS publishes (endpoints', NLBs'), and which names
  AWS owns, that no tenant's public zone may answer for; ``aws_public_zones``: the AWS
  services' public names (``ssm.us-west-2.amazonaws.com``, ``ssm.us-west-2.api.aws``,
  ``*.s3...``), derived from botocore's endpoint data, each at its address on the emulated
  AWS public range (198.18.0.0/15, 2001:db8::/32), which ``public_names`` (aws_public.py)
  lists in one place.
- ``answering`` (routing.py): which of a name's record sets Route 53 answers with, by
  routing policy (failover, weighted, multivalue ...) and the health of their checks.
- ``public_zones`` (public.py): what the public internet would see: the delegated Route 53
  public hosted zone of each name; built once per state of the store, shared by every
  view. This is where
  StartVpcEndpointServicePrivateDnsVerification looks for its TXT record.
- ``vpc_zones`` (vpc.py): what a VPC's resolver knows: its instances, its endpoints' private
  names (an AWS service's regional name -> the endpoint's ENIs while private DNS is on),
  the private hosted zones associated with it, and the public DNS.
"""
