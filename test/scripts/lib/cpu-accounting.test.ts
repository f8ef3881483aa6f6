import {
  clockTicksPerSecond,
  cpuRatio,
  environmentVariable,
  microsPerRequest,
  parseProcStat,
  parseRedisCommandStats,
  parseRedisInfoCpu,
  redisCommandsSpent,
  processTree,
  readAllProcStats,
  readProcessEnvironment,
  redisSecondsSpent,
  ticksSpent,
  type ProcStat,
} from "../../../scripts/lib/cpu-accounting";

/** A /proc/<pid>/stat line as Linux 6 writes it (52 fields), with the fields the accounting reads filled in. */
function statLine(pid: number, command: string, parentPid: number, utime: number, stime: number, start: number): string {
  const fields = Array.from({ length: 50 }, () => "0");
  fields[0] = "S"; // field 3
  fields[1] = String(parentPid); // field 4
  fields[11] = String(utime); // field 14
  fields[12] = String(stime); // field 15
  fields[13] = "7"; // field 16, cstime: a reaped child's time, not counted
  fields[19] = String(start); // field 22
  return `${pid} (${command}) ${fields.join(" ")}\n`;
}

const stat = (pid: number, parentPid: number, cpuTicks: number, startTicks = 100): ProcStat => ({
  pid,
  command: "node",
  parentPid,
  cpuTicks,
  startTicks,
});

describe("parseProcStat", () => {
  it("reads the parent, user + system ticks and start time", () => {
    expect(parseProcStat(statLine(4242, "node", 4000, 150, 25, 9876))).toEqual({
      pid: 4242,
      command: "node",
      parentPid: 4000,
      cpuTicks: 175,
      startTicks: 9876,
    });
  });

  it("counts fields from the last parenthesis, so a command with spaces and parentheses parses", () => {
    expect(parseProcStat(statLine(7, "we (ird) name ) x", 1, 3, 4, 5))).toMatchObject({
      command: "we (ird) name ) x",
      parentPid: 1,
      cpuTicks: 7,
    });
  });

  it("reads this very process from /proc", () => {
    const self = readAllProcStats().find((s) => s.pid === process.pid);
    expect(self).toMatchObject({ pid: process.pid, parentPid: process.ppid });
    expect(self!.cpuTicks).toBeGreaterThan(0);
  });

  it("names a line that is not one", () => {
    expect(() => parseProcStat("garbage")).toThrow("not a /proc/<pid>/stat line");
    expect(() => parseProcStat("12 (x) S notanumber")).toThrow("field 4 is not a number");
  });
});

describe("processTree", () => {
  const stats = [stat(1, 0, 0), stat(10, 1, 5), stat(11, 10, 6), stat(12, 10, 7), stat(13, 12, 8), stat(20, 1, 9)];

  it("is the root and all its descendants, not its siblings", () => {
    expect(
      processTree(10, stats)
        .map((s) => s.pid)
        .sort((a, b) => a - b),
    ).toEqual([10, 11, 12, 13]);
  });

  it("is empty when the root is gone", () => {
    expect(processTree(99, stats)).toEqual([]);
  });
});

describe("ticksSpent", () => {
  it("sums each process's growth; a process started in between counts from zero", () => {
    const before = [stat(10, 1, 100), stat(11, 10, 50)];
    const after = [stat(10, 1, 130), stat(11, 10, 70), stat(12, 10, 5, 200)];
    expect(ticksSpent(before, after)).toEqual({
      ticks: 30 + 20 + 5,
      byPid: new Map([
        [10, 30],
        [11, 20],
        [12, 5],
      ]),
      exited: [],
    });
  });

  it("reports processes that exited, and does not take a reused pid for the old process", () => {
    const before = [stat(10, 1, 100), stat(11, 10, 50, 100)];
    const after = [stat(10, 1, 110), stat(11, 10, 3, 500)];
    expect(ticksSpent(before, after)).toMatchObject({ ticks: 10 + 3, exited: [stat(11, 10, 50, 100)] });
  });
});

describe("a process's environment", () => {
  it("gives one variable's value", () => {
    const environ = "PATH=/usr/bin\0SECKILL_PROCESS_ROLE=order-writer\0EMPTY=\0";
    expect(environmentVariable(environ, "SECKILL_PROCESS_ROLE")).toBe("order-writer");
    expect(environmentVariable(environ, "EMPTY")).toBe("");
    expect(environmentVariable(environ, "ROLE")).toBeUndefined();
  });

  it("is read from /proc, and is empty for a process that is gone", () => {
    expect(environmentVariable(readProcessEnvironment(process.pid), "PATH")).toBe(process.env.PATH);
    expect(readProcessEnvironment(2 ** 22 + 1)).toBe("");
  });
});

describe("parseRedisInfoCpu", () => {
  const info = [
    "# CPU",
    "used_cpu_sys:1.250000",
    "used_cpu_user:2.500000",
    "used_cpu_sys_children:0.000000",
    "used_cpu_user_children:0.000000",
    "used_cpu_sys_main_thread:1.000000",
    "used_cpu_user_main_thread:2.000000",
    "",
  ].join("\r\n");

  it("sums user and system CPU, for the process and for its main thread", () => {
    expect(parseRedisInfoCpu(info)).toEqual({ totalSeconds: 3.75, mainThreadSeconds: 3 });
  });

  it("has no main-thread figure on a Redis before 6.2", () => {
    expect(parseRedisInfoCpu("# CPU\nused_cpu_sys:1\nused_cpu_user:2\n")).toEqual({ totalSeconds: 3, mainThreadSeconds: undefined });
  });

  it("says what is missing", () => {
    expect(() => parseRedisInfoCpu("# Server\nredis_version:7.0.15\n")).toThrow("INFO cpu lacks used_cpu_user / used_cpu_sys");
  });
});

describe("CPU per request and ratios", () => {
  it("turns CPU seconds over requests into µs per request", () => {
    expect(microsPerRequest(0.5, 10_000)).toBe(50);
    expect(microsPerRequest(0.5, 0)).toBeUndefined();
  });

  it("divides the reference's CPU per request by the target's", () => {
    expect(cpuRatio(20, 80)).toBe(0.25);
    expect(cpuRatio(20, 16)).toBe(1.25);
    expect(cpuRatio(undefined, 16)).toBeUndefined();
    expect(cpuRatio(20, 0)).toBeUndefined();
  });

  it("knows the clock /proc counts in", () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });
});

describe("redisSecondsSpent", () => {
  it("pairs each shard's INFO cpu before and after, and names the busiest", () => {
    const spent = redisSecondsSpent(
      [
        { totalSeconds: 1, mainThreadSeconds: 0.5 },
        { totalSeconds: 2, mainThreadSeconds: 1 },
        { totalSeconds: 3, mainThreadSeconds: 2 },
      ],
      [
        { totalSeconds: 1.25, mainThreadSeconds: 0.75 },
        { totalSeconds: 3, mainThreadSeconds: 1.5 },
        { totalSeconds: 3.5, mainThreadSeconds: 2.25 },
      ],
    );
    expect(spent).toEqual({ perServer: [0.25, 1, 0.5], total: 1.75, busiest: 1, mainThread: 1 });
  });

  it("leaves the main thread out when a server does not report it", () => {
    const spent = redisSecondsSpent(
      [{ totalSeconds: 1 }, { totalSeconds: 1, mainThreadSeconds: 1 }],
      [{ totalSeconds: 2 }, { totalSeconds: 2, mainThreadSeconds: 2 }],
    );
    expect(spent).toEqual({ perServer: [1, 1], total: 2, busiest: 1 });
  });

  it("refuses snapshots of different server sets", () => {
    expect(() => redisSecondsSpent([{ totalSeconds: 1 }], [{ totalSeconds: 1 }, { totalSeconds: 2 }])).toThrow(
      "INFO cpu snapshots of 1 and 2 servers do not pair up",
    );
  });
});

describe("Redis time by command", () => {
  // As redis-server 7 prints it; the script's own commands (hsetnx, xadd) have lines of their own.
  const before = `# Commandstats\r
cmdstat_evalsha:calls=10,usec=2000,usec_per_call=200.00,rejected_calls=0,failed_calls=0\r
cmdstat_xadd:calls=100,usec=170,usec_per_call=1.70,rejected_calls=0,failed_calls=0\r
cmdstat_config|resetstat:calls=1,usec=50,usec_per_call=50.00,rejected_calls=0,failed_calls=0\r
`;
  const after = `# Commandstats\r
cmdstat_evalsha:calls=12,usec=2500,usec_per_call=208.33,rejected_calls=0,failed_calls=0\r
cmdstat_xadd:calls=140,usec=240,usec_per_call=1.71,rejected_calls=0,failed_calls=0\r
cmdstat_hsetnx:calls=40,usec=90,usec_per_call=2.25,rejected_calls=0,failed_calls=0\r
cmdstat_config|resetstat:calls=1,usec=50,usec_per_call=50.00,rejected_calls=0,failed_calls=0\r
`;

  it("reads calls and µs per command, subcommands included", () => {
    expect(parseRedisCommandStats(before)).toEqual(
      new Map([
        ["evalsha", { calls: 10, usec: 2000 }],
        ["xadd", { calls: 100, usec: 170 }],
        ["config|resetstat", { calls: 1, usec: 50 }],
      ]),
    );
  });

  it("is what each command spent in between, over every shard, busiest first; a command first seen counts from zero", () => {
    const shard = (info: string) => parseRedisCommandStats(info);
    const spent = redisCommandsSpent([shard(before), shard(before)], [shard(after), shard(before)]);
    expect([...spent]).toEqual([
      ["evalsha", { calls: 2, usec: 500 }],
      ["hsetnx", { calls: 40, usec: 90 }],
      ["xadd", { calls: 40, usec: 70 }],
    ]);
  });

  it("refuses snapshots of different server sets", () => {
    expect(() => redisCommandsSpent([new Map()], [])).toThrow("INFO commandstats snapshots of 1 and 0 servers do not pair up");
  });
});
