"""EC2's networking resources as pocketlink keeps them.

Field names follow AWS's vocabulary in snake case. What AWS derives (a subnet's free address
count, a security group's IpPermissions grouping) is derived by the api layer, not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pocketlink.model.base import Resource


@dataclass(kw_only=True)
class CidrAssociation:
    association_id: str
    cidr: str
    state: str = "associated"


@dataclass(kw_only=True)
class Vpc(Resource):
    kind = "vpc"

    cidr_block: str
    cidr_associations: list[CidrAssociation] = field(default_factory=list)
    ipv6_associations: list[CidrAssociation] = field(default_factory=list)
    instance_tenancy: str = "default"
    is_default: bool = False
    enable_dns_support: bool = True
    enable_dns_hostnames: bool = False
    enable_network_address_usage_metrics: bool = False
    dhcp_options_id: str = ""
    main_route_table_id: str = ""
    default_security_group_id: str = ""
    default_network_acl_id: str = ""
    state: str = "available"


@dataclass(kw_only=True)
class AccountAttributes(Resource):
    """What DescribeAccountAttributes says of one account in one region that pocketlink has
    to remember: its default VPC, made on first use, "none" once deleted (until
    CreateDefaultVpc). Its id is ``account/region``."""

    kind = "account-attributes"

    default_vpc: str = "none"


@dataclass(kw_only=True)
class Subnet(Resource):
    kind = "subnet"

    vpc_id: str
    cidr_block: str | None
    availability_zone: str
    availability_zone_id: str
    ipv6_associations: list[CidrAssociation] = field(default_factory=list)
    ipv6_native: bool = False
    map_public_ip_on_launch: bool = False
    default_for_az: bool = False
    assign_ipv6_address_on_creation: bool = False
    state: str = "available"
    # PrivateDnsNameOptionsOnLaunch: whether instances launched here get an A (AAAA) record
    # for their resource name (i-0123....compute.internal) in the VPC's resolver
    enable_resource_name_dns_a_record: bool = False
    enable_resource_name_dns_aaaa_record: bool = False


@dataclass(kw_only=True)
class SecurityGroupRule:
    """One rule as AWS stores it: one protocol/port range and one peer."""

    rule_id: str
    egress: bool
    ip_protocol: str  # "-1", "tcp", "udp", "icmp", "icmpv6" or a number
    from_port: int | None = None
    to_port: int | None = None
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    prefix_list_id: str | None = None
    referenced_group_id: str | None = None
    referenced_user_id: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # a rule is taggable by its sgr- id


@dataclass(kw_only=True)
class SecurityGroup(Resource):
    kind = "security-group"

    vpc_id: str
    group_name: str
    description: str
    rules: list[SecurityGroupRule] = field(default_factory=list)


@dataclass(kw_only=True)
class Route:
    destination_cidr_block: str | None = None
    destination_ipv6_cidr_block: str | None = None
    destination_prefix_list_id: str | None = None
    gateway_id: str | None = None
    instance_id: str | None = None
    network_interface_id: str | None = None
    nat_gateway_id: str | None = None
    egress_only_internet_gateway_id: str | None = None
    vpc_peering_connection_id: str | None = None
    transit_gateway_id: str | None = None
    origin: str = "CreateRoute"  # CreateRouteTable for the local routes
    state: str = "active"

    @property
    def destination(self) -> str:
        return (self.destination_cidr_block or self.destination_ipv6_cidr_block
                or self.destination_prefix_list_id or "")


@dataclass(kw_only=True)
class RouteTableAssociation:
    association_id: str
    subnet_id: str | None = None
    gateway_id: str | None = None  # a gateway route table's edge association (igw-)
    main: bool = False
    state: str = "associated"


@dataclass(kw_only=True)
class RouteTable(Resource):
    kind = "route-table"

    vpc_id: str
    routes: list[Route] = field(default_factory=list)
    associations: list[RouteTableAssociation] = field(default_factory=list)
    propagating_vgws: list[str] = field(default_factory=list)  # EnableVgwRoutePropagation's


@dataclass(kw_only=True)
class NetworkInterface(Resource):
    """An ENI. Instances, endpoints and load balancer nodes all hold their addresses here."""

    kind = "network-interface"

    vpc_id: str
    subnet_id: str
    availability_zone: str
    private_ip_address: str | None
    secondary_private_ip_addresses: list[str] = field(default_factory=list)
    ipv6_addresses: list[str] = field(default_factory=list)
    mac_address: str = ""
    interface_type: str = "interface"  # vpc_endpoint, network_load_balancer, ...
    description: str = ""
    requester_managed: bool = False
    requester_id: str | None = None
    group_ids: list[str] = field(default_factory=list)
    source_dest_check: bool = True
    status: str = "available"  # in-use once attached
    attachment_id: str | None = None
    instance_id: str | None = None
    device_index: int = 0
    delete_on_termination: bool = True


@dataclass(kw_only=True)
class MetadataOptions:
    """The instance metadata service's settings (RunInstances ``MetadataOptions``), with
    AWS's defaults for an AMI that says nothing (no ``ImdsSupport``)."""

    http_tokens: str = "optional"
    http_put_response_hop_limit: int = 1
    http_endpoint: str = "enabled"
    http_protocol_ipv6: str = "disabled"
    instance_metadata_tags: str = "disabled"


@dataclass(kw_only=True)
class InstanceProfileAssociation:
    """The IAM instance profile an instance runs with: IAM's own ARN and id for it, as
    IAM answered when it was associated."""

    association_id: str
    arn: str
    profile_id: str
    state: str = "associated"


@dataclass(kw_only=True)
class Instance(Resource):
    kind = "instance"

    reservation_id: str
    image_id: str
    instance_type: str
    subnet_id: str
    vpc_id: str
    availability_zone: str
    network_interface_id: str
    private_ip_address: str | None
    ipv6_addresses: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    key_name: str | None = None
    user_data: str | None = None  # base64, as the API carries it
    launch_index: int = 0
    client_token: str | None = None
    state: str = "pending"
    state_reason: str | None = None  # StateReason's code
    state_reason_message: str | None = None  # its message, when it says more than the code
    state_transition_reason: str = ""
    metadata_options: MetadataOptions = field(default_factory=MetadataOptions)
    iam_instance_profile: InstanceProfileAssociation | None = None
    # its subnet's PrivateDnsNameOptionsOnLaunch when it was launched
    enable_resource_name_dns_a_record: bool = False
    enable_resource_name_dns_aaaa_record: bool = False
