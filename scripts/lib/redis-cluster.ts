import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster } from "ioredis";
import { startThrowawayRedis, type ThrowawayRedis } from "./local-services";
import { waitUntil } from "./wait";

const run = promisify(execFile);

/** A real Redis Cluster on this machine: `size` primaries, no replicas, every slot assigned. */
export interface LocalRedisCluster {
  readonly nodes: readonly ThrowawayRedis[];
  /** A seed for REDIS_URL: the first node. */
  readonly seedUrl: string;
  /** A cluster client for assertions. */
  readonly client: Cluster;
  /** The port of the primary that serves `key`. */
  nodeOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `size` (at least 3, as redis-cli insists) `redis-server --cluster-enabled yes` on basePort, basePort + 1, …
 * (their cluster bus on the port + 10000), joins them with `redis-cli --cluster create`, and waits until every node
 * reports the cluster ok. Each test file, and the bench, passes a base port of its own, below 22768: then the ports
 * and their bus ports stay under Linux's ephemeral range (32768 on), where an outgoing connection could be holding one.
 * Needs redis-cli on PATH.
 */
export async function startRedisCluster(basePort: number, size = 3): Promise<LocalRedisCluster> {
  const nodes: ThrowawayRedis[] = [];
  const stopAll = async () => {
    for (const node of nodes.splice(0)) await node.stop();
  };
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startThrowawayRedis({
          port: basePort + i,
          args: ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"],
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    for (const node of nodes) {
      await waitUntil(async () => {
        const { stdout } = await run("redis-cli", ["-p", String(node.port), "cluster", "info"]);
        return stdout.includes("cluster_state:ok");
      }, `the cluster to be ok on :${node.port}`);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const client = new Cluster([{ host: "127.0.0.1", port: nodes[0].port }]);
  return {
    nodes,
    seedUrl: nodes[0].url,
    client,
    async nodeOf(key) {
      const slot = (await client.cluster("KEYSLOT", key)) as number;
      const ranges = await client.cluster("SLOTS");
      return ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
    },
    async stop() {
      client.disconnect();
      await stopAll();
    },
  };
}
