import { buyerTag } from "./sale";

/** The consumer group every order-event consumer (the MySQL order writer, a queue relay) reads with. */
export const ORDER_WRITER_GROUP = "order-writer";

/**
 * Redis key layout (after the configured prefix). A sale's stock lives in 1 to 64 buckets; bucket 0 is `{sale:<id>}`,
 * bucket k > 0 is `{sale:<id>:k}`, so each bucket has its own hash tag and Redis Cluster spreads them over its shards.
 *   sales                          SET of sale ids whose order streams the order writer watches (with MySQL's live sales)
 *   <bucket>                       HASH itemName, stock (this bucket's units), sold (this bucket's), startsAt, endsAt
 *                                  (epoch ms), priceCents?, generation, rebuildReason? (set while the state must be
 *                                  rebuilt from MySQL: no sales meanwhile); with several buckets also buckets (their
 *                                  number) and totalStock
 *   <bucket>:buyers                HASH userId -> orderId of the buyers whose home bucket this is (one unit per user)
 *   <bucket>:orders                STREAM of order events (orderId, saleId, userId, reservedAt), group "order-writer"
 *   <bucket>:dead                  STREAM of order events that kept failing, with the error
 *   <bucket>:moves                 HASH moveId -> "<to bucket>:<units>:<generation>": units taken out of this bucket
 *                                  and not yet known to have arrived (see stock-moves.ts)
 *   <bucket>:moved-in              SET of the moveIds whose units this bucket has received
 *   <bucket>:rebuild-lock          STRING held by the one order writer rebuilding the sale (with an expiry)
 *   <bucket>:buyers:rebuilding     HASH the buyers hash being rebuilt from MySQL, swapped in when complete
 *   {sale:<id>}:lost               HASH orderId -> why: orders a buyer got a 202 for that Redis lost before MySQL had them
 * All keys of one bucket share its hash tag, so a script or MULTI over them is valid on a cluster. With one bucket the
 * layout is the one every earlier release used.
 */
export interface SaleKeys {
  readonly sale: string;
  readonly buyers: string;
  readonly orders: string;
  readonly deadLetters: string;
  readonly lost: string;
  readonly rebuildLock: string;
  readonly stagedBuyers: string;
  readonly moves: string;
  readonly movedIn: string;
}

export const MAX_STOCK_BUCKETS = 64;

/** The keys of bucket 0, which every sale has (and the only bucket of a sale created without stockBuckets). */
export function saleKeys(prefix: string, saleId: string): SaleKeys {
  return bucketKeys(prefix, saleId, 0);
}

export function bucketKeys(prefix: string, saleId: string, bucket: number): SaleKeys {
  const sale = bucket === 0 ? `${prefix}{sale:${saleId}}` : `${prefix}{sale:${saleId}:${bucket}}`;
  return {
    sale,
    buyers: `${sale}:buyers`,
    orders: `${sale}:orders`,
    deadLetters: `${sale}:dead`,
    lost: `${prefix}{sale:${saleId}}:lost`,
    rebuildLock: `${sale}:rebuild-lock`,
    stagedBuyers: `${sale}:buyers:rebuilding`,
    moves: `${sale}:moves`,
    movedIn: `${sale}:moved-in`,
  };
}

/**
 * The bucket that serves a buyer: always the same one for the same buyer, so their one unit, their order id and their
 * order event are all in it. Whatever touches a buyer's unit (a reservation, a lookup, giving the unit back) uses
 * `buyerKeys`.
 */
export function homeBucket(saleId: string, userId: string, buckets: number): number {
  return buckets === 1 ? 0 : Number.parseInt(buyerTag(saleId, userId).slice(0, 8), 16) % buckets;
}

export function buyerKeys(prefix: string, saleId: string, userId: string, buckets: number): SaleKeys {
  return bucketKeys(prefix, saleId, homeBucket(saleId, userId, buckets));
}

export function salesIndexKey(prefix: string): string {
  return `${prefix}sales`;
}
