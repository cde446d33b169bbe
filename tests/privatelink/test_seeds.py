"""The seeds, replayed as API calls across two accounts: 111111111111 provides, 222222222222
consumes. What a person clicks in the console is here the call the console makes."""

from __future__ import annotations

import re

from tests.conftest import CONSUMER, PROVIDER
from tests.privatelink.conftest import (
    AMI,
    HEX17,
    aws_error,
    build_consumer,
    build_provider,
    dig,
    ipv6_blocks,
    publish_txt,
    wait_for,
)


def test_seed_000_provider_consumer_dual_stack_and_private_dns(daemon, client):
    region = "us-west-2"
    # Section 1, step 1: the provider's NLB (dual-stack since the previous post) gets an
    # endpoint service with the console's defaults.
    provider = build_provider(client, PROVIDER, region=region)
    service = provider.service
    assert re.fullmatch(rf"com\.amazonaws\.vpce\.{region}\.vpce-svc-{HEX17}",
                        service["ServiceName"])
    assert (service["AcceptanceRequired"], service["SupportedIpAddressTypes"]) == (
        True, ["ipv4"])
    provider.allow(CONSUMER)  # the consumer's account must be allowed to find the service

    # Step 2: the consumer pastes the service name into an interface endpoint.
    consumer = build_consumer(client, CONSUMER, provider.service_zone_ids(), region=region,
                              dns_hostnames=False)
    endpoint = consumer.create_endpoint(provider.service_name)
    endpoint_id = endpoint["VpcEndpointId"]
    assert endpoint["State"] == "pendingAcceptance"
    assert endpoint["PrivateDnsEnabled"] is False

    # Step 3: the provider accepts the connection request.
    [connection] = provider.connections(Filters=[
        {"Name": "vpc-endpoint-id", "Values": [endpoint_id]}])
    assert (connection["VpcEndpointState"], connection["VpcEndpointOwner"]) == (
        "pendingAcceptance", CONSUMER)
    assert provider.accept(endpoint_id) == []

    # Step 4: pending for a while, then available; the regional name is the one to curl.
    found = consumer.wait_state(endpoint_id, "available")
    regional = found["DnsEntries"][0]["DnsName"]
    assert re.fullmatch(rf"{endpoint_id}-[a-z0-9]{{8}}\.{provider.service_id}\.{region}"
                        r"\.vpce\.amazonaws\.com", regional)

    # Section 2: the service supports IPv6, then the endpoint becomes dual-stack.
    provider.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=provider.service_id, AddSupportedIpAddressTypes=["ipv6"])
    assert provider.describe_service()["SupportedIpAddressTypes"] == ["ipv4", "ipv6"]
    consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, IpAddressType="dualstack",
                                     DnsOptions={"DnsRecordIpType": "dualstack"})
    found = consumer.wait_state(endpoint_id, "available")
    assert (found["IpAddressType"], found["DnsOptions"]["DnsRecordIpType"]) == (
        "dualstack", "dualstack")
    assert found["DnsEntries"][0]["DnsName"] == regional  # the name stays, it gains AAAA
    interfaces = consumer.ec2.describe_network_interfaces(
        NetworkInterfaceIds=found["NetworkInterfaceIds"])["NetworkInterfaces"]
    assert all(e["PrivateIpAddress"] and e["Ipv6Addresses"] for e in interfaces)

    # Section 3, steps 1-2: the private DNS name, proven by a TXT record in Route 53.
    route53 = client("route53", PROVIDER)
    zone = route53.create_hosted_zone(Name="shiun.me", CallerReference="seed-000")["HostedZone"]
    provider.ec2.modify_vpc_endpoint_service_configuration(
        ServiceId=provider.service_id, PrivateDnsName="demoprivatelink.shiun.me")
    config = provider.describe_service()["PrivateDnsNameConfiguration"]
    assert config["State"] == "pendingVerification"
    record = f"{config['Name']}.demoprivatelink.shiun.me"
    publish_txt(route53, zone, record, config["Value"])
    assert dig(daemon, "TXT", record, "+short").strip() == f'"{config["Value"]}"'
    assert provider.start_verification() == "verified"

    # Step 3: the consumer enables private DNS; its VPC needs DNS hostnames first.
    with aws_error("InvalidParameter"):
        consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=True)
    consumer.ec2.modify_vpc_attribute(VpcId=consumer.vpc_id, EnableDnsHostnames={"Value": True})
    consumer.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=True)
    found = consumer.wait_state(endpoint_id, "available")
    assert found["PrivateDnsEnabled"] is True
    assert found["DnsEntries"][-1]["DnsName"] == "demoprivatelink.shiun.me"
    # From the laptop (the public DNS), the private name does not resolve.
    assert dig(daemon, "A", "demoprivatelink.shiun.me", "+short").strip() == ""


def test_seed_001_allowed_principals(client):
    region = "ap-northeast-1"
    # Account A: an NLB with cross-zone load balancing, active before the next step.
    provider = build_provider(client, PROVIDER, region=region, service=False)
    provider.elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=provider.balancer_arn,
        Attributes=[{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
    wait_for(lambda: provider.elbv2.describe_load_balancers(
        LoadBalancerArns=[provider.balancer_arn])["LoadBalancers"][0]["State"]["Code"] == "active")
    provider.create_service(AcceptanceRequired=True)
    consumer = build_consumer(client, CONSUMER, provider.service_zone_ids(), region=region)

    # Account B, before the principal is allowed: "verification failed".
    for attempt in (lambda: consumer.ec2.describe_vpc_endpoint_services(
                        ServiceNames=[provider.service_name]),
                    lambda: consumer.create_endpoint(provider.service_name)):
        with aws_error("InvalidServiceName",
                       f"The Vpc Endpoint Service '{provider.service_name}' does not exist"):
            attempt()

    # Account A allows account B's root.
    [added] = provider.allow(CONSUMER)["AddedPrincipals"]
    assert (added["Principal"], added["PrincipalType"]) == (f"arn:aws:iam::{CONSUMER}:root",
                                                            "Account")

    # Account B verifies the name, creates the endpoint; it waits for acceptance.
    [detail] = consumer.ec2.describe_vpc_endpoint_services(
        ServiceNames=[provider.service_name])["ServiceDetails"]
    assert detail["Owner"] == PROVIDER
    endpoint = consumer.create_endpoint(provider.service_name)
    assert endpoint["State"] == "pendingAcceptance"
    provider.accept(endpoint["VpcEndpointId"])
    found = consumer.wait_state(endpoint["VpcEndpointId"], "available")
    regional = found["DnsEntries"][0]
    assert regional["HostedZoneId"] == "Z2E726K9Y6RL4W"
    assert regional["DnsName"].endswith(f".{provider.service_id}.{region}.vpce.amazonaws.com")
    interfaces = consumer.ec2.describe_network_interfaces(
        NetworkInterfaceIds=found["NetworkInterfaceIds"])["NetworkInterfaces"]
    assert len(interfaces) == 2  # the seed's dig answered two addresses, one per zone


def test_seed_002_the_templates_resources_through_the_api(client):
    """The CloudFormation template of seed 002, resource by resource, in dependency order."""
    region = "us-east-1"
    ec2, elbv2 = client("ec2", PROVIDER, region), client("elbv2", PROVIDER, region)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    zones = sorted(z["ZoneId"] for z in ec2.describe_availability_zones()[
        "AvailabilityZones"])[:3]  # the template's three private subnets
    blocks = ipv6_blocks(vpc)
    subnets = [ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"10.30.{n + 1}.0/24",
                                 Ipv6CidrBlock=blocks[n], AvailabilityZoneId=zone)["Subnet"]["SubnetId"]
               for n, zone in enumerate(zones)]

    # Ec2ServiceSecurityGroup: port 80 from every private range (the NLB passes through).
    group = ec2.create_security_group(GroupName="seed002-sg-cfn", VpcId=vpc["VpcId"],
                                      Description="Enable HTTP and Endpoint Access")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [
            {"CidrIp": c, "Description": "Allow traffic from the NLB"}
            for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]}])
    [instance] = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnets[0],
                                   SecurityGroupIds=[group])["Instances"]

    # EndpointServiceNetworkLoadBalancer, with the template's attributes and tag.
    [balancer] = elbv2.create_load_balancer(
        Name="endpointsrv-seed002-nlb-cfn", Type="network", Scheme="internal", Subnets=subnets,
        Tags=[{"Key": "Name", "Value": "endpointsrv-seed002-nlb-cfn"}])["LoadBalancers"]
    arn = balancer["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"},
        {"Key": "load_balancing.cross_zone.enabled", "Value": "true"},
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": "seed002-logs"},
        {"Key": "access_logs.s3.prefix", "Value": "endpointservice-NLB"}])

    # EndpointServiceTargetGroup: TCP 80 with an HTTP health check, 3/3 thresholds, 90 s delay.
    [target_group] = elbv2.create_target_group(
        Name="endpointsrv-seed002-tg-cf", Port=80, Protocol="TCP", VpcId=vpc["VpcId"],
        HealthCheckProtocol="HTTP", HealthCheckIntervalSeconds=30, HealthyThresholdCount=3,
        UnhealthyThresholdCount=3, Tags=[{"Key": "Name", "Value": "endpointtsrv-seed002-tg-cf"}])[
        "TargetGroups"]
    assert (target_group["HealthCheckPath"], target_group["HealthCheckTimeoutSeconds"],
            target_group["Matcher"]) == ("/", 6, {"HttpCode": "200-399"})
    elbv2.modify_target_group_attributes(TargetGroupArn=target_group["TargetGroupArn"],
                                         Attributes=[{"Key": "deregistration_delay.timeout_seconds",
                                                      "Value": "90"}])
    elbv2.register_targets(TargetGroupArn=target_group["TargetGroupArn"],
                           Targets=[{"Id": instance["InstanceId"]}])  # the Auto Scaling group

    # EndpointServiceNetworkLoadBalancerCert: ${Application}.${HostedZoneDomainName}, DNS
    # validation; the record that DomainValidationOptions' HostedZoneId writes, written here.
    acm, route53 = client("acm", PROVIDER, region), client("route53", PROVIDER)
    domain = "seed002.example.net"
    zone = route53.create_hosted_zone(Name=domain, CallerReference="seed-002")["HostedZone"]
    certificate = acm.request_certificate(DomainName=f"seed002.{domain}",
                                          ValidationMethod="DNS")["CertificateArn"]
    record = acm.describe_certificate(CertificateArn=certificate)["Certificate"][
        "DomainValidationOptions"][0]["ResourceRecord"]
    route53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": record["Name"], "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": record["Value"]}]}}]})
    wait_for(lambda: acm.describe_certificate(CertificateArn=certificate)["Certificate"][
        "Status"] == "ISSUED", "the certificate issued")

    # EndpointServiceNetworkLoadBalancerListener: TLS 443 with the ACM certificate.
    [listener] = elbv2.create_listener(
        LoadBalancerArn=arn, Port=443, Protocol="TLS", SslPolicy="ELBSecurityPolicy-FS-1-2-Res-2019-08",
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group["TargetGroupArn"]}])[
        "Listeners"]
    assert (listener["Protocol"], listener["Port"], listener["SslPolicy"]) == (
        "TLS", 443, "ELBSecurityPolicy-FS-1-2-Res-2019-08")

    # EndpointService and EndpointServicePermissions.
    service = ec2.create_vpc_endpoint_service_configuration(
        AcceptanceRequired=True, NetworkLoadBalancerArns=[arn])["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{CONSUMER}:root"])

    # EC2VpcEndpointSG and EC2VpcEndpoint: an interface endpoint to EC2's API, private DNS on.
    endpoint_group = ec2.create_security_group(
        GroupName="vpc-endpoint-ec2-seed002-sg-cfn", VpcId=vpc["VpcId"],
        Description="Allow EC2 VPC Endpoint outbound traffic")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}])
    policy = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
              '"Action":"*","Resource":"*"}]}')
    ec2_endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", ServiceName=f"com.amazonaws.{region}.ec2",
        VpcId=vpc["VpcId"], SubnetIds=subnets, PrivateDnsEnabled=True,
        SecurityGroupIds=[endpoint_group], PolicyDocument=policy)["VpcEndpoint"]
    assert ec2_endpoint["PolicyDocument"] == policy
    [found] = wait_for(lambda: [e for e in ec2.describe_vpc_endpoints(
        VpcEndpointIds=[ec2_endpoint["VpcEndpointId"]])["VpcEndpoints"]
        if e["State"] == "available"])
    assert found["DnsEntries"][-1]["DnsName"] == f"ec2.{region}.amazonaws.com"
    assert found["Groups"][0]["GroupId"] == endpoint_group

    # The other account connects; the provider accepts.
    consumer = build_consumer(client, CONSUMER, service["AvailabilityZoneIds"], region=region,
                              cidr="10.31.0.0/16")
    endpoint = consumer.create_endpoint(service["ServiceName"])
    assert endpoint["State"] == "pendingAcceptance"
    ec2.accept_vpc_endpoint_connections(ServiceId=service["ServiceId"],
                                        VpcEndpointIds=[endpoint["VpcEndpointId"]])
    consumer.wait_state(endpoint["VpcEndpointId"], "available")
    assert len(consumer.describe(endpoint["VpcEndpointId"])["NetworkInterfaceIds"]) == 3

    # Deleting the stack stops at the NLB: deletion protection, and the service uses it.
    with aws_error("OperationNotPermitted"):
        elbv2.delete_load_balancer(LoadBalancerArn=arn)
