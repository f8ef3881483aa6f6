/** `npm run capacity -- <env> [options]`: how many orders per second one hot sale can take in an environment. */
import { BENCH_RESULTS_DIR } from "./lib/bench-results";
import { MAX_STOCK_BUCKETS } from "./lib/capacity-model";
import { capacityReport, FLEET_NODE_MAJOR } from "./lib/capacity-report";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./lib/cli";

const USAGE = `Usage: npm run capacity -- <env> [options]

Prints the chain that caps one hot sale's orders per second in envs/<env>.tfvars: the ALB order limit, the fleet's
CPU, the Tair shards the sale runs on, the PolarDB primary; the lowest link is the bottleneck. What one order costs
comes from a file npm run bench saved.

  --bench <file>      a ${BENCH_RESULTS_DIR}/*.json file (default: the newest measured on the fleet's Node ${FLEET_NODE_MAJOR},
                      else the newest of any Node)
  --window <name>     the sale window whose instances size the fleet (default: the largest in the file)
  --buckets <n>       the sale's stockBuckets, 1-${MAX_STOCK_BUCKETS} (default 1): its orders spread over min(buckets, shards) shards
  --target <n>        orders per second wanted: what to change to reach it`;

async function main(): Promise<number> {
  const [env, ...rest] = process.argv.slice(2);
  if (env === "--help" || env === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (env === undefined || env.startsWith("-")) throw new UsageError(`name an environment first\n\n${USAGE}`);
  const flags = parseFlags(
    USAGE,
    { bench: { type: "string" }, window: { type: "string" }, buckets: { type: "string" }, target: { type: "string" } },
    rest,
  );
  if (flags === undefined) return 0;
  const report = await capacityReport({
    env,
    benchFile: flags.bench,
    window: flags.window,
    buckets: wholeNumberFlag("buckets", flags.buckets, 1),
    target: flags.target === undefined ? undefined : wholeNumberFlag("target", flags.target, 1),
  });
  process.stdout.write(`${report}\n`);
  return 0;
}

runMain(main);
