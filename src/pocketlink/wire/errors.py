"""AWS errors as exceptions: what a handler raises, what the serializer turns into XML.

EC2's model has no error shapes, so its codes and messages live in one table here
(``EC2_ERRORS``), and one class per code is made from it (``EC2_ERROR_CLASSES``). The query
and rest-xml services carry their errors in the model; those classes are built from the
model's error shapes by ``ServiceSpec`` (see specs.py). Handlers import both, per service,
from ``pocketlink.api.errors``.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error AWS would send: a code, a message, an HTTP status and who is at fault."""

    code: str = "InternalError"
    status: int = 400
    sender_fault: bool = True

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


class InternalError(ServiceError):
    """A bug in pocketlink, reported as AWS reports its own failures: never a traceback."""

    code = "InternalError"
    status = 500
    sender_fault = False

    def __init__(self, message: str = "An internal error has occurred") -> None:
        super().__init__(message)


class UnknownOperation(ServiceError):
    code = "InvalidAction"

    def __init__(self, action: str, service: str) -> None:
        super().__init__(f"The action {action} is not valid for this web service.")
        self.action = action
        self.service = service


class NotImplementedOperation(ServiceError):
    """An operation the model knows that pocketlink does not implement yet."""

    code = "InvalidAction"

    def __init__(self, operation: str) -> None:
        super().__init__(f"The action {operation} is not supported by pocketlink yet.")


# EC2's error codes and their messages, as EC2 words them. ``{}`` takes the offending value.
EC2_ERRORS: dict[str, str] = {
    "DependencyViolation": "{}",
    "DryRunOperation": "Request would have succeeded, but DryRun flag is set.",
    "IncorrectState": "{}",
    "InvalidGroup.Duplicate": "The security group '{}' already exists for VPC '{}'",
    "InvalidGroup.NotFound": "The security group '{}' does not exist",
    "InvalidGroupId.Malformed": "Invalid id: \"{}\"",
    "InvalidInstanceID.Malformed": "Invalid id: \"{}\"",
    "InvalidInstanceID.NotFound": "The instance ID '{}' does not exist",
    "InvalidNetworkInterfaceID.Malformed": "Invalid id: \"{}\" (expecting \"eni-...\")",
    "InvalidNetworkInterfaceID.NotFound": "The networkInterface ID '{}' does not exist",
    "InvalidParameter": "{}",
    "InvalidParameterCombination": "{}",
    "InvalidParameterValue": "{}",
    "InvalidPermission.Duplicate": "the specified rule \"{}\" already exists",
    "InvalidSecurityGroupRuleId.NotFound": "The security group rule ID '{}' does not exist",
    "InvalidPermission.NotFound": "The specified rule does not exist in this security group.",
    "InvalidRoute.NotFound": "no route with destination-cidr-block {} in route table {}",
    "InvalidRouteTableID.Malformed": "Invalid id: \"{}\"",
    "InvalidRouteTableID.NotFound": "The routeTable ID '{}' does not exist",
    "InvalidAssociationID.NotFound": "The association ID '{}' does not exist",
    "InvalidSubnet.Conflict": "The CIDR '{}' conflicts with another subnet",
    "InvalidSubnet.Range": "The CIDR '{}' is invalid.",
    "InvalidSubnetID.Malformed": "Invalid id: \"{}\"",
    "InvalidSubnetID.NotFound": "The subnet ID '{}' does not exist",
    "InvalidVpc.Range": "The CIDR '{}' is invalid.",
    "InvalidVpcID.Malformed": "Invalid id: \"{}\"",
    "InvalidVpcID.NotFound": "The vpc ID '{}' does not exist",
    "InvalidVpcPeeringConnectionID.NotFound": "The vpcPeeringConnection ID '{}' does not exist",
    "InvalidVpcPeeringConnectionId.Malformed": "Invalid id: \"{}\" (expecting \"pcx-...\")",
    "InvalidStateTransition": "{}",
    "InvalidAttachmentID.NotFound": "The attachment ID '{}' does not exist",
    "InvalidDhcpOptionID.NotFound": "The dhcpOption ID '{}' does not exist",
    "InvalidDhcpOptionsId.Malformed": "Invalid id: \"{}\" (expecting \"dopt-...\")",
    "VpcPeeringConnectionAlreadyExists": "{}",
    "InvalidID": "The ID '{}' is not valid",
    "InvalidPaginationToken": "Invalid pagination token: {}",
    "InvalidIPAddress.InUse": "Address {} is in use.",
    "InsufficientFreeAddressesInSubnet": "Insufficient Free IP Addresses in subnet.",
    "InvalidRegion": "The region '{}' does not exist",
    "MissingParameter": "The request must contain the parameter {}",
    "UnknownParameter": "The parameter {} is not recognized",
    "CannotDelete": "{}",
    "TagLimitExceeded": "{}",
    "InvalidAMIID.Malformed": "Invalid id: \"{}\" (expecting \"ami-...\")",
    "InstanceLimitExceeded": "{}",
    "IncorrectInstanceState": "{}",
    "VPCIdNotSpecified": "{}",
    "MissingInput": "{}",
    "DefaultVpcAlreadyExists": "A Default VPC already exists for this account in this region.",
    "DefaultVpcDoesNotExist": "No default VPC exists for this account in this region.",
    "DefaultSubnetAlreadyExistsInAvailabilityZone": "'{}' is already the default subnet in {}.",
    "Resource.AlreadyAssociated": "{}",
    "InvalidGatewayID.NotFound": "The gateway ID '{}' does not exist",
    "RouteAlreadyExists": "{}",
    "CidrLimitExceeded": "{}",
    "InvalidVpcCidrBlockAssociationID.NotFound": "The vpc CIDR block association ID '{}' does "
    "not exist",
    "RulesPerSecurityGroupLimitExceeded": "The maximum number of rules per security group has been "
    "reached.",
    "OperationNotPermitted": "{}",
    "InvalidVpcEndpointId.Malformed": "Invalid Id: '{}'",
    "InvalidVpcEndpointId.NotFound": "The Vpc Endpoint Id '{}' does not exist",
    "InvalidVpcEndpointServiceId.Malformed": "Invalid Id: '{}'",
    "InvalidVpcEndpointServiceId.NotFound": "The Vpc Endpoint Service Id '{}' does not exist",
    "InvalidServiceName": "The Vpc Endpoint Service '{}' does not exist",
    "InvalidVpcEndpointType": "{}",
    "ExistingVpcEndpointConnections": "Service has existing active VPC Endpoint connections!",
    "DuplicateSubnetsInSameZone": "{}",
    "VpcEndpointLimitExceeded": "{}",
    "InvalidState": "{}",
    "InvalidConnectionNotification": "The connection notification '{}' does not exist",
    "InvalidPrefixListId.NotFound": "The prefix list ID '{}' does not exist",
    "InvalidPrefixListID.Malformed": "Invalid id: \"{}\"",
    "InvalidPolicyDocument": "{}",
    "InvalidLaunchTemplateName.AlreadyExistsException": "Launch template name already in use.",
    "InvalidLaunchTemplateName.NotFoundException": "The specified launch template, with "
    "template name {}, does not exist.",
    "InvalidLaunchTemplateName.MalformedException": "{}",
    "InvalidLaunchTemplateId.Malformed": "{}",
    "InvalidLaunchTemplateId.NotFound": "The specified launch template, with template ID {}, "
    "does not exist.",
    "InvalidLaunchTemplateId.VersionNotFound": "Could not find the specified version {} for "
    "the launch template with ID {}.",
    "InvalidInternetGatewayID.NotFound": "The internetGateway ID '{}' does not exist",
    "InvalidInternetGatewayID.Malformed": "Invalid id: \"{}\" (expecting \"igw-...\")",
    "Gateway.NotAttached": "{}",
    "InvalidAllocationID.NotFound": "The allocation ID '{}' does not exist",
    "InvalidAllocationID.Malformed": "Invalid id: \"{}\" (expecting \"eipalloc-...\")",
    "InvalidAddress.NotFound": "The address '{}' does not exist",
    "AddressLimitExceeded": "{}",
    "NatGatewayNotFound": "NAT gateway {} was not found",
    "NatGatewayMalformed": "Invalid id: \"{}\" (expecting \"nat-...\")",
    "InvalidEgressOnlyInternetGatewayId.Malformed": "Invalid id: \"{}\" (expecting \"eigw-...\")",
    # Site-to-Site VPN's, as Terraform's issues and moto's AWS-verified tests quote them
    "InvalidVpnGatewayID.NotFound": "The vpnGateway ID '{}' does not exist",
    "InvalidCustomerGatewayID.NotFound": "The customerGateway ID '{}' does not exist",
    "InvalidVpnConnectionID.NotFound": "The vpnConnection ID '{}' does not exist",
    "InvalidVpnGatewayAttachment.NotFound": "The attachment with vpn gateway ID '{}' and vpc "
    "ID '{}' does not exist",
    "VpnGatewayAttachmentLimitExceeded": "{}",
    "VpnConnectionLimitExceeded": "{}",
    "InvalidNetworkInsightsPathId.NotFound": "The NetworkInsightsPath ID '{}' does not exist",
    "InvalidNetworkInsightsPathId.Malformed": "Invalid id: \"{}\" (expecting \"nip-...\")",
    "InvalidNetworkInsightsAnalysisId.NotFound": "The NetworkInsightsAnalysis ID '{}' does not "
    "exist",
    "InvalidNetworkInsightsAnalysisId.Malformed": "Invalid id: \"{}\" (expecting \"nia-...\")",
    "AnalysisExistsForNetworkInsightsPath": "At least one analysis [{}] exists for path {}. "
    "Delete all the analyses before deleting this network path.",
    "FlowLogAlreadyExists": "Error. There is an existing Flow Log with the same configuration "
    "and log destination.",
    # The flow log's NotFound and Malformed words are guesses, after the other kinds'.
    "InvalidFlowLogId.NotFound": "The flowLog ID '{}' does not exist",
    "InvalidFlowLogId.Malformed": "Invalid id: \"{}\" (expecting \"fl-...\")",
}


class Ec2Error(ServiceError):
    """One of EC2's codes, with the message EC2 gives it (``EC2_ERRORS``)."""

    def __init__(self, code: str, *args: object) -> None:
        template = EC2_ERRORS[code]
        super().__init__(template.format(*args) if args else template.replace("{}", ""), code=code)


class DryRun(Ec2Error):
    """A DryRun request that would have succeeded: AWS reports it as a 412 error."""

    code = "DryRunOperation"
    status = 412

    def __init__(self) -> None:
        super().__init__("DryRunOperation")


def _ec2_class(code: str) -> type[Ec2Error]:
    """The class of one EC2 code, named by it without its dots (``InvalidVpcIDNotFound``), whose
    arguments fill the code's message."""

    def __init__(self: Ec2Error, *args: object) -> None:
        Ec2Error.__init__(self, code, *args)

    return type(code.replace(".", ""), (Ec2Error,),
                {"__init__": __init__, "code": code, "__module__": __name__,
                 "__doc__": f"EC2's {code}: {EC2_ERRORS[code]}"})


# One class per EC2 code, by class name, as LocalStack writes them for EC2 by hand.
EC2_ERROR_CLASSES: dict[str, type[Ec2Error]] = {
    cls.__name__: cls for cls in map(_ec2_class, EC2_ERRORS)} | {"DryRunOperation": DryRun}
