import { Construct } from "constructs";
import { Annotations, ITerraformDependable, dependable } from "cdktf";
import { EssScalingConfiguration } from "../.gen/providers/alicloud/ess-scaling-configuration";
import { EssScalingGroup } from "../.gen/providers/alicloud/ess-scaling-group";
import { EssScalingRule } from "../.gen/providers/alicloud/ess-scaling-rule";
import { EssScheduledTask } from "../.gen/providers/alicloud/ess-scheduled-task";
import { RamRole } from "../.gen/providers/alicloud/ram-role";
import type { ComputeConfig } from "./config";
import type { Subnet } from "./network";
import { launchTime, saleSchedule } from "./sale-schedule";

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
  /** The synth time: the sale schedule is planned from it (stacks/sale-schedule.ts). */
  readonly now: Date;
  /** The sale window the operator allows this deploy to happen in (DEPLOY_DURING_SALE_VARIABLE), if any. */
  readonly deployDuringSale?: string;
  /** Resources the instances need before they boot (for example database grants). */
  readonly bootDependsOn?: ITerraformDependable[];
  /** Tags every instance carries (the CloudMonitor group the fleet's alarms watch is made by tag). */
  readonly instanceTags: Readonly<Record<string, string>>;
  /** What gives instances their way to the internet, when there is one (the SNAT entries): the group waits for it. */
  readonly egress?: ITerraformDependable[];
}

/** The instance RAM role's name: the user data names it before the role exists (SECKILL_SECRETS_ROLE). */
export function instanceRoleName(envName: string): string {
  return `seckill-${envName}-ecs`;
}

/**
 * The app fleet: an auto-scaling group over the app vSwitches, registered in the ALB server group, tracking a
 * target metric, and pre-warmed by scheduled tasks before every sale window.
 */
export class Compute extends Construct {
  public readonly scalingGroupId: string;
  /** Instance RAM role; its policies are attached where the API they allow is used (SecretStore). */
  public readonly instanceRoleName: string;
  private readonly launch: EssScalingConfiguration;

  constructor(scope: Construct, id: string, props: ComputeProps) {
    super(scope, id);
    const name = `seckill-${props.envName}`;
    // Throws during a sale window unless the operator named it: no plan then lowers the pre-warmed floor.
    const schedule = saleSchedule(props.envName, props, props.now, props.deployDuringSale);
    for (const note of schedule.notes) Annotations.of(this).addWarning(`deploying during a sale window: ${note}`);

    const role = new RamRole(this, "instance-role", {
      roleName: instanceRoleName(props.envName),
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
      // Scheduled tasks move min and desired, never max (they all set max_value to max_instances).
      minSize: schedule.minSize,
      maxSize: props.maxInstances,
      desiredCapacity: schedule.desiredCapacity,
      vswitchIds: props.appSubnets.map((subnet) => subnet.vswitchId),
      multiAzPolicy: "BALANCE",
      // Scale-in removes the instances added last, keeping the long-warm base fleet.
      removalPolicies: ["OldestScalingConfiguration", "NewestInstance"],
      defaultCooldown: 300,
      albServerGroup: [{ albServerGroupId: props.serverGroupId, port: props.appPort, weight: 100 }],
      // An instance is replaced when ECS finds it down, and also when the ALB finds /healthz failing: a boot that failed
      // leaves the service stopped (userdata/boot.sh), so the instance does not stay InService and useless. ESS takes
      // load balancer results from ALB and NLB server groups, only CLB's are not supported (ESS API 2022-02-22,
      // CreateScalingGroup HealthCheckType(s); aliyun/alibabacloud-python-sdk ess-20220222 _create_scaling_group_request.py).
      // The provider sends the list on create and update (resource_alicloud_ess_scaling_group.go:827, :583).
      healthCheckTypes: ["ECS", "LOAD_BALANCER"],
      // Every scaling activity moves desired capacity; re-applying the configured value would undo a scale-out.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
      // An instance launched before its SNAT entry exists would start without the way out it was given.
      dependsOn: props.egress?.length ? props.egress : undefined,
    });
    this.scalingGroupId = group.id;

    this.launch = new EssScalingConfiguration(this, "launch", {
      scalingGroupId: group.id,
      scalingConfigurationName: `${name}-app`,
      instanceName: `${name}-app`,
      // Pinned in tfvars: a newer system image reaches the fleet only through a reviewed change to that file.
      imageId: props.imageId,
      instanceTypes: [...props.instanceTypes],
      securityGroupIds: [props.appSecurityGroupId],
      internetMaxBandwidthOut: 0,
      systemDiskCategory: props.systemDiskCategory,
      systemDiskSize: props.systemDiskSizeGib,
      systemDiskEncrypted: true,
      roleName: role.roleName,
      userData: props.userData,
      // The provider applies them to every instance the configuration launches (ess_scaling_configuration `tags`).
      tags: { ...props.instanceTags },
      // The metadata service stays on: the service takes its role's credentials from it (token-required, app/platform/secrets.ts).
      httpEndpoint: "enabled",
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

    for (const task of schedule.tasks) {
      const { window } = task;
      new EssScheduledTask(this, `${window.name}-${task.phase}`, {
        scheduledTaskName: `${name}-${window.name}-${task.phase}`,
        description:
          task.phase === "prewarm"
            ? `Pre-warm to ${task.minSize} instances for sale ${window.name} at ${launchTime(window.startsAt)}`
            : `Back to the normal size after sale ${window.name} ended at ${launchTime(window.endsAt)}`,
        scalingGroupId: group.id,
        launchTime: launchTime(task.at),
        launchExpirationTime: 600,
        minValue: task.minSize,
        desiredCapacity: task.desiredCapacity,
        maxValue: props.maxInstances,
        taskEnabled: true,
      });
    }
  }

  /** Makes instances wait for resources created after the group, such as a policy on the instance role. */
  public bootAfter(...resources: ITerraformDependable[]): void {
    this.launch.dependsOn = [...(this.launch.dependsOn ?? []), ...resources.map((resource) => dependable(resource))];
  }
}
