"""``pocketlink demo``: seed 000's world, built through the AWS API as its walkthrough does.

Two accounts: the provider (111111111111) with a dual-stack VPC, subnets in two zones and
the httpd target instance; the consumer (222222222222) with a private subnet, its
instance and the security group the seed's troubleshooting section needs. Each step
prints one line, the way the AWS CLI would be typed.

What is built today is the control plane of the network; the endpoint service, the
endpoint and the curls through it join as pocketlink's PrivateLink issues land.
"""

from __future__ import annotations

import boto3
from botocore.config import Config

PROVIDER = "111111111111"
CONSUMER = "222222222222"
REGION = "us-west-2"
AMI = "ami-0c55b159cbfafe1f0"
APACHE_MODULES = "/usr/lib/apache2/modules"
HTTPD_CONF = r"""ServerRoot /etc/apache2
ServerName $name
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule dir_module {modules}/mod_dir.so
LoadModule mime_module {modules}/mod_mime.so
{remote_ip}User www-data
Group www-data
Listen 80
PidFile {folder}/httpd.pid
ErrorLog {folder}/error.log
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{{Referer}}i\" \"%{{User-Agent}}i\"" combined
CustomLog {folder}/access.log combined
TypesConfig /etc/mime.types
DocumentRoot {folder}/www
DirectoryIndex index.html
<Directory {folder}/www>
    Require all granted
</Directory>
"""


def httpd_user_data(folder: str, proxy_protocol: bool = False) -> str:
    """UserData that starts Apache httpd as the seed's target does: a page naming the
    instance (its private DNS name, from the VPC resolver), and an access log in the
    seed's format. All instances share one filesystem here, so each gets ``folder``.

    With ``proxy_protocol``, mod_remoteip reads the PROXY v2 header the NLB sends and logs
    the consumer's own address, as the seed's last section shows."""
    remote_ip = (f"LoadModule remoteip_module {APACHE_MODULES}/mod_remoteip.so\n"
                 "RemoteIPProxyProtocol On\n") if proxy_protocol else ""
    conf = HTTPD_CONF.format(modules=APACHE_MODULES, folder=folder, remote_ip=remote_ip)
    return "\n".join([
        "#!/bin/sh",
        "set -e",
        f"mkdir -p {folder}/www && chmod 755 {folder} {folder}/www",
        "address=$(ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)",
        "name=$(dig +short -x \"$address\" | sed 's/[.]$//')",
        f"echo \"<h1>Hello World from $name</h1>\" > {folder}/www/index.html",
        f"cat > {folder}/httpd.conf <<PL_CONF",
        conf.replace("\\", "\\\\").replace("`", "\\`").rstrip("\n"),
        "PL_CONF",
        f"exec /usr/sbin/apache2 -f {folder}/httpd.conf -k start",
        "",
    ])


def _client(endpoint: str, service: str, account: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=account, aws_secret_access_key="demo",
                        config=Config(retries={"max_attempts": 2}))


def _step(who: str, text: str) -> None:
    print(f"*** [{who}] {text}", flush=True)


def _vpc(ec2, cidr: str, name: str, zones: list[str], ipv6: bool) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=ipv6, TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}])["Vpc"]
    vpc_id = vpc["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    base = cidr.split(".")
    block6 = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"] if ipv6 else None
    subnets = []
    for index, zone in enumerate(zones):
        extra = {"Ipv6CidrBlock": block6.replace("00::/56", f"{index:02x}::/64")} if block6 else {}
        subnet = ec2.create_subnet(VpcId=vpc_id, AvailabilityZone=zone,
                                   CidrBlock=f"{base[0]}.{base[1]}.{128 + index * 16}.0/20",
                                   **extra)["Subnet"]
        subnets.append(subnet["SubnetId"])
    return vpc_id, subnets


def run(endpoint: str) -> int:
    provider = _client(endpoint, "ec2", PROVIDER)
    consumer = _client(endpoint, "ec2", CONSUMER)
    for account in (PROVIDER, CONSUMER):
        identity = _client(endpoint, "sts", account).get_caller_identity()
        _step("sts", f"aws sts get-caller-identity -> {identity['Arn']}")

    _step("Provider", "aws ec2 create-vpc --cidr-block 10.0.0.0/16 "
          "--amazon-provided-ipv6-cidr-block, and two dual-stack private subnets")
    vpc_id, subnets = _vpc(provider, "10.0.0.0/16", "provider", [f"{REGION}a", f"{REGION}b"],
                           ipv6=True)
    web = provider.create_security_group(GroupName="httpd", Description="httpd target",
                                         VpcId=vpc_id)["GroupId"]
    provider.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    _step("Provider", "aws ec2 run-instances --user-data file://httpd.sh (the NLB's target)")
    target = provider.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnets[0], SecurityGroupIds=[web],
        Ipv6AddressCount=1, UserData=httpd_user_data("/tmp/pocketlink-demo-httpd"),
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "httpd"}]}],
    )["Instances"][0]
    print(f"    {target['InstanceId']}  {target['PrivateDnsName']}  "
          f"{target['PrivateIpAddress']}  {target['Ipv6Address']}")

    _step("Consumer", "aws ec2 create-vpc --cidr-block 10.0.0.0/16 (the same CIDR: "
          "PrivateLink does not care)")
    consumer_vpc, consumer_subnets = _vpc(consumer, "10.0.0.0/16", "consumer",
                                          [f"{REGION}a"], ipv6=True)
    client_group = consumer.create_security_group(
        GroupName="private-instance", Description="the consumer's private instance",
        VpcId=consumer_vpc)["GroupId"]
    endpoint_group = consumer.create_security_group(
        GroupName="vpce", Description="the interface endpoint", VpcId=consumer_vpc)["GroupId"]
    _step("Consumer", "aws ec2 authorize-security-group-ingress: the endpoint's group admits "
          "the instance's group on port 80 (the seed's troubleshooting section)")
    consumer.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "UserIdGroupPairs": [{"GroupId": client_group}]}])
    _step("Consumer", "aws ec2 run-instances: the private instance, no internet")
    instance = consumer.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=consumer_subnets[0],
        SecurityGroupIds=[client_group], Ipv6AddressCount=1)["Instances"][0]
    print(f"    {instance['InstanceId']}  {instance['PrivateDnsName']}  "
          f"{instance['PrivateIpAddress']}  {instance['Ipv6Address']}")

    _step("both", "aws ec2 describe-network-interfaces")
    for who, ec2 in (("Provider", provider), ("Consumer", consumer)):
        for eni in ec2.describe_network_interfaces()["NetworkInterfaces"]:
            print(f"    {who:8} {eni['NetworkInterfaceId']}  {eni['InterfaceType']:9} "
                  f"{eni['AvailabilityZone']}  {eni.get('PrivateIpAddress', '-'):13} "
                  f"{eni['Ipv6Addresses'][0]['Ipv6Address'] if eni['Ipv6Addresses'] else '-'}")
    print("\nThe world of seed 000 stands. Next in pocketlink: the NLB, the endpoint service, "
          "the endpoint, and curl through it.")
    return 0
