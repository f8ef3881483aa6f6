import type Redis from "ioredis";
import { RETURN_UNIT_SCRIPT } from "./reservation-script";
import { saleKeys } from "./reservations";

interface ReturnUnitCommands {
  seckillReturnUnit(sale: string, buyers: string, userId: string, orderId: string): Promise<number>;
}

/** The Redis side of an expired order: its unit goes back on sale, and its buyer may buy again. */
export class UnitReturns {
  private readonly commands: ReturnUnitCommands;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand("seckillReturnUnit", { numberOfKeys: 2, lua: RETURN_UNIT_SCRIPT });
    this.commands = redis as unknown as ReturnUnitCommands;
  }

  /**
   * Returns the unit buyer `userId` holds in Redis through `orderId`, once however often it is called (see
   * return-unit.lua); true when this call returned it.
   */
  async returnUnit(saleId: string, userId: string, orderId: string): Promise<boolean> {
    const keys = saleKeys(this.keyPrefix, saleId);
    return (await this.commands.seckillReturnUnit(keys.sale, keys.buyers, userId, orderId)) === 1;
  }
}
