"""The AWS API, one module per area; each handler validates like AWS and writes one transaction.

The machinery every area shares:

- ``handlers``: ``operation`` marks a function as the handler of one AWS operation; ``collect``
  finds them all.
- ``context``: ``RequestContext``, who is calling, in which region, and the store.
- ``errors``: AWS's errors as classes per service (``ec2.InvalidVpcIDNotFound(vpc_id)``).
- ``lookups``: ``require(context, Vpc, vpc_id)``, the caller's resource or its service's
  Malformed / NotFound error; ``require_among`` the same among what the caller sees (a
  peering it accepts, AWS's prefix lists); ``owned``, ``select`` and ``find`` beside it.
- ``filters``, ``pages``, ``tags``: Describe filters, pages (``pages.window``, the one pager
  behind every token pocketlink makes: EC2's, ACM's, Auto Scaling's, ELBv2's and
  CloudWatch's; ``pages.page``, EC2's MaxResults rules on it), and tags (TagSpecifications
  in, ``tagSet`` out).
- ``addresses``: the one allocator of private IPv4 and IPv6 addresses and CIDR blocks, and
  of public IPv4 addresses.

The areas, by service:

- EC2: ``ec2_vpcs``, ``ec2_subnets``, ``ec2_route_tables``, ``ec2_security_groups``,
  ``ec2_network_interfaces``, ``ec2_internet_gateways`` (and egress-only ones),
  ``ec2_elastic_ips`` (Elastic IPs and the public IPs of instances), ``ec2_nat_gateways``,
  ``ec2_instances``, ``ec2_instance_metadata`` (metadata
  options, instance profiles), ``ec2_tags``, ``ec2_regions`` (regions,
  zones, account attributes), ``ec2_prefix_lists`` (the gateway services' prefix lists),
  ``ec2_managed_prefix_lists`` (the customer's and AWS's managed prefix lists),
  ``ec2_peering`` (VPC peering connections), ``ec2_dhcp_options`` (DHCP option sets),
  ``ec2_transit_gateways`` (transit gateways, VPC attachments, their route tables),
  ``ec2_vpn_gateways`` (Site-to-Site VPN's records: virtual private and customer
  gateways, VPN connections; none carries traffic),
  ``ec2_interface_addresses`` (an ENI's addresses and attributes after creation),
  ``ec2_interface_attachments`` (ENIs attached beside an instance's primary one),
  ``ec2_subnet_reservations`` (subnet CIDR reservations),
  ``ec2_network_insights`` (Reachability Analyzer's paths and analyses, answered by
  ``pocketlink.diagnose``'s walk), ``ec2_flow_logs`` (VPC Flow
  Logs: what to record and where; ``pocketlink.flowlogs`` records and delivers);
  ``ec2_common`` parses CIDR blocks for them; ``ec2_defaults`` is what EC2 makes for you:
  each VPC's main route table and default group, and each account's default VPC, made on
  first use by the calls that list or need it.
- Launch templates (EC2's API): ``ec2_launch_templates`` (versions, the default version,
  and the parameters a launch from one gives RunInstances).
- Auto Scaling: ``autoscaling_groups`` (groups, their instances and target groups),
  ``autoscaling_activities`` (scaling activities, worded as AWS's), ``autoscaling_tags``
  (a group's tags, and which its instances get); ``autoscaling_common``
  holds ValidationError, ARNs and pages. The groups are converged by
  ``reconcile.autoscaling``.
- PrivateLink (EC2's API): ``ec2_endpoint_services`` (the provider's side),
  ``ec2_vpc_endpoints`` (the consumer's), ``ec2_endpoint_notifications`` (connection
  notifications); ``privatelink_common`` is what both sides share (visible services, DNS
  names, connection events).
- ELBv2: ``elbv2_load_balancers``, ``elbv2_target_groups``, ``elbv2_listeners``,
  ``elbv2_certificates`` (a TLS listener's certificates and security policy, SNI
  certificates, DescribeSSLPolicies), ``elbv2_tags``; ``elbv2_common`` holds ARNs, names,
  Marker/PageSize pages and attribute checks.
- Route 53: ``route53`` (hosted zones and record sets, and the MaxItems/Marker pages
  the List calls share), ``route53_vpcs`` (private zones and the VPCs they answer in:
  associations and authorizations), ``route53_health_checks`` (health checks, and the
  tags of zones and checks).
- ``sts``: caller identity, and AssumeRole's temporary credentials.
- ``cloudwatch``: CloudWatch's metrics (GetMetricData, GetMetricStatistics, ListMetrics,
  PutMetricData) over pocketlink.metrics' store: the data plane's AWS/* metrics and
  custom ones.
- ``acm``: ACM's certificates (requests, validation records, descriptions, tags); the
  reconciler validates and issues them.
- CloudFormation: ``cloudformation_stacks`` (stacks, their events and resources),
  ``cloudformation_change_sets``, ``cloudformation_templates`` (GetTemplate, ValidateTemplate,
  GetTemplateSummary, ListExports); ``cloudformation_common`` finds stacks and checks a
  template before anything runs. The work itself is the engine's (``pocketlink.cloudformation``),
  which runs after the handler has answered.
- ``fis``: AWS FIS's experiment templates and experiments (the actions pocketlink performs
  are ``faults.fis_catalog``'s; ``faults.experiments`` runs the experiments).

Handlers never touch the kernel and never set a state that the network has to make true.
"""
