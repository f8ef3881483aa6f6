import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { DataAlicloudImages } from "../.gen/providers/alicloud/data-alicloud-images";
import { EssScalingConfiguration } from "../.gen/providers/alicloud/ess-scaling-configuration";
import { EssScalingGroup } from "../.gen/providers/alicloud/ess-scaling-group";
import { EssScalingRule } from "../.gen/providers/alicloud/ess-scaling-rule";
import { EssScheduledTask } from "../.gen/providers/alicloud/ess-scheduled-task";
import { RamRole } from "../.gen/providers/alicloud/ram-role";
import type { ComputeConfig } from "./config";
import type { Subnet } from "./network";

/** Alibaba Cloud Linux 3, x86_64, the newest system image (cloud-init runs the user data). */
export const IMAGE_NAME_REGEX = "^aliyun_3_x64_20G_alibase_.*";

/** CloudMonitor metric for each `scaling_metric`: ALB QPS per backend server, or average CPU %. */
export const SCALING_METRICS = { alb_qps: "LoadBalancerRealServerAverageQps", cpu: "CpuUtilization" } as const;

export interface ComputeProps extends ComputeConfig {
  readonly envName: string;
  /** The group spreads instances evenly over these (one per zone). */
  readonly appSubnets: readonly Subnet[];
  readonly appSecurityGroupId: string;
  /** ALB server group the instances register in, on `appPort`. */
  readonly serverGroupId: string;
  /** The exact `user_data` value (the boot script, as userdata/ renders it). */
  readonly userData: string;
  /** Scheduled tasks whose launch time is not after this are left out (ESS refuses past launch times). */
  readonly now: Date;
  /** Resources the instances need before they boot (for example database grants). */
  readonly bootDependsOn?: ITerraformDependable[];
}

/** `YYYY-MM-DDThh:mmZ`, the only launch_time format ESS accepts. */
export function launchTime(at: Date): string {
  return `${at.toISOString().slice(0, 16)}Z`;
}

/**
 * The app fleet: an auto-scaling group over the app vSwitches, registered in the ALB server group, tracking a
 * target metric, and pre-warmed by scheduled tasks before every sale window.
 */
export class Compute extends Construct {
  public readonly scalingGroupId: string;
  /** Instance RAM role: no policies yet; attach them when the app needs a cloud API. */
  public readonly instanceRoleName: string;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const name = `seckill-${props.envName}`;

    const role = new RamRole(this, "instance-role", {
      roleName: `${name}-ecs`,
      description: `Role of the seckill ${props.envName} app instances`,
      assumeRolePolicyDocument: JSON.stringify({
        Version: "1",
        Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["ecs.aliyuncs.com"] } }],
      }),
      force: true,
    });
    this.instanceRoleName = role.roleName;

    const group = new EssScalingGroup(this, "group", {
      scalingGroupName: `${name}-app`,
      minSize: props.minInstances,
      maxSize: props.maxInstances,
      desiredCapacity: props.desiredInstances,
      vswitchIds: props.appSubnets.map((subnet) => subnet.vswitchId),
      multiAzPolicy: "BALANCE",
      // Scale-in removes the instances added last, keeping the long-warm base fleet.
      removalPolicies: ["OldestScalingConfiguration", "NewestInstance"],
      defaultCooldown: 300,
      albServerGroup: [{ albServerGroupId: props.serverGroupId, port: props.appPort, weight: 100 }],
      // Every scaling activity moves desired capacity; re-applying the configured value would undo a scale-out.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });
    this.scalingGroupId = group.id;

    const image = new DataAlicloudImages(this, "image", { nameRegex: IMAGE_NAME_REGEX, owners: "system", mostRecent: true });
    new EssScalingConfiguration(this, "launch", {
      scalingGroupId: group.id,
      scalingConfigurationName: `${name}-app`,
      instanceName: `${name}-app`,
      imageId: image.images.get(0).id,
      instanceTypes: [...props.instanceTypes],
      securityGroupIds: [props.appSecurityGroupId],
      internetMaxBandwidthOut: 0,
      systemDiskCategory: props.systemDiskCategory,
      systemDiskSize: props.systemDiskSizeGib,
      systemDiskEncrypted: true,
      roleName: role.roleName,
      userData: props.userData,
      active: true,
      enable: true,
      forceDelete: true,
      dependsOn: props.bootDependsOn,
    });

    new EssScalingRule(this, "target-tracking", {
      scalingGroupId: group.id,
      scalingRuleName: `${name}-${props.scalingMetric.replace("_", "-")}`,
      scalingRuleType: "TargetTrackingScalingRule",
      metricName: SCALING_METRICS[props.scalingMetric],
      targetValue: props.scalingTargetValue,
      estimatedInstanceWarmup: props.instanceWarmupSeconds,
      disableScaleIn: false,
      alarmDimension: props.scalingMetric === "alb_qps" ? { dimensionKey: "rulePool", dimensionValue: props.serverGroupId } : undefined,
    });

    const minute = 60_000;
    for (const window of props.saleWindows) {
      const prewarmAt = new Date(window.startsAt.getTime() - props.prewarmLeadMinutes * minute);
      const scaleInAt = new Date(window.endsAt.getTime() + props.scaleInDelayMinutes * minute);
      const task = (phase: string, at: Date, description: string, min: number, desired: number) => {
        if (at <= props.now) return;
        new EssScheduledTask(this, `${window.name}-${phase}`, {
          scheduledTaskName: `${name}-${window.name}-${phase}`,
          description,
          scalingGroupId: group.id,
          launchTime: launchTime(at),
          launchExpirationTime: 600,
          minValue: min,
          desiredCapacity: desired,
          maxValue: props.maxInstances,
          taskEnabled: true,
        });
      };
      task(
        "prewarm",
        prewarmAt,
        `Pre-warm to ${window.instances} instances for sale ${window.name} at ${launchTime(window.startsAt)}`,
        window.instances,
        window.instances,
      );
      task(
        "scalein",
        scaleInAt,
        `Back to the normal size after sale ${window.name} ended at ${launchTime(window.endsAt)}`,
        props.minInstances,
        props.desiredInstances,
      );
    }
  }
}
