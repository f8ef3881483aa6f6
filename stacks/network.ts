import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { EipAddress } from "../.gen/providers/alicloud/eip-address";
import { EipAssociation } from "../.gen/providers/alicloud/eip-association";
import { NatGateway } from "../.gen/providers/alicloud/nat-gateway";
import { SecurityGroup } from "../.gen/providers/alicloud/security-group";
import { SecurityGroupRule } from "../.gen/providers/alicloud/security-group-rule";
import { SnatEntry } from "../.gen/providers/alicloud/snat-entry";
import { Vpc } from "../.gen/providers/alicloud/vpc";
import { Vswitch } from "../.gen/providers/alicloud/vswitch";
import type { NetworkConfig } from "./config";

/**
 * ALB health checks of instances that have not been upgraded come from this range; upgraded ones use local
 * addresses of the ALB vSwitches (alibabacloud.com/help/en/slb/application-load-balancer/user-guide/alb-health-check).
 */
export const ALB_HEALTH_CHECK_CIDR = "100.64.0.0/10";

export interface Subnet {
  readonly zoneId: string;
  readonly vswitchId: string;
  readonly cidr: string;
}

export interface NetworkProps extends NetworkConfig {
  readonly envName: string;
  /** Two or three zones; each tier gets one vSwitch per zone. */
  readonly zones: readonly string[];
  /** The only port instances accept, and only from the ALB. */
  readonly appPort: number;
}

/**
 * VPC with app, ALB and data vSwitches in every zone. Instances never have a public IP of their own; only when tfvars
 * ask for one, a NAT gateway (in the first zone) lets them reach the internet.
 */
export class Network extends Construct {
  public readonly vpcId: string;
  public readonly vpcCidr: string;
  public readonly appSubnets: readonly Subnet[];
  public readonly albSubnets: readonly Subnet[];
  public readonly dataSubnets: readonly Subnet[];
  /** Instances join this group: the app port from the ALB vSwitches and the health-check range, nothing else. */
  public readonly appSecurityGroupId: string;
  /** The address instances reach the internet from, when there is a NAT gateway. */
  public readonly egressIp?: string;
  /** What must exist before instances can reach the internet: the SNAT entries (none without a NAT gateway). */
  public readonly egress: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const name = `seckill-${props.envName}`;
    const vpc = new Vpc(this, "vpc", { vpcName: name, cidrBlock: props.vpcCidr });
    this.vpcId = vpc.id;
    this.vpcCidr = props.vpcCidr;

    const subnets = (tier: string, cidrs: readonly string[]): Subnet[] =>
      props.zones.map((zoneId, index) => {
        const vswitch = new Vswitch(this, `${tier}-${zoneId}`, {
          vswitchName: `${name}-${tier}-${zoneId}`,
          vpcId: vpc.id,
          zoneId,
          cidrBlock: cidrs[index],
        });
        return { zoneId, vswitchId: vswitch.id, cidr: cidrs[index] };
      });
    this.appSubnets = subnets("app", props.appVswitchCidrs);
    this.albSubnets = subnets("alb", props.albVswitchCidrs);
    this.dataSubnets = subnets("data", props.dataVswitchCidrs);

    if (props.natGateway) {
      const egress = this.natGateway(name, vpc.id, props.natBandwidthMbps);
      this.egressIp = egress.ip;
      this.egress = egress.snatEntries;
    }

    const appSecurityGroup = new SecurityGroup(this, "app-sg", {
      securityGroupName: `${name}-app`,
      description: `seckill ${props.envName} instances: app port from the ALB only`,
      vpcId: vpc.id,
      securityGroupType: "normal",
      // Instances never talk to each other.
      innerAccessPolicy: "Drop",
    });
    this.appSecurityGroupId = appSecurityGroup.id;
    const sources = [
      ...this.albSubnets.map((subnet) => ({ id: `alb-${subnet.zoneId}`, cidr: subnet.cidr, description: "ALB to app" })),
      { id: "health-checks", cidr: ALB_HEALTH_CHECK_CIDR, description: "ALB health checks" },
    ];
    for (const source of sources) {
      new SecurityGroupRule(this, `app-from-${source.id}`, {
        securityGroupId: appSecurityGroup.id,
        type: "ingress",
        ipProtocol: "tcp",
        nicType: "intranet",
        policy: "accept",
        portRange: `${props.appPort}/${props.appPort}`,
        priority: 1,
        cidrIp: source.cidr,
        description: source.description,
      });
    }
  }

  /** A NAT gateway in the first app vSwitch, its EIP, and an SNAT entry for every app vSwitch. */
  private natGateway(name: string, vpcId: string, bandwidthMbps: number): { ip: string; snatEntries: SnatEntry[] } {
    const nat = new NatGateway(this, "nat", {
      natGatewayName: `${name}-nat`,
      vpcId,
      vswitchId: this.appSubnets[0].vswitchId,
      natType: "Enhanced",
      networkType: "internet",
      paymentType: "PayAsYouGo",
      internetChargeType: "PayByLcu",
    });
    const eip = new EipAddress(this, "nat-eip", {
      addressName: `${name}-nat`,
      paymentType: "PayAsYouGo",
      internetChargeType: "PayByTraffic",
      bandwidth: String(bandwidthMbps),
    });
    const association = new EipAssociation(this, "nat-eip-association", {
      allocationId: eip.id,
      instanceId: nat.id,
      instanceType: "Nat",
    });
    const snatEntries = this.appSubnets.map(
      (subnet) =>
        new SnatEntry(this, `snat-${subnet.zoneId}`, {
          snatEntryName: `${name}-app-${subnet.zoneId}`,
          snatTableId: nat.snatTableIds,
          sourceVswitchId: subnet.vswitchId,
          snatIp: eip.ipAddress,
          dependsOn: [association],
        }),
    );
    return { ip: eip.ipAddress, snatEntries };
  }
}
