"""The AWS API, one module per area; each handler validates like AWS and writes one transaction.

The machinery every area shares:

- ``handlers``: ``operation`` marks a function as the handler of one AWS operation; ``collect``
  finds them all.
- ``context``: ``RequestContext``, who is calling, in which region, and the store.
- ``errors``: AWS's errors as classes per service (``ec2.InvalidVpcIDNotFound(vpc_id)``).
- ``lookups``: ``require(context, Vpc, vpc_id)``, the caller's resource or its service's
  Malformed / NotFound error; ``owned``, ``select`` and ``find`` beside it.
- ``filters``, ``pages``, ``tags``: Describe filters, MaxResults/NextToken pages, and tags
  (TagSpecifications in, ``tagSet`` out).
- ``addresses``: the one allocator of private IPv4 and IPv6 addresses and CIDR blocks.

The areas, by service:

- EC2: ``ec2_vpcs``, ``ec2_subnets``, ``ec2_route_tables``, ``ec2_security_groups``,
  ``ec2_network_interfaces``, ``ec2_instances``, ``ec2_instance_metadata`` (metadata
  options, instance profiles), ``ec2_tags``, ``ec2_regions`` (regions,
  zones, account attributes), ``ec2_prefix_lists`` (the gateway services' prefix lists);
  ``ec2_common`` parses CIDR blocks for them; ``ec2_defaults`` is what EC2 makes for you:
  each VPC's main route table and default group, and each account's default VPC, made on
  first use by the calls that list or need it.
- PrivateLink (EC2's API): ``ec2_endpoint_services`` (the provider's side),
  ``ec2_vpc_endpoints`` (the consumer's), ``ec2_endpoint_notifications`` (connection
  notifications); ``privatelink_common`` is what both sides share (visible services, DNS
  names, connection events).
- ELBv2: ``elbv2_load_balancers``, ``elbv2_target_groups``, ``elbv2_listeners``,
  ``elbv2_tags``; ``elbv2_common`` holds ARNs, names, Marker/PageSize pages and attribute checks.
- Route 53: ``route53`` (hosted zones and record sets), ``route53_vpcs`` (private zones
  and the VPCs they answer in: associations and authorizations).
- ``sts``: caller identity.
- CloudFormation: ``cloudformation_stacks`` (stacks, their events and resources),
  ``cloudformation_change_sets``, ``cloudformation_templates`` (GetTemplate, ValidateTemplate,
  GetTemplateSummary, ListExports); ``cloudformation_common`` finds stacks and checks a
  template before anything runs. The work itself is the engine's (``pocketlink.cloudformation``),
  which runs after the handler has answered.

Handlers never touch the kernel and never set a state that the network has to make true.
"""
