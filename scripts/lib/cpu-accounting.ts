/**
 * CPU time spent by the servers under test, as the kernel and Redis count it: what `npm run bench` divides by the
 * requests served, so a load generator that cannot keep up (or a busy shared machine) changes how long a run takes,
 * not what a request costs.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** The fields of one `/proc/<pid>/stat` line the accounting needs. */
export interface ProcStat {
  readonly pid: number;
  readonly command: string;
  readonly parentPid: number;
  /** utime + stime: every thread of the process, user and system, in clock ticks. */
  readonly cpuTicks: number;
  /** Clock ticks after boot when it started: with the pid, names one process even if the pid is reused. */
  readonly startTicks: number;
}

/**
 * Parses one `/proc/<pid>/stat` line (proc(5)). The command is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(line.slice(0, 80))}`);
  // After the command: field 3 (state) is rest[0], so field n is rest[n - 3].
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => {
    const value = Number(rest[n - 3]);
    if (!Number.isInteger(value)) throw new Error(`/proc/<pid>/stat field ${n} is not a number in ${JSON.stringify(line.slice(0, 80))}`);
    return value;
  };
  return {
    pid: Number(line.slice(0, open).trim()),
    command: line.slice(open + 1, close),
    parentPid: field(4),
    cpuTicks: field(14) + field(15),
    startTicks: field(22),
  };
}

/** Every process now running, as far as it can be read (a process may exit between the listing and the read). */
export function readAllProcStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      stats.push(parseProcStat(readFileSync(`/proc/${name}/stat`, "utf8")));
    } catch {
      // gone already
    }
  }
  return stats;
}

/** `root` and every process descending from it (a cluster primary, its workers, their children). */
export function processTree(rootPid: number, stats: readonly ProcStat[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.parentPid, [...(children.get(stat.parentPid) ?? []), stat]);
  const root = stats.find((stat) => stat.pid === rootPid);
  if (root === undefined) return [];
  const tree: ProcStat[] = [];
  const pending = [root];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    tree.push(next);
    pending.push(...(children.get(next.pid) ?? []));
  }
  return tree;
}

export interface TicksSpent {
  /** CPU ticks the processes used between the two snapshots (a process started in between counts from zero). */
  readonly ticks: number;
  /** The same, per process of the second snapshot, by pid. */
  readonly byPid: ReadonlyMap<number, number>;
  /** Processes of the first snapshot missing from the second: their last ticks are lost, so the figure is low. */
  readonly exited: readonly ProcStat[];
}

/** CPU ticks spent between two snapshots of the same processes, matched by pid and start time. */
export function ticksSpent(before: readonly ProcStat[], after: readonly ProcStat[]): TicksSpent {
  const identity = (stat: ProcStat) => `${stat.pid}@${stat.startTicks}`;
  const earlier = new Map(before.map((stat) => [identity(stat), stat.cpuTicks]));
  const later = new Set(after.map(identity));
  const byPid = new Map(after.map((stat) => [stat.pid, stat.cpuTicks - (earlier.get(identity(stat)) ?? 0)]));
  return {
    ticks: [...byPid.values()].reduce((sum, ticks) => sum + ticks, 0),
    byPid,
    exited: before.filter((stat) => !later.has(identity(stat))),
  };
}

/** One variable of a `/proc/<pid>/environ` (NUL-separated `NAME=value` entries: the environment the process began with). */
export function environmentVariable(environ: string, name: string): string | undefined {
  const entry = environ.split("\0").find((line) => line.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

/** The environment a process began with; empty when it is gone or not ours to read. */
export function readProcessEnvironment(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return "";
  }
}

let clockTicks: number | undefined;

/** The kernel's clock ticks per second (USER_HZ) that /proc counts in: `getconf CLK_TCK`. */
export function clockTicksPerSecond(): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  if (!Number.isInteger(clockTicks) || clockTicks <= 0) throw new Error(`getconf CLK_TCK answered ${clockTicks}`);
  return clockTicks;
}

/** Redis's own CPU account (`INFO cpu`), in seconds. */
export interface RedisCpu {
  /** used_cpu_user + used_cpu_sys: the whole server process, every thread. */
  readonly totalSeconds: number;
  /** used_cpu_user_main_thread + used_cpu_sys_main_thread, the thread that runs commands and scripts (Redis 6.2+). */
  readonly mainThreadSeconds?: number;
}

/** Parses the reply of `INFO cpu`; throws when the fields every Redis since 2.x reports are missing. */
export function parseRedisInfoCpu(info: string): RedisCpu {
  const fields = new Map(
    info
      .split(/\r?\n/)
      .filter((line) => line.includes(":") && !line.startsWith("#"))
      .map((line) => [line.slice(0, line.indexOf(":")), Number(line.slice(line.indexOf(":") + 1))] as const),
  );
  const sum = (a: string, b: string) => {
    const x = fields.get(a);
    const y = fields.get(b);
    return x === undefined || y === undefined || Number.isNaN(x) || Number.isNaN(y) ? undefined : x + y;
  };
  const totalSeconds = sum("used_cpu_user", "used_cpu_sys");
  if (totalSeconds === undefined) throw new Error("INFO cpu lacks used_cpu_user / used_cpu_sys");
  return { totalSeconds, mainThreadSeconds: sum("used_cpu_user_main_thread", "used_cpu_sys_main_thread") };
}

/** What a set of Redis servers (one, or each shard of a cluster) spent between two `INFO cpu` snapshots, in seconds. */
export interface RedisSecondsSpent {
  /** Whole process, per server, in the order the snapshots list them. */
  readonly perServer: readonly number[];
  readonly total: number;
  /** The most any one server spent: a key's shard cannot go faster than its busiest peer allows the sale. */
  readonly busiest: number;
  /** Main threads summed; undefined when a server does not report them. */
  readonly mainThread?: number;
}

/** Sums `INFO cpu` deltas over servers snapshotted in the same order before and after; says so when they differ. */
export function redisSecondsSpent(before: readonly RedisCpu[], after: readonly RedisCpu[]): RedisSecondsSpent {
  if (before.length === 0 || before.length !== after.length) {
    throw new Error(`INFO cpu snapshots of ${before.length} and ${after.length} servers do not pair up`);
  }
  const perServer = after.map((cpu, i) => cpu.totalSeconds - before[i].totalSeconds);
  const mainThreads = after.map((cpu, i) =>
    cpu.mainThreadSeconds === undefined || before[i].mainThreadSeconds === undefined
      ? undefined
      : cpu.mainThreadSeconds - before[i].mainThreadSeconds,
  );
  const mainThread = mainThreads.every((seconds) => seconds !== undefined)
    ? mainThreads.reduce<number>((sum, seconds) => sum + seconds!, 0)
    : undefined;
  return {
    perServer,
    total: perServer.reduce((sum, seconds) => sum + seconds, 0),
    busiest: Math.max(...perServer),
    ...(mainThread === undefined ? {} : { mainThread }),
  };
}

/** Calls and µs Redis counted for one command (`INFO commandstats`). */
export interface RedisCommandStat {
  readonly calls: number;
  readonly usec: number;
}

/**
 * Parses the reply of `INFO commandstats` (`cmdstat_<name>:calls=<n>,usec=<n>,...`), by command name. Commands a script
 * runs are counted on their own line and also in the script command's (evalsha's) time.
 */
export function parseRedisCommandStats(info: string): Map<string, RedisCommandStat> {
  const stats = new Map<string, RedisCommandStat>();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match) stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/** What each command cost between two snapshots of the same servers, summed over them; commands not run are left out. */
export function redisCommandsSpent(
  before: readonly Map<string, RedisCommandStat>[],
  after: readonly Map<string, RedisCommandStat>[],
): Map<string, RedisCommandStat> {
  if (before.length === 0 || before.length !== after.length) {
    throw new Error(`INFO commandstats snapshots of ${before.length} and ${after.length} servers do not pair up`);
  }
  const spent = new Map<string, RedisCommandStat>();
  after.forEach((server, i) => {
    for (const [name, { calls, usec }] of server) {
      const earlier = before[i].get(name) ?? { calls: 0, usec: 0 };
      const sum = spent.get(name) ?? { calls: 0, usec: 0 };
      spent.set(name, { calls: sum.calls + calls - earlier.calls, usec: sum.usec + usec - earlier.usec });
    }
  });
  return new Map([...spent].filter(([, { calls }]) => calls > 0).sort(([, a], [, b]) => b.usec - a.usec));
}

/** CPU per request in µs; undefined when nothing was served. */
export function microsPerRequest(cpuSeconds: number, requests: number): number | undefined {
  return requests > 0 ? (cpuSeconds * 1e6) / requests : undefined;
}

/**
 * How a target compares with the reference (a bare node:http hello world) on the same request: the reference's CPU
 * per request over the target's. 1 means as cheap as the reference, 0.5 twice its cost.
 */
export function cpuRatio(referenceMicros: number | undefined, targetMicros: number | undefined): number | undefined {
  return referenceMicros === undefined || targetMicros === undefined || targetMicros <= 0 ? undefined : referenceMicros / targetMicros;
}
