import { randomBytes } from "node:crypto";
import type { RedisClient } from "../platform/redis";
import { GIVE_UNITS_SCRIPT, TAKE_UNITS_SCRIPT } from "./reservation-script";
import { bucketKeys } from "./sale-keys";

interface MoveCommands {
  seckillGiveUnits(bucket: string, moves: string, moveId: string, to: number, wanted: number, generation: number): Promise<number>;
  seckillTakeUnits(bucket: string, movedIn: string, moveId: string, units: number, generation: number): Promise<number>;
}

/** take-units.lua's answer while the receiver is being rebuilt: the move stays pending (the rebuild voids it). */
const TAKE_WHILE_REBUILDING = -2;

/** A move recorded in the donor's moves hash: its units left the donor and may not have reached `to` yet. */
export interface PendingMove {
  readonly moveId: string;
  readonly from: number;
  readonly to: number;
  readonly units: number;
  readonly generation: number;
}

/**
 * Moves unsold units between the buckets of one sale, which live on different shards, so no one step covers both:
 * 1. give (on the donor, atomically): take units out of its stock and record the move in its moves hash;
 * 2. take (on the receiver, atomically): add the units unless its moved-in set already names the move;
 * 3. settle (on the donor): delete the move's record.
 * A crash after 1 leaves the units in the record, counted in no bucket's stock: nothing can sell them, and whoever
 * next finds the record (finishPending) runs 2 and 3 again. Step 2 adds a move's units once however often it runs,
 * and moved-in sets are never trimmed (within a generation), so a move finished twice, or by two processes at once,
 * still adds its units once. A rebuild from MySQL voids every move of the old generation (step 2 refuses it) and shares
 * out the unsold units again.
 */
export class StockMoves {
  private readonly commands: MoveCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand("seckillGiveUnits", { numberOfKeys: 2, lua: GIVE_UNITS_SCRIPT });
    redis.defineCommand("seckillTakeUnits", { numberOfKeys: 2, lua: TAKE_UNITS_SCRIPT });
    this.commands = redis as unknown as MoveCommands;
  }

  /**
   * Brings at least `wanted` units (when there are) into bucket `to` from the others, visiting them from the next one
   * on; returns the units that arrived (0: every other bucket is dry or busy).
   */
  async refill(saleId: string, buckets: number, to: number, wanted: number, generation: number): Promise<number> {
    for (let step = 1; step < buckets; step++) {
      const move = await this.give(saleId, (to + step) % buckets, to, wanted, generation);
      if (move === undefined) continue;
      const arrived = await this.finish(saleId, move);
      if (arrived > 0) return arrived;
    }
    return 0;
  }

  /** Step 1; undefined when the donor has nothing to spare. */
  async give(saleId: string, from: number, to: number, wanted: number, generation: number): Promise<PendingMove | undefined> {
    const donor = bucketKeys(this.keyPrefix, saleId, from);
    const moveId = randomBytes(8).toString("hex");
    const units = await this.commands.seckillGiveUnits(donor.sale, donor.moves, moveId, to, wanted, generation);
    return units > 0 ? { moveId, from, to, units, generation } : undefined;
  }

  /** Step 2: the units this call added to the receiver (0 if an earlier run did; the move is void when negative). */
  take(saleId: string, move: PendingMove): Promise<number> {
    const receiver = bucketKeys(this.keyPrefix, saleId, move.to);
    return this.commands.seckillTakeUnits(receiver.sale, receiver.movedIn, move.moveId, move.units, move.generation);
  }

  /** Step 3. */
  async settle(saleId: string, move: PendingMove): Promise<void> {
    await this.redis.hdel(bucketKeys(this.keyPrefix, saleId, move.from).moves, move.moveId);
  }

  /** Steps 2 and 3; returns the units this call added (a move the receiver cannot take yet stays pending). */
  async finish(saleId: string, move: PendingMove): Promise<number> {
    const taken = await this.take(saleId, move);
    if (taken !== TAKE_WHILE_REBUILDING) await this.settle(saleId, move);
    return Math.max(taken, 0);
  }

  /** Every move some bucket has recorded and not settled: in progress, or left by a process that stopped. */
  async pending(saleId: string, buckets: number): Promise<PendingMove[]> {
    const recorded = await Promise.all(
      Array.from({ length: buckets }, (_, from) => this.redis.hgetall(bucketKeys(this.keyPrefix, saleId, from).moves)),
    );
    return recorded.flatMap((moves, from) =>
      Object.entries(moves).map(([moveId, value]) => {
        const [to, units, generation] = value.split(":").map(Number);
        return { moveId, from, to, units, generation };
      }),
    );
  }

  /** Finishes every pending move (safe while their movers are still at it); returns the units that arrived. */
  async finishPending(saleId: string, buckets: number): Promise<number> {
    let arrived = 0;
    for (const move of await this.pending(saleId, buckets)) arrived += await this.finish(saleId, move);
    return arrived;
  }
}
