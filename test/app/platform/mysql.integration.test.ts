import type { Pool, RowDataPacket } from "mysql2/promise";
import { createMysqlPool, isTransientMysqlError, query, transaction, withConnection } from "../../../app/platform/mysql";
import { createTestResources, MYSQL_HOST, MYSQL_PORT, type TestResources } from "../support/resources";
import { TcpProxy } from "../support/tcp-proxy";

/** Every statement, and the wait for a connection, is bounded; a connection that failed is never lent again. */

let resources: TestResources;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  resources = await createTestResources();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await resources.dispose();
});

async function poolThroughProxy(): Promise<{ pool: Pool; proxy: TcpProxy }> {
  const proxy = await TcpProxy.start({ host: MYSQL_HOST, port: MYSQL_PORT });
  const pool = createMysqlPool({ ...resources.config().mysql, port: proxy.port }, 1);
  cleanups.push(() => proxy.close());
  cleanups.push(() => pool.end());
  return { pool, proxy };
}

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );

test("a statement that gets no answer times out, and its connection is destroyed, not lent again", async () => {
  const { pool, proxy } = await poolThroughProxy();
  await query(pool, "SELECT 1");
  // The peer of the pool's one connection vanished; new connections get through.
  proxy.blackhole();
  await proxy.restore();

  const error = await failureOf(query(pool, "SELECT 1", [], 500));
  expect(error).toEqual(expect.objectContaining({ code: "PROTOCOL_SEQUENCE_TIMEOUT" }));
  expect(isTransientMysqlError(error)).toBe(true);
  const [row] = await query<RowDataPacket[]>(pool, "SELECT 2 AS two");
  expect(row.two).toBe(2);
});

test("START TRANSACTION on a silent connection times out like any statement", async () => {
  const { pool, proxy } = await poolThroughProxy();
  await query(pool, "SELECT 1");
  proxy.blackhole();

  const error = await failureOf(transaction(pool, async () => undefined));
  expect(isTransientMysqlError(error)).toBe(true);
});

test("waiting for a connection is bounded: a caller of a pool with none to give fails instead of queueing for ever", async () => {
  const pool = createMysqlPool(resources.config().mysql, 1);
  cleanups.push(() => pool.end());
  let release!: () => void;
  const busy = withConnection(pool, () => new Promise<void>((resolve) => (release = resolve)));

  const error = await failureOf(query(pool, "SELECT 1"));
  expect(error).toEqual(expect.objectContaining({ name: "TimeoutError" }));
  expect(isTransientMysqlError(error)).toBe(true);
  release();
  await busy;
  await query(pool, "SELECT 1");
});
