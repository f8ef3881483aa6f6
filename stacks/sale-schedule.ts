/**
 * The sale windows as the scaling group lives them, and the rule that keeps a deploy from undoing a pre-warm.
 *
 * ESS raises the group's floor at each window's pre-warm (a scheduled task) and lowers it at its scale-in. Terraform
 * knows nothing of that: the provider reads `min_size` back from ESS and sends MinSize whenever it differs from the
 * configuration (resource_alicloud_ess_scaling_group.go:354 Read, :550 Update), so any plan made between a pre-warm
 * and its scale-in would put the floor back to `min_instances` in the middle of the sale. Synth therefore refuses to
 * produce a plan from FREEZE_MARGIN_MINUTES before a pre-warm to FREEZE_MARGIN_MINUTES after its scale-in. An operator
 * who must deploy anyway names the window in DEPLOY_DURING_SALE_VARIABLE; the plan then holds the floor where the
 * schedule has put it, so even that deploy leaves the pre-warmed fleet alone.
 *
 * The same margin keeps scheduled tasks out of the past: ESS refuses a launch time that has passed, and a plan reaches
 * ESS some minutes after synth. A task due within the margin is only ever met in an overridden window; it is left
 * out, and the floor stands in for it.
 */
import type { ComputeConfig, SaleWindow } from "./config";

/** How far a deploy keeps from a window's pre-warm and scale-in, and how far ahead a scheduled task must lie. */
export const FREEZE_MARGIN_MINUTES = 5;

/** The environment variable naming the sale window a deploy may go ahead in anyway (an emergency fix during a sale). */
export const DEPLOY_DURING_SALE_VARIABLE = "SECKILL_DEPLOY_DURING_SALE";

const MINUTE_MS = 60_000;

/** One ESS scheduled task: at `at`, the group's min size and desired capacity become these. */
export interface ScheduledResize {
  readonly window: SaleWindow;
  readonly phase: "prewarm" | "scalein";
  readonly at: Date;
  readonly minSize: number;
  readonly desiredCapacity: number;
}

export interface SaleSchedule {
  /** The tasks to hand ESS: every one due more than FREEZE_MARGIN_MINUTES after now. */
  readonly tasks: readonly ScheduledResize[];
  /** The group's min_size as the schedule has it at apply time: the window's size in an overridden window. */
  readonly minSize: number;
  /** The group's desired_capacity, never below minSize (ESS refuses that). */
  readonly desiredCapacity: number;
  /** What an overridden deploy changes about the schedule, for the operator (empty otherwise). */
  readonly notes: readonly string[];
}

/** When a window's pre-warm and scale-in run. */
export function windowTimes(window: SaleWindow, compute: ComputeConfig): { prewarmAt: Date; scaleInAt: Date } {
  return {
    prewarmAt: new Date(window.startsAt.getTime() - compute.prewarmLeadMinutes * MINUTE_MS),
    scaleInAt: new Date(window.endsAt.getTime() + compute.scaleInDelayMinutes * MINUTE_MS),
  };
}

/** The window whose frozen span, [pre-warm − margin, scale-in + margin], holds `now` (windows never overlap). */
export function frozenWindow(compute: ComputeConfig, now: Date): SaleWindow | undefined {
  const margin = FREEZE_MARGIN_MINUTES * MINUTE_MS;
  return compute.saleWindows.find((window) => {
    const { prewarmAt, scaleInAt } = windowTimes(window, compute);
    return now.getTime() >= prewarmAt.getTime() - margin && now.getTime() <= scaleInAt.getTime() + margin;
  });
}

/** Synth met a sale window in progress and was not told to deploy during it. */
export class SaleWindowOpenError extends Error {
  constructor(
    readonly envName: string,
    readonly window: SaleWindow,
    compute: ComputeConfig,
  ) {
    const { prewarmAt, scaleInAt } = windowTimes(window, compute);
    const margin = FREEZE_MARGIN_MINUTES * MINUTE_MS;
    super(
      `seckill-${envName}: sale window "${window.name}" (${launchTime(window.startsAt)} to ${launchTime(window.endsAt)}) is in progress. ` +
        `ESS holds the fleet at ${window.instances} instances from the pre-warm at ${launchTime(prewarmAt)} to the scale-in at ` +
        `${launchTime(scaleInAt)}, and a plan made now would set the floor back to ${compute.minInstances}, so synth makes no plan ` +
        `from ${launchTime(new Date(prewarmAt.getTime() - margin))} to ${launchTime(new Date(scaleInAt.getTime() + margin))}. ` +
        `Deploy after that. In an emergency, ${DEPLOY_DURING_SALE_VARIABLE}=${window.name} npx cdktf deploy seckill-${envName} ` +
        `deploys anyway and keeps the floor at ${window.instances} until the scale-in.`,
    );
    this.name = "SaleWindowOpenError";
  }
}

/**
 * The tasks and the floor for a plan made at `now`. Throws {@link SaleWindowOpenError} inside a window's frozen span
 * unless `deployDuringSale` names that window.
 */
export function saleSchedule(envName: string, compute: ComputeConfig, now: Date, deployDuringSale?: string): SaleSchedule {
  const frozen = frozenWindow(compute, now);
  if (frozen && frozen.name !== deployDuringSale) throw new SaleWindowOpenError(envName, frozen, compute);
  const due = now.getTime() + FREEZE_MARGIN_MINUTES * MINUTE_MS;
  const tasks: ScheduledResize[] = [];
  const notes: string[] = [];
  let floor = compute.minInstances;
  for (const window of compute.saleWindows) {
    const { prewarmAt, scaleInAt } = windowTimes(window, compute);
    const phases = [
      { phase: "prewarm" as const, at: prewarmAt, minSize: window.instances, desiredCapacity: window.instances },
      { phase: "scalein" as const, at: scaleInAt, minSize: compute.minInstances, desiredCapacity: compute.desiredInstances },
    ];
    for (const task of phases) {
      if (task.at.getTime() > due) tasks.push({ window, ...task });
      else if (window === frozen && task.at.getTime() > now.getTime() - FREEZE_MARGIN_MINUTES * MINUTE_MS) {
        notes.push(`the ${window.name} ${task.phase} at ${launchTime(task.at)} is too close to schedule; the floor stands in for it`);
      }
    }
    // Between a pre-warm that is due (or past) and a scale-in that has not run, the floor is the window's.
    if (prewarmAt.getTime() <= due && now.getTime() < scaleInAt.getTime()) {
      floor = window.instances;
      notes.push(
        scaleInAt.getTime() > due
          ? `the floor stays at ${window.instances} until the ${window.name} scale-in at ${launchTime(scaleInAt)}`
          : `the floor stays at ${window.instances}: deploy again after ${launchTime(scaleInAt)} to bring it back to ${compute.minInstances}`,
      );
    }
  }
  return { tasks, minSize: floor, desiredCapacity: Math.max(compute.desiredInstances, floor), notes };
}

/** `YYYY-MM-DDThh:mmZ`, the only launch_time format ESS accepts (and how every time here is shown). */
export function launchTime(at: Date): string {
  return `${at.toISOString().slice(0, 16)}Z`;
}
