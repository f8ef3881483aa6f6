import type { RedisClient } from "../platform/redis";
import type { Logger } from "../platform/logger";
import { ordersLost } from "../platform/metrics";
import { saleKeys } from "../sales/reservations";

export const LOST_IN_REDIS =
  "Redis lost this order before MySQL confirmed it, and the sale was restored from MySQL without it: " +
  "it holds no unit. Order again if units are left.";

/**
 * Records an order a buyer was told was taken that will never be confirmed, and returns why (the first reason
 * recorded). Counted, and logged as an error, once per order whoever finds it first: the order writer, or the
 * buyer's lookup.
 */
export async function recordLostOrder(
  redis: RedisClient,
  keyPrefix: string,
  logger: Logger,
  order: { readonly orderId: string; readonly saleId: string; readonly userId: string },
  reason: string,
): Promise<string> {
  const { lost } = saleKeys(keyPrefix, order.saleId);
  if ((await redis.hsetnx(lost, order.orderId, reason)) === 1) {
    ordersLost.inc();
    logger.error({ ...order, reason }, "order lost");
    return reason;
  }
  return (await redis.hget(lost, order.orderId)) ?? reason;
}
