"""The resources as plain dataclasses, and their rules: id formats, zones, state machines.

- ``Resource`` (base.py): what every stored thing shares: id, owner account, region, tags;
  and how a resource becomes JSON for the store and back.
- ``ids`` (ids.py): AWS-shaped ids (``vpc-`` + 17 hex).
- ``regions`` (regions.py): regions and availability zones, with each account's own zone ids;
  ``zone_ids`` (zone_ids.py): each region's zones as AWS has them, and where that is known from.
- ``ec2`` (ec2.py): VPCs, subnets, security groups, route tables, ENIs, instances, and the
  account attributes EC2 keeps per account and region (its default VPC).
- ``elbv2`` (elbv2.py): Network Load Balancers and their nodes, target groups, listeners,
  and draining.
- ``privatelink`` (privatelink.py): endpoint services, VPC endpoints (and their
  ``LastError``), their permissions and connection notifications.
- ``aws_services`` (aws_services.py): the AWS services an endpoint can reach, and the gateway
  services' prefix lists.
- ``launch_templates`` (launch_templates.py): EC2 launch templates and their versions.
- ``autoscaling`` (autoscaling.py): Auto Scaling groups, the instances they hold, the
  launches they decided, and their scaling activities.
- ``peering`` (peering.py): VPC peering connections, their states and messages (AWS's),
  and the addresses of the link an active one is between two VPC routers.
- ``transit_gateways`` (transit_gateways.py): transit gateways, their VPC attachments and
  route tables, and the addresses of an attachment's link to the gateway's router.
- ``vpn`` (vpn.py): Site-to-Site VPN's virtual private gateways, customer gateways and VPN
  connections (records with AWS's states; they carry nothing), and the routes to a
  gateway that route tables hold or propagate.
- ``dhcp`` (dhcp.py): DHCP option sets and each account's default one.
- ``prefix_lists`` (prefix_lists.py): customer managed prefix lists and their versions.
- ``subnet_reservations`` (subnet_reservations.py): subnet CIDR reservations.
- ``route53`` (route53.py): hosted zones, record sets and their changes.
- ``cloudformation`` (cloudformation.py): stacks (template, parameters, resources as last
  applied, events) and change sets.
- ``acm`` (acm.py): ACM certificates, their validation records and status.
- ``ssl_policies`` (ssl_policies.py): ELBv2's security policies and ALPN policies, as data.
- ``internet`` (internet.py): internet gateways, public IPv4 addresses (Elastic IPs and
  launch IPs, from a pool of TEST-NET addresses), NAT gateways.
- ``iam`` (iam.py): the temporary credentials instances get for their instance profile.
- ``network_insights`` (network_insights.py): Reachability Analyzer's paths and their
  analyses, kept as AWS describes them.
- ``faults`` (faults.py): the faults injected on demand, pocketlink's or an FIS
  experiment's; ``fis`` (fis.py): FIS's experiment templates and experiments.
- ``flow_logs`` (flow_logs.py): VPC flow logs: what to record, in which format, where to
  deliver it, and how the last delivery went.
- ``states`` (states.py): every resource's state machine once: its states as ``StrEnum``s
  of AWS's own strings, its transitions, the groups of states other layers act on
  (``ENDPOINT_LISTENING``), and the failures ``pocketlink status`` lists.

Nothing here does I/O; ``pocketlink.store`` keeps these, ``pocketlink.api`` changes them,
``pocketlink.reconcile`` moves them through their states.
"""
