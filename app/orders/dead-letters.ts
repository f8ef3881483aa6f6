import type { RedisClient } from "../platform/redis";
import type { Logger } from "../platform/logger";
import { orderDeadLetters } from "../platform/metrics";
import { ORDER_WRITER_GROUP, type SaleKeys } from "../sales/reservations";

/** Moves a stream entry that can never be delivered to the sale's dead-letter stream, with an error log. */
export async function deadLetter(
  redis: RedisClient,
  logger: Logger,
  keys: SaleKeys,
  entryId: string,
  fields: string[],
  reason: string,
): Promise<void> {
  await redis
    .multi()
    .xadd(keys.deadLetters, "*", "entryId", entryId, "error", reason, ...fields)
    .xack(keys.orders, ORDER_WRITER_GROUP, entryId)
    .xdel(keys.orders, entryId)
    .exec();
  orderDeadLetters.inc();
  logger.error(
    { stream: keys.orders, entryId, fields, reason, deadLetters: keys.deadLetters },
    "order event moved to the dead-letter stream",
  );
}
