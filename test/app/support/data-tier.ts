import { migrate } from "../../../app/platform/migrations";
import { createRedis, type RedisClient } from "../../../app/platform/redis";
import { Reservations } from "../../../app/sales/reservations";
import { createTestResources, type TestResources } from "./resources";

/** A test file's own data tier: its database (migrated) and key prefix, a Redis client and the sales on that prefix. */
export interface DataTier {
  readonly resources: TestResources;
  /** A `background` client, as the order writer's. */
  readonly redis: RedisClient;
  readonly reservations: Reservations;
}

/**
 * The data tier of one test file, called at its top level: made before its first test, removed after its last. Its
 * fields exist from the file's beforeAll on.
 */
export function dataTierForTestFile(): DataTier {
  let tier: DataTier | undefined;
  beforeAll(async () => {
    const resources = await createTestResources();
    await migrate(resources.pool);
    const redis = createRedis(resources.config().redis, "background");
    tier = { resources, redis, reservations: new Reservations(redis, resources.keyPrefix) };
  });
  afterAll(async () => {
    tier?.redis.disconnect();
    await tier?.resources.dispose();
  });
  const made = (): DataTier => {
    if (tier === undefined) throw new Error("the data tier exists from its file's beforeAll on");
    return tier;
  };
  return {
    get resources() {
      return made().resources;
    },
    get redis() {
      return made().redis;
    },
    get reservations() {
      return made().reservations;
    },
  };
}
