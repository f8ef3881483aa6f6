/**
 * The default create and update timeouts of the long-running resources in alicloud provider 1.289.0 (release commit
 * 761c62ce1), and how long each one typically takes to create: a timeout our stacks set must clear both with room.
 */
export interface LongRunningResource {
  readonly type: string;
  /** The provider's `schema.DefaultTimeout`s, minutes. */
  readonly defaults: { readonly create: number; readonly update: number };
  readonly source: string;
  /** The least our timeout may be, minutes (issue 15: typical duration plus margin). */
  readonly atLeast: { readonly create: number; readonly update?: number };
}

export const LONG_RUNNING_RESOURCES: readonly LongRunningResource[] = [
  {
    type: "alicloud_polardb_cluster",
    defaults: { create: 50, update: 50 },
    source: "alicloud/resource_alicloud_polardb_cluster.go:29-30",
    atLeast: { create: 90, update: 90 },
  },
  {
    type: "alicloud_redis_tair_instance",
    defaults: { create: 60, update: 60 },
    source: "alicloud/resource_alicloud_redis_tair_instance.go:28-29",
    atLeast: { create: 90, update: 90 },
  },
  {
    type: "alicloud_mse_cluster",
    defaults: { create: 15, update: 15 },
    source: "alicloud/resource_alicloud_mse_cluster.go:25-26",
    atLeast: { create: 40, update: 40 },
  },
  {
    type: "alicloud_rocketmq_instance",
    defaults: { create: 35, update: 35 },
    source: "alicloud/resource_alicloud_rocketmq_instance.go:24-25",
    atLeast: { create: 40 },
  },
];

/** A Terraform duration such as "90m" or "1h30m", in minutes. */
export function durationMinutes(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)(h|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== duration) throw new Error(`not a duration: "${duration}"`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * { h: 60, m: 1, s: 1 / 60 }[unit as "h" | "m" | "s"], 0);
}
