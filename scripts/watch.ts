/**
 * The war room: `npm run watch -- --stack seckill-<env>` (or `--url <base-url>`). Every second it reads the admin
 * plane through the load balancer (each sale's stats and /metrics) and redraws one screen: stock, reserved, confirmed
 * and pending per sale, orders per second against the ALB's limit, the reservation outcomes, the order writer's lag and
 * backlog, dead letters, 5xx and 503s. It keeps retrying while the admin plane does not answer, and Ctrl-C ends it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ROUTES } from "../contract/routes";
import { parseFlags, runMain, UsageError, wholeNumberFlag } from "./lib/cli";
import { HttpClient, TransportError } from "./lib/http-client";
import { DeployedStack } from "./lib/stack-outputs";
import { liveSaleIds, parsePrometheusText, type Reading, renderWarRoom, type SaleStats, WarRoom } from "./lib/war-room";

const USAGE = `Usage: npm run watch -- (--stack seckill-<env> | --url <base-url>) [options]

A live view of a sale, redrawn every second, from an operator machine inside the stack's admin_cidrs
(the load balancer answers the admin plane 404 for everyone else). Needs SECKILL_ADMIN_TOKEN; with
--stack, the stack's admin_token output stands in for it, and its order_rate_limit_qps output gives
the ALB limit the orders are measured against.

  --stack seckill-<env>     read the URL, the admin token and the ALB limit from the stack's outputs
  --url <base-url>          the load balancer (or a service) to read, e.g. https://sale.example.com
  --sale <id,...>           sales to show besides the live ones the order writer reports
  --order-limit-qps <n>     the ALB's order limit, requests per second (with --url)
  --interval <ms>           how often to read and redraw (default 1000)`;

export interface WatchOptions {
  readonly baseUrl: string;
  readonly adminToken: string;
  readonly sales: readonly string[];
  readonly orderLimitQps?: number;
  readonly intervalMs: number;
  /** Draws one screen. */
  readonly draw: (screen: string) => void;
  /** Ends the loop (Ctrl-C, or the demo's end). */
  readonly signal: AbortSignal;
  /** Read and draw once more when the signal ends the loop: the demo's last screen shows the sale as it ended. */
  readonly drawOnStop?: boolean;
}

/** Reads and draws until the signal aborts; a failed read is drawn as such and retried at the next tick. */
export async function watchSale(options: WatchOptions): Promise<void> {
  const client = new HttpClient(options.baseUrl, { maxSockets: 4, timeoutMs: Math.max(options.intervalMs * 3, 3000) });
  const room = new WarRoom(options.baseUrl, options.orderLimitQps);
  try {
    while (!options.signal.aborted) {
      const started = Date.now();
      try {
        room.read(await readOnce(client, options));
      } catch (error) {
        room.failed(error instanceof Error ? error.message : String(error));
      }
      if (options.signal.aborted) break;
      options.draw(renderWarRoom(room.view(Date.now())));
      await sleep(Math.max(0, options.intervalMs - (Date.now() - started)), undefined, { signal: options.signal }).catch(() => undefined);
    }
    if (options.drawOnStop) {
      await readOnce(client, options).then(
        (reading) => room.read(reading),
        (error: Error) => room.failed(error.message),
      );
      options.draw(renderWarRoom(room.view(Date.now())));
    }
  } finally {
    client.close();
  }
}

/** One reading of /metrics and of each sale's stats; throws with what an operator should check when it fails. */
export async function readOnce(client: HttpClient, options: Pick<WatchOptions, "adminToken" | "sales">): Promise<Reading> {
  const answer = await client.request("GET", ROUTES.metrics.path, { bearer: options.adminToken }).catch((error: unknown) => {
    throw new Error(error instanceof TransportError ? error.message : `GET /metrics failed: ${String(error)}`);
  });
  if (answer.status === 404) {
    throw new Error("GET /metrics answered 404: the load balancer hides the admin plane from outside admin_cidrs");
  }
  if (answer.status === 401) throw new Error("the admin plane rejected the admin token (401): it is not this deployment's");
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
  const metrics = parsePrometheusText(answer.text);
  const saleIds = [...new Set([...options.sales, ...liveSaleIds(metrics)])].sort();
  const sales = await Promise.all(
    saleIds.map(async (saleId) => {
      const path = ROUTES.saleStats.path.replace(":saleId", encodeURIComponent(saleId));
      const stats = await client.request("GET", path, { bearer: options.adminToken }).catch((error: Error) => error);
      if (stats instanceof Error) return { saleId, problem: stats.message };
      if (stats.status === 401) throw new Error("the admin plane rejected the admin token (401): it is not this deployment's");
      if (stats.status !== 200) return { saleId, problem: `stats answered ${stats.status}` };
      return { saleId, stats: stats.json as SaleStats };
    }),
  );
  return { at: Date.now(), metrics, sales };
}

/** The watch's options from the command line and environment, or undefined after --help. */
export function watchRequestFrom(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  projectDir = process.cwd(),
): Omit<WatchOptions, "draw" | "signal" | "drawOnStop"> | undefined {
  const values = parseFlags(
    USAGE,
    {
      stack: { type: "string" },
      url: { type: "string" },
      sale: { type: "string" },
      "order-limit-qps": { type: "string" },
      interval: { type: "string" },
    },
    args,
  );
  if (values === undefined) return undefined;
  if ((values.url === undefined) === (values.stack === undefined)) {
    throw new UsageError(`give exactly one of --url <base-url> or --stack seckill-<env>\n\n${USAGE}`);
  }
  const stack = values.stack === undefined ? undefined : new DeployedStack(values.stack, projectDir);
  const adminToken = env.SECKILL_ADMIN_TOKEN || stack?.output("admin_token");
  if (!adminToken) {
    throw new UsageError(
      "SECKILL_ADMIN_TOKEN is not set: the admin bearer token the stats need. " +
        (stack
          ? `Stack ${stack.name} has no "admin_token" output either.`
          : 'With --stack it is read from the stack\'s "admin_token" output.'),
    );
  }
  const limit = values["order-limit-qps"];
  const stackLimit = stack?.outputs.order_rate_limit_qps;
  return {
    baseUrl: values.url ?? stack!.publicUrl(),
    adminToken,
    sales: (values.sale ?? "").split(",").filter(Boolean),
    orderLimitQps:
      limit !== undefined ? wholeNumberFlag("order-limit-qps", limit, 0) : typeof stackLimit === "number" ? stackLimit : undefined,
    intervalMs: wholeNumberFlag("interval", values.interval, 1000, 100),
  };
}

async function main(): Promise<number> {
  const request = watchRequestFrom(process.argv.slice(2), process.env);
  if (request === undefined) return 0;
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  process.once("SIGTERM", () => stop.abort());
  const terminal = process.stdout.isTTY === true;
  // Home and clear on a terminal; one screen after another, separated, anywhere else (a file, a pipe).
  const draw = (screen: string) => process.stdout.write(terminal ? `\x1b[H\x1b[2J${screen}\n` : `${screen}\n\n`);
  if (terminal) process.stdout.write("\x1b[?25l");
  try {
    await watchSale({ ...request, draw, signal: stop.signal });
  } finally {
    if (terminal) process.stdout.write("\x1b[?25h");
  }
  process.stdout.write("war room closed\n");
  return 0;
}

if (require.main === module) runMain(main);
