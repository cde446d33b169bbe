"""The topology's model from the API's answers: several accounts' ``Holdings``
(console/topology_read.py) become one ``Topology`` (console/topology.py) of chips, lines
and the connections' table. No I/O.

An account sees of another's only what the API shows it: a consumer its endpoint and the
service's name and owner (DescribeVpcEndpointServices); a provider the endpoints connected
to its service (DescribeVpcEndpointConnections). Drawn together (the whole machine), the
two sides meet: the endpoint's line runs to the provider's service, NLB and targets; a
side whose other is not drawn gets a chip standing for it ("of other accounts").
"""

from __future__ import annotations

from pocketlink.console.topology import (
    Account,
    Band,
    Chip,
    Connection,
    Line,
    Subnet,
    Topology,
    Vpc,
    console_href,
)
from pocketlink.console.topology_read import (
    Holdings,
    balancer_key,
    endpoint_key,
    service_id_of,
    service_key,
    target_key,
)


def _name(tags: list[dict] | None, fallback: str) -> str:
    return next((t["Value"] for t in tags or [] if t["Key"] == "Name"), fallback)


class _Builder:
    """Turns every account's holdings into one ``Topology``."""

    def __init__(self, everything: list[Holdings], figures: dict[str, str]) -> None:
        self.everything = everything
        self.figures = figures
        self.lines: list[Line] = []
        self.connections: dict[str, Connection] = {}
        self.services = {s["ServiceId"]: (h, s) for h in everything for s in h.services}
        self.balancers = {b["LoadBalancerArn"]: (h, b) for h in everything
                          for b in h.balancers}
        self.endpoints = {e["VpcEndpointId"] for h in everything for e in h.endpoints}
        self.vpcs = {v["VpcId"] for h in everything for v in h.vpcs}
        self.target_figures: dict[str, str] = {}  # instance id -> its target figure's key

    def href(self, found: Holdings, kind: str, resource: str) -> str:
        return console_href(kind, resource, found.account, found.region)

    def topology(self) -> Topology:
        accounts = tuple(self.account(found) for found in self.everything)
        return Topology(accounts, tuple(self.lines), tuple(self.connections.values()),
                        self.figures)

    def account(self, found: Holdings) -> Account:
        remote_services: dict[str, Chip] = {}
        for endpoint in found.endpoints:
            self.endpoint_lines(found, endpoint, remote_services)
        groups = tuple(chip for group in found.groups for chip in self.group(found, group))
        vpcs = tuple(self.vpc(found, vpc) for vpc in found.vpcs)  # instances: figures known
        bands = [Band("Endpoint services", tuple(self.service(found, s) for s in found.services)),
                 Band("Target groups", groups),
                 Band("Endpoint services of other accounts", tuple(remote_services.values())),
                 Band("Endpoints of other accounts", tuple(
                     self.remote_endpoint(found, c) for c in found.connections
                     if c["VpcEndpointId"] not in self.endpoints))]
        return Account(found.account, found.region, vpcs, tuple(b for b in bands if b.chips))

    def vpc(self, found: Holdings, vpc: dict) -> Vpc:
        vpc_id = vpc["VpcId"]
        own: list[Chip] = []
        gateways = {}
        for gateway in found.internet_gateways:
            if any(a["VpcId"] == vpc_id for a in gateway.get("Attachments", [])):
                gateways[vpc_id] = gateway["InternetGatewayId"]
                own.append(Chip(gateway["InternetGatewayId"], "gateway", "Internet gateway",
                                gateway["InternetGatewayId"], self.href(found, "vpc/vpcs", vpc_id),
                                f"Internet gateway {gateway['InternetGatewayId']} of {vpc_id}"))
        for peering in found.peerings:
            own.extend(self.peering(found, peering, vpc_id))
        for endpoint in found.endpoints:
            if endpoint["VpcId"] == vpc_id and endpoint["VpcEndpointType"] != "Interface":
                own.append(Chip(endpoint["VpcEndpointId"], "endpoint", endpoint["VpcEndpointId"],
                                f"{endpoint['VpcEndpointType']} · {endpoint['ServiceName']}",
                                self.href(found, "vpc/endpoints", endpoint["VpcEndpointId"]),
                                f"{endpoint['VpcEndpointType']} endpoint to "
                                f"{endpoint['ServiceName']}, {endpoint['State']}"))
        for balancer in found.balancers:
            if balancer["VpcId"] == vpc_id:
                own.append(self.balancer(found, balancer))
        subnets = sorted((s for s in found.subnets if s["VpcId"] == vpc_id),
                         key=lambda s: (s["AvailabilityZone"], s["CidrBlock"]))
        cidr = vpc.get("CidrBlock", "")
        return Vpc(vpc_id, f"{_name(vpc.get('Tags'), vpc_id)} · {vpc_id} · {cidr}"
                   if _name(vpc.get("Tags"), "") else f"{vpc_id} · {cidr}",
                   self.href(found, "vpc/vpcs", vpc_id), tuple(own),
                   tuple(self.subnet(found, s, gateways.get(vpc_id)) for s in subnets))

    def subnet(self, found: Holdings, subnet: dict, gateway: str | None) -> Subnet:
        subnet_id = subnet["SubnetId"]
        chips = [Chip(i["InstanceId"], "instance", _name(i.get("Tags"), i["InstanceId"]),
                      f"{i.get('PrivateIpAddress', '')} · {i['State']['Name']}",
                      self.href(found, "ec2/instances", i["InstanceId"]),
                      f"Instance {i['InstanceId']}, {i['State']['Name']}, "
                      f"{i.get('PrivateIpAddress', 'no address')}",
                      self.target_figures.get(i["InstanceId"]))
                 for i in found.instances if i.get("SubnetId") == subnet_id]
        for endpoint in found.endpoints:
            for eni_id in endpoint.get("NetworkInterfaceIds", []):
                eni = found.interfaces.get(eni_id)
                if eni is None or eni["SubnetId"] != subnet_id:
                    continue
                vpce = endpoint["VpcEndpointId"]
                chips.append(Chip(f"{vpce}/{subnet_id}", "endpoint", vpce,
                                  f"{eni.get('PrivateIpAddress', '')} · {endpoint['State']}",
                                  self.href(found, "vpc/endpoints", vpce),
                                  f"Interface endpoint {vpce} to {endpoint['ServiceName']}, "
                                  f"{endpoint['State']}, its network interface {eni_id}",
                                  endpoint_key(vpce, subnet_id)))
        for balancer in found.balancers:
            for zone in balancer.get("AvailabilityZones", []):
                if zone.get("SubnetId") != subnet_id:
                    continue
                address = next((a.get("PrivateIPv4Address", "") for a in
                                zone.get("LoadBalancerAddresses", [])), "")
                name = balancer["LoadBalancerName"]
                chips.append(Chip(f"{balancer['LoadBalancerArn']}/{subnet_id}", "node",
                                  f"{name} node", f"{address} · {zone['ZoneName']}",
                                  self.href(found, "ec2/load-balancers", name),
                                  f"Node of load balancer {name} in {zone['ZoneName']}"))
        for nat in found.nat_gateways:
            if nat["SubnetId"] != subnet_id:
                continue
            address = next((a.get("PrivateIp", "") for a in nat.get("NatGatewayAddresses", [])), "")
            chips.append(Chip(nat["NatGatewayId"], "gateway", "NAT gateway",
                              f"{nat['NatGatewayId']} · {address}",
                              self.href(found, "vpc/subnets", subnet_id),
                              f"NAT gateway {nat['NatGatewayId']}, {nat['State']}"))
            if gateway is not None:
                self.lines.append(Line(nat["NatGatewayId"], gateway, "route",
                                       f"{nat['NatGatewayId']} to the internet through {gateway}"))
        return Subnet(subnet_id, subnet["AvailabilityZone"], subnet["CidrBlock"],
                      self.href(found, "vpc/subnets", subnet_id), tuple(chips))

    def peering(self, found: Holdings, peering: dict, vpc_id: str) -> list[Chip]:
        sides = (peering["RequesterVpcInfo"], peering["AccepterVpcInfo"])
        for mine, theirs in (sides, sides[::-1]):
            if mine.get("VpcId") != vpc_id or mine.get("OwnerId") != found.account:
                continue
            pcx = peering["VpcPeeringConnectionId"]
            if mine is sides[0] and theirs["VpcId"] in self.vpcs:
                self.lines.append(Line(f"{pcx}/{vpc_id}", f"{pcx}/{theirs['VpcId']}", "peering",
                                       f"Peering {pcx}: {vpc_id} and {theirs['VpcId']}"))
            return [Chip(f"{pcx}/{vpc_id}", "gateway", pcx,
                         f"peer {theirs['VpcId']} · {peering['Status']['Code']}",
                         console_href("vpc/vpcs", theirs["VpcId"], theirs.get("OwnerId", ""),
                                      theirs.get("Region", found.region)),
                         f"Peering connection {pcx} to {theirs['VpcId']} of account "
                         f"{theirs.get('OwnerId', '')}, {peering['Status']['Code']}")]
        return []

    def balancer(self, found: Holdings, balancer: dict) -> Chip:
        arn, name = balancer["LoadBalancerArn"], balancer["LoadBalancerName"]
        for group in found.groups_of.get(arn, []):
            self.lines.append(Line(arn, group, "listener", f"{name} forwards to "
                                   f"{group.rsplit(':', 1)[-1]}"))
        return Chip(arn, "balancer", name, f"network · {balancer.get('Scheme', '')}",
                    self.href(found, "ec2/load-balancers", name),
                    f"Network load balancer {name}, {balancer.get('State', {}).get('Code', '')}",
                    balancer_key(arn))

    def service(self, found: Holdings, service: dict) -> Chip:
        service_id = service["ServiceId"]
        for arn in service.get("NetworkLoadBalancerArns", []):
            self.lines.append(Line(service_id, arn, "privatelink",
                                   f"{service_id} is served by {arn.rsplit('/', 2)[-2]}"))
        acceptance = "acceptance required" if service.get("AcceptanceRequired") else "auto-accept"
        return Chip(service_id, "service", service_id, acceptance,
                    self.href(found, "vpc/endpoint-services", service_id),
                    f"Endpoint service {service.get('ServiceName', service_id)}, "
                    f"{service.get('ServiceState', '')}", service_key(service_id))

    def group(self, found: Holdings, group: dict) -> list[Chip]:
        arn, name = group["TargetGroupArn"], group["TargetGroupName"]
        targets = found.health.get(arn, [])
        healthy = sum(1 for t in targets if t["TargetHealth"]["State"] == "healthy")
        chips = [Chip(arn, "group", name, f"{group.get('Protocol', '')}:{group.get('Port', '')}"
                      f" · {healthy}/{len(targets)} healthy",
                      self.href(found, "ec2/target-groups", name),
                      f"Target group {name}, {healthy} of {len(targets)} targets healthy")]
        addresses = {i["InstanceId"]: i.get("PrivateIpAddress", "") for i in found.instances}
        for target in targets:
            target_id, state = target["Target"]["Id"], target["TargetHealth"]["State"]
            port = target["Target"].get("Port", group.get("Port", ""))
            chip_id = target_id
            if group.get("TargetType") != "instance":
                chip_id = f"{arn}/{target_id}:{port}"
                chips.append(Chip(chip_id, "ip", f"{target_id}:{port}", state,
                                  self.href(found, "ec2/target-groups", name),
                                  f"Target {target_id} port {port} of {name}, {state}",
                                  target_key(arn, target_id, port)))
            elif target_id in addresses:  # its figures on its own chip (the first group's)
                self.target_figures.setdefault(target_id,
                                               target_key(arn, addresses[target_id], port))
            self.lines.append(Line(arn, chip_id, "target" if state != "unhealthy"
                                   else "target unhealthy",
                                   f"{name} target {target_id}:{port}, {state}"))
        return chips

    def reach(self, service_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The NLBs behind a drawn service, and their targets with their health."""
        balancers: list[str] = []
        targets: list[str] = []
        service = self.services.get(service_id)
        for arn in service[1].get("NetworkLoadBalancerArns", []) if service else []:
            if arn not in self.balancers:
                continue
            owner, balancer = self.balancers[arn]
            balancers.append(balancer["LoadBalancerName"])
            for group in owner.groups_of.get(arn, []):
                targets += [f"{t['Target']['Id']} ({t['TargetHealth']['State']})"
                            for t in owner.health.get(group, [])]
        return tuple(balancers), tuple(targets)

    def endpoint_lines(self, found: Holdings, endpoint: dict,
                       remote: dict[str, Chip]) -> None:
        """An interface endpoint's lines to its service (drawn, or an other account's chip
        standing for it) and its row in the table."""
        if endpoint["VpcEndpointType"] != "Interface":
            return
        vpce, name = endpoint["VpcEndpointId"], endpoint["ServiceName"]
        service_id = service_id_of(name)
        owner = found.service_owners.get(name, "")
        target = service_id
        balancers, targets = self.reach(service_id)
        if service_id in self.services:
            owner = self.services[service_id][0].account
        else:
            target = f"remote:{name}"
            if target not in remote:
                href = (console_href("vpc/endpoint-services", service_id, owner, found.region)
                        if service_id.startswith("vpce-svc-") and owner.isdigit()
                        else self.href(found, "vpc/endpoints", vpce))
                remote[target] = Chip(target, "remote", service_id,
                                      f"account {owner}" if owner else name, href,
                                      f"Endpoint service {name} of {owner or 'another account'}")
        for subnet_id in endpoint.get("SubnetIds", []):
            self.lines.append(Line(f"{vpce}/{subnet_id}", target, "privatelink",
                                   f"{vpce} in {subnet_id} to {name}"))
        self.connections[vpce] = Connection(
            vpce, found.account, self.href(found, "vpc/endpoints", vpce), endpoint["State"],
            service_id, owner, balancers, tuple(targets), endpoint_key(vpce))

    def remote_endpoint(self, found: Holdings, connection: dict) -> Chip:
        vpce, owner = connection["VpcEndpointId"], connection.get("VpcEndpointOwner", "")
        service_id = connection["ServiceId"]
        self.lines.append(Line(f"remote:{vpce}", service_id, "privatelink",
                               f"{vpce} of account {owner} to {service_id}"))
        key = service_key(service_id, vpce)
        if vpce not in self.connections:
            self.connections[vpce] = Connection(
                vpce, owner, console_href("vpc/endpoints", vpce, owner, found.region),
                connection.get("VpcEndpointState", ""), service_id, found.account,
                *self.reach(service_id), key)
        return Chip(f"remote:{vpce}", "remote", vpce,
                    f"account {owner} · {connection.get('VpcEndpointState', '')}",
                    console_href("vpc/endpoints", vpce, owner, found.region),
                    f"Endpoint {vpce} of account {owner} connected to {service_id}", key)


def build(everything: list[Holdings], figures: dict[str, str]) -> Topology:
    """The topology of several accounts' holdings (one, or every account on the machine)."""
    return _Builder(everything, figures).topology()
