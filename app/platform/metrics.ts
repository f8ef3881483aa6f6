import cluster from "node:cluster";
import { hostname } from "node:os";
import { AggregatorRegistry, Counter, Gauge, Histogram, collectDefaultMetrics, register } from "prom-client";

/**
 * Metrics live in each process's default registry; the cluster primary aggregates them for /metrics.
 * Constructing an AggregatorRegistry is what installs prom-client's cluster listeners (in a worker:
 * answering the primary's requests for its metrics), so every process makes one.
 */
const aggregator = new AggregatorRegistry();
// prom-client samples the event-loop delay every 10 ms by default: about 5 ms of CPU a second in every process, idle
// or not (measured with an idle process's /proc ticks). Every 100 ms costs a fifth of that and still sees a stall.
collectDefaultMetrics({ eventLoopMonitoringPrecision: 100 });

/**
 * A labelled counter cheap enough for the hot path: an incrementer (made once per label set) adds
 * to a plain number, and prom-client reads the totals when metrics are collected.
 */
class TalliedCounter<Label extends string> {
  private readonly tallies: { labels: Record<Label, string>; count: number }[] = [];

  constructor(name: string, help: string, labelNames: readonly Label[]) {
    const tallies = this.tallies;
    new Counter({
      name,
      help,
      labelNames,
      collect() {
        this.reset();
        for (const { labels, count } of tallies) this.inc(labels, count);
      },
    });
  }

  incrementer(labels: Record<Label, string>): () => void {
    const tally = { labels, count: 0 };
    this.tallies.push(tally);
    return () => {
      tally.count++;
    };
  }
}

/**
 * Which instance answered: behind the ALB every /metrics request may reach another one, and a reader computing rates
 * (npm run watch) must not subtract one instance's counters from another's.
 */
export const instanceInfo = new Gauge({
  name: "seckill_instance_info",
  help: "1, labelled with the host name of the instance whose processes these metrics are",
  labelNames: ["instance"],
  aggregator: "max",
});
instanceInfo.set({ instance: hostname() }, 1);

export const httpRequests = new TalliedCounter("seckill_http_requests_total", "HTTP requests by route and status code", [
  "route",
  "status",
]);

export const reservationOutcomes = new TalliedCounter(
  "seckill_reservation_outcomes_total",
  "Order attempts by outcome (reserved, already_purchased, sold_out, ended, not_started, unknown_sale, rebuilding, stock_moving, outcome_unknown, rate_limited, paused, unavailable)",
  ["outcome"],
);

export const orderWriterBatchSize = new Histogram({
  name: "seckill_order_writer_batch_size",
  help: "Order events per batch committed to MySQL",
  buckets: [1, 10, 50, 100, 250, 500, 1000],
});

export const orderWriterLagSeconds = new Gauge({
  name: "seckill_order_writer_lag_seconds",
  help: "Age of the oldest order event not yet delivered (pending or unread in the Redis streams), measured every second by Redis's clock",
  aggregator: "max",
});

export const saleUnconfirmedOrders = new Gauge({
  name: "seckill_sale_unconfirmed_orders",
  help: "Units Redis reserved minus orders MySQL confirmed, per live sale; stays above 0 when they diverge",
  labelNames: ["sale_id"],
  aggregator: "max",
});

export const orderWriterBacklog = new Gauge({
  name: "seckill_order_writer_backlog",
  help: "Order events in Redis streams not yet confirmed in MySQL, as last seen by the order writer",
  aggregator: "max",
});

export const ordersConfirmed = new Counter({
  name: "seckill_orders_confirmed_total",
  help: "Order events committed to MySQL (duplicates of already-confirmed orders included)",
});

export const ordersRelayed = new Counter({
  name: "seckill_orders_relayed_total",
  help: "Order events the broker confirmed receiving from the relay (ORDER_QUEUE=rocketmq; resends after a crash included)",
});

export const orderWriterSlowCycles = new Counter({
  name: "seckill_order_writer_slow_cycles_total",
  help: "Order-writer cycles that were still running after the watchdog's limit (stuck on Redis or MySQL)",
});

export const redisForcedReconnects = new Counter({
  name: "seckill_redis_forced_reconnects_total",
  help: "Redis connections dropped and replaced because heartbeats kept timing out on them (a half-open connection)",
});

export const orderDeadLetters = new Counter({
  name: "seckill_order_dead_letters_total",
  help: "Order events moved to a dead-letter stream after repeated permanent failures",
});

export const ordersRefused = new Counter({
  name: "seckill_orders_refused_total",
  help: "Order events MySQL refused for good (dead-lettered), by reason: collision (another order holds the id or the buyer's unit), oversold",
  labelNames: ["reason"],
});

export const ordersLost = new Counter({
  name: "seckill_orders_lost_total",
  help: "Orders a buyer was told were taken (202) that Redis lost before MySQL confirmed them, counted once each when found",
});

export const saleRebuilds = new Counter({
  name: "seckill_sale_rebuilds_total",
  help: "Rebuilds of a sale's Redis state from MySQL (Redis lost it, or was found behind MySQL or a web host)",
});

const METRICS_REQUEST = "seckill:metrics-request";
const METRICS_RESPONSE = "seckill:metrics-response";
const METRICS_TIMEOUT_MS = 5000;

interface MetricsMessage {
  type: string;
  requestId: number;
  text?: string;
  error?: string;
}

export const metricsContentType = register.contentType;

/** In the cluster primary: answer workers that serve /metrics with every process's metrics, aggregated. */
export function serveClusterMetrics(): void {
  cluster.on("message", (worker, message: MetricsMessage) => {
    if (message?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_RESPONSE, requestId: message.requestId, text }),
      (error: Error) => worker.send({ type: METRICS_RESPONSE, requestId: message.requestId, error: error.message }),
    );
  });
}

let nextRequestId = 0;

/** The Prometheus text for this deployment: aggregated over the cluster when running as a worker. */
export function collectMetrics(): Promise<string> {
  if (!cluster.isWorker || !process.send) return register.metrics();
  const requestId = nextRequestId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error("metrics aggregation timed out")), METRICS_TIMEOUT_MS);
    const onMessage = (message: MetricsMessage) => {
      if (message?.type !== METRICS_RESPONSE || message.requestId !== requestId) return;
      finish(message.error === undefined ? undefined : new Error(message.error), message.text);
    };
    function finish(error?: Error, text?: string) {
      clearTimeout(timer);
      process.off("message", onMessage);
      if (error || text === undefined) reject(error ?? new Error("empty metrics response"));
      else resolve(text);
    }
    process.on("message", onMessage);
    process.send!({ type: METRICS_REQUEST, requestId });
  });
}

export const ordersPaid = new Counter({
  name: "seckill_orders_paid_total",
  help: "Orders that moved from confirmed to paid (a repeated payment of a paid order is not counted)",
});

export const ordersExpired = new Counter({
  name: "seckill_orders_expired_total",
  help: "Orders that moved from confirmed to expired because their payment window closed",
});

export const unitsReturned = new Counter({
  name: "seckill_units_returned_total",
  help: "Units of expired orders put back on sale in Redis (each order's unit at most once)",
});

export const orderEventsPublished = new Counter({
  name: "seckill_order_events_published_total",
  help: "Order state changes (confirmed, paid, expired) published from the outbox (republished ones after a crash included)",
});
