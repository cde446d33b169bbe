"""The templates the stack tests deploy, as YAML text (what users write)."""

PRIVATELINK = """
AWSTemplateFormatVersion: '2010-09-09'
Description: An NLB behind an endpoint service, and an interface endpoint to it.
Parameters:
  Application: {Type: String, Default: demo}
  ListenerPort: {Type: Number, Default: 80}
  TargetGroupName: {Type: String, Default: ''}
Conditions:
  NamedGroup: !Not [!Equals [!Ref TargetGroupName, '']]
Mappings:
  Blocks:
    Provider: {Vpc: 10.20.0.0/16}
    Consumer: {Vpc: 10.30.0.0/16}
Resources:
  ProviderVpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !FindInMap [Blocks, Provider, Vpc]
      EnableDnsSupport: true
      EnableDnsHostnames: true
      Tags: [{Key: Name, Value: !Sub '${Application}-provider'}]
  ProviderSubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref ProviderVpc
      CidrBlock: !Select [0, !Cidr [!GetAtt ProviderVpc.CidrBlock, 4, 8]]
      AvailabilityZone: !Select [0, !GetAZs '']
  ProviderSubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref ProviderVpc
      CidrBlock: !Select [1, !Cidr [!GetAtt ProviderVpc.CidrBlock, 4, 8]]
      AvailabilityZone: !Select [1, !GetAZs '']
  TargetSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Allow HTTP from the NLB
      VpcId: !Ref ProviderVpc
      SecurityGroupIngress:
        - {CidrIp: 10.0.0.0/8, FromPort: 80, IpProtocol: tcp, ToPort: 80, Description: nlb}
  LoadBalancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Name: !Sub '${Application}-nlb'
      Type: network
      Scheme: internal
      Subnets: [!Ref ProviderSubnetA, !Ref ProviderSubnetB]
      LoadBalancerAttributes:
        - {Key: load_balancing.cross_zone.enabled, Value: 'true'}
  TargetGroup:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Name: !If [NamedGroup, !Ref TargetGroupName, !Ref 'AWS::NoValue']
      Port: 80
      Protocol: TCP
      VpcId: !Ref ProviderVpc
      HealthCheckIntervalSeconds: 30
      TargetGroupAttributes:
        - {Key: deregistration_delay.timeout_seconds, Value: '90'}
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LoadBalancer
      Port: !Ref ListenerPort
      Protocol: TCP
      DefaultActions: [{Type: forward, TargetGroupArn: !Ref TargetGroup}]
  EndpointService:
    Type: AWS::EC2::VPCEndpointService
    Properties:
      AcceptanceRequired: false
      NetworkLoadBalancerArns: [!Ref LoadBalancer]
  EndpointServicePermissions:
    Type: AWS::EC2::VPCEndpointServicePermissions
    Properties:
      ServiceId: !Ref EndpointService
      AllowedPrincipals: [!Sub 'arn:aws:iam::${AWS::AccountId}:root']
  ConsumerVpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !FindInMap [Blocks, Consumer, Vpc]
  ConsumerSubnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref ConsumerVpc
      CidrBlock: 10.30.1.0/24
      AvailabilityZone: !GetAtt ProviderSubnetA.AvailabilityZone
  EndpointSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Endpoint
      VpcId: !Ref ConsumerVpc
      SecurityGroupIngress:
        - {CidrIp: 10.30.0.0/16, FromPort: 0, IpProtocol: tcp, ToPort: 65535}
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    DependsOn: EndpointServicePermissions
    Properties:
      VpcEndpointType: Interface
      VpcId: !Ref ConsumerVpc
      ServiceName: !Sub 'com.amazonaws.vpce.${AWS::Region}.${EndpointService}'
      SubnetIds: [!Ref ConsumerSubnet]
      SecurityGroupIds: [!Ref EndpointSecurityGroup]
Outputs:
  LoadBalancerDns: {Value: !GetAtt LoadBalancer.DNSName}
  LoadBalancerZone: {Value: !GetAtt LoadBalancer.CanonicalHostedZoneID}
  TargetGroupArn: {Value: !Ref TargetGroup}
  ServiceId:
    Value: !Ref EndpointService
    Export: {Name: !Sub '${AWS::StackName}-service'}
  EndpointDns: {Value: !Select [0, !GetAtt Endpoint.DnsEntries]}
  EndpointEnis: {Value: !Join [',', !GetAtt Endpoint.NetworkInterfaceIds]}
"""

FAILING = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.40.0.0/16}
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: kept until the rollback, VpcId: !Ref Vpc}
  Subnet:
    Type: AWS::EC2::Subnet
    DependsOn: Group
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.99.0.0/24}
"""

SMALL = """
Parameters:
  Value: {Type: String, Default: one}
Resources:
  Parameter:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !Ref Value}
Outputs:
  Name: {Value: !Ref Parameter}
"""

# The same stack with a target running httpd behind the NLB, and a consumer instance.
TRAFFIC = PRIVATELINK.replace("""      VpcId: !Ref ProviderVpc
      HealthCheckIntervalSeconds: 30
""", """      VpcId: !Ref ProviderVpc
      HealthCheckIntervalSeconds: 30
      Targets: [{Id: !Ref Target, Port: 80}]
""").replace("Parameters:\n", """Parameters:
  HttpdScript: {Type: String}
""", 1).replace("Outputs:\n", """  Target:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0123456789abcdef0
      InstanceType: t3.micro
      SubnetId: !Ref ProviderSubnetA
      SecurityGroupIds: [!Ref TargetSecurityGroup]
      UserData: !Base64 {Ref: HttpdScript}
  Consumer:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0123456789abcdef0
      InstanceType: t3.micro
      SubnetId: !Ref ConsumerSubnet
Outputs:
  Consumer: {Value: !Ref Consumer}
  TargetIp: {Value: !GetAtt Target.PrivateIp}
""", 1)
