"""The network: what the store's VPCs, subnets, ENIs and security groups become in the kernel.

Nouns, one job each:

- ``names`` (names.py): every namespace and link name pocketlink makes, from ids, with
  its ``pl`` prefix: what ``pocketlink down`` looks for.
- ``addresses`` (addresses.py): the addresses AWS reserves in every VPC and subnet (the
  resolver's, the metadata service's) that pocketlink puts on its routers.
- ``netns`` (netns.py): namespaces, and running a function inside one (sockets, sysctls).
- ``topology`` (topology.py): the desired network as plain data, computed from the store
  with no I/O, one VPC at a time (its router, bridges, peering links and instance hosts,
  with the ENIs attached to them; a gateway endpoint's prefix list a local route of its
  subnets' tables).
- ``firewall`` (firewall.py): a security group set rendered as one nftables ruleset, whose
  drops are kept flow by flow in two sets (flow logs' REJECT records); every namespace
  counts its tracked flows' packets and bytes (``nf_conntrack_acct``: flow logs' ACCEPT);
  the VPC router's filters the ENIs it holds: endpoint ENIs (with their NLB's inbound
  rules on PrivateLink traffic, when it enforces them) and NLB nodes, both ways.
- ``internet`` (internet.py): the emulated internet: its namespace, the VPC routers' links
  to it (internet gateways) and their 1:1 NAT of public addresses, NAT gateways' rulesets,
  and ``nat_gateway_traffic``, a NAT gateway's counters.
- ``changes`` (changes.py): what a namespace holds (``Observed``), the ``Action``s that
  change it, and the pure ``diff_router`` / ``diff_host`` between a spec and what is held.
- ``kernel`` (kernel.py): observe a namespace, apply actions, each failure with the
  kernel's reason (pyroute2, nft).
- ``route53_checker`` (route53_checker.py): Route 53's health checkers, probing from the
  internet namespace, and each check's verdict kept in the store.
- ``transit_gateways`` (transit_gateways.py): a transit gateway's router, a namespace of
  its own: a link per VPC attachment (the VPC routers' ends are ``topology``'s), a kernel
  table per route table, chosen by the attachment's association.

Only this package, ``pocketlink.instances`` (what runs inside an instance) and
``pocketlink.reconcile`` touch the kernel.
"""
