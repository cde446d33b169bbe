"""The AWS API, one module per area; each handler validates like AWS and writes one transaction.

- ``operation`` (handlers.py): marks a function as the handler of one AWS operation.
- ``RequestContext`` (context.py): who is calling, where, and the store.
- ``filters``, ``pages``, ``tags``: the Describe machinery every area shares.
- ``addresses``: the one allocator of private IPv4 and IPv6 addresses and CIDR blocks.
- ``ec2_*``: VPCs, subnets, security groups, route tables, ENIs, instances, tags, regions.
- ``sts``: caller identity.
- ``route53``: hosted zones and record sets; ``route53_vpcs``: private zones and the VPCs
  they answer in (associations and authorizations).

Handlers never touch the kernel and never set a state that the network has to make true.
"""
