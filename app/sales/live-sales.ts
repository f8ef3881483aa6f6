import type { Pool } from "mysql2/promise";
import type { Logger } from "../platform/logger";
import { liveSales } from "./sale-store";

const REFRESH_MS = 2000;

/**
 * The sales MySQL says are live, with their generation, kept in memory by each HTTP worker and refreshed in the
 * background. A sale missing from Redis but listed here is being rebuilt (the order writer restores it from MySQL):
 * buyers are told to retry, not that it does not exist. A newer generation than one seen in Redis means the sale was
 * rebuilt since. While MySQL does not answer, the last list read stays.
 */
export class LiveSales {
  private generations = new Map<string, number>();
  private buckets = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** The sale's generation in MySQL when it is live, else undefined. */
  generation(saleId: string): number | undefined {
    return this.generations.get(saleId);
  }

  /** The sale's number of stock buckets when it is live, else undefined. */
  stockBuckets(saleId: string): number | undefined {
    return this.buckets.get(saleId);
  }

  /** Reads the list once (not waiting longer than a refresh for MySQL), then keeps it fresh. */
  async start(): Promise<void> {
    await Promise.race([this.refresh(), new Promise((resolve) => setTimeout(resolve, REFRESH_MS).unref())]);
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      const sales = await liveSales(this.pool, Date.now());
      this.generations = new Map(sales.map((sale) => [sale.id, sale.generation]));
      this.buckets = new Map(sales.map((sale) => [sale.id, sale.stockBuckets]));
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: error }, "cannot read the live sales from MySQL; keeping the last list");
      this.failing = true;
    }
  }
}
