#!/usr/bin/env node
// Seed 004's CDK code (/work/shared/seeds/004: "AWS VPC Endpoint 使用場景"), unchanged but for
// what the seed elides: the stack, its VPC (two PRIVATE_ISOLATED subnets, no NAT), and its
// environment. The zones are given to the VPC so that synthesis never looks them up: the app
// synthesizes offline.
const cdk = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');

const REGION = 'ap-northeast-1';
const ZONES = ['ap-northeast-1a', 'ap-northeast-1c'];

class Seed004Stack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      availabilityZones: ZONES,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });

    // From here on, the seed's code as it stands.
    new ec2.InterfaceVpcEndpoint(this, 'VPCEndpointForECRApi', {
      vpc: this.vpc,
      service: new ec2.InterfaceVpcEndpointService('com.amazonaws.ap-northeast-1.ecr.api', 443),
      subnets: {
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c']
      },
      privateDnsEnabled: true,
    });

    new ec2.InterfaceVpcEndpoint(this, 'VPCEndpointForECRDkr', {
      vpc: this.vpc,
      service: new ec2.InterfaceVpcEndpointService('com.amazonaws.ap-northeast-1.ecr.dkr', 443),
      subnets: {
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c']
      },
      privateDnsEnabled: true,
    });

    new ec2.InterfaceVpcEndpoint(this, 'VPCEndpointForCW', {
      vpc: this.vpc,
      service: new ec2.InterfaceVpcEndpointService('com.amazonaws.ap-northeast-1.logs', 443),
      subnets: {
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c']
      },
      privateDnsEnabled: true,
    });

    new ec2.InterfaceVpcEndpoint(this, 'VPCEndpointForSecretManager', {
      vpc: this.vpc,
      service: new ec2.InterfaceVpcEndpointService('com.amazonaws.ap-northeast-1.secretsmanager', 443),
      subnets: {
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c']
      },
      privateDnsEnabled: true,
    });

    new ec2.InterfaceVpcEndpoint(this, 'VPCEndpointForSSM', {
      vpc: this.vpc,
      service: new ec2.InterfaceVpcEndpointService('com.amazonaws.ap-northeast-1.ssm', 443),
      subnets: {
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c']
      },
      privateDnsEnabled: true,
    });

    new ec2.InterfaceVpcEndpoint(this, 'VPCEndpointForSSMMessage', {
      vpc: this.vpc,
      service: new ec2.InterfaceVpcEndpointService('com.amazonaws.ap-northeast-1.ssmmessages', 443),
      subnets: {
        subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
        availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c']
      },
      privateDnsEnabled: true,
    });

    const s3GatewayEndpoint = this.vpc.addGatewayEndpoint('VpcS3GatewayEndpoint', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [
        {
          subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
          availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c']
        }
      ],
    });
    new cdk.CfnOutput(this, 'VpcId', { value: this.vpc.vpcId });
    new cdk.CfnOutput(this, 'S3GatewayEndpointId', { value: s3GatewayEndpoint.vpcEndpointId });
  }
}

const app = new cdk.App();
new Seed004Stack(app, process.env.SEED004_STACK || 'Seed004', {
  env: { region: REGION },
});
