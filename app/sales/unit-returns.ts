import type { RedisClient } from "../platform/redis";
import { RETURN_UNIT_SCRIPT } from "./reservation-script";
import { buyerKeys } from "./sale-keys";

interface ReturnUnitCommands {
  seckillReturnUnit(sale: string, buyers: string, userId: string, orderId: string): Promise<number>;
}

/** The Redis side of an expired order: its unit goes back on sale, and its buyer may buy again. */
export class UnitReturns {
  private readonly commands: ReturnUnitCommands;

  constructor(
    redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand("seckillReturnUnit", { numberOfKeys: 2, lua: RETURN_UNIT_SCRIPT });
    this.commands = redis as unknown as ReturnUnitCommands;
  }

  /**
   * Returns the unit buyer `userId` holds in Redis through `orderId`, once however often it is called (see
   * return-unit.lua); true when this call returned it. The unit goes back to the buyer's home bucket (the sale has
   * `stockBuckets`, MySQL's count), where the buyer's record is; stock moves share it out from there.
   */
  async returnUnit(saleId: string, userId: string, orderId: string, stockBuckets: number): Promise<boolean> {
    const keys = buyerKeys(this.keyPrefix, saleId, userId, stockBuckets);
    return (await this.commands.seckillReturnUnit(keys.sale, keys.buyers, userId, orderId)) === 1;
  }
}
