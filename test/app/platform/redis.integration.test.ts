import { once } from "node:events";
import { RedisHeartbeat, createRedis, neverSent, type RedisClient } from "../../../app/platform/redis";
import { loadConfig } from "../../../app/platform/config";
import { freePort } from "../../../scripts/lib/local-services";
import { captureLogs } from "../support/log-capture";
import { REDIS_HOST, REDIS_PORT } from "../support/resources";
import { TcpProxy } from "../support/tcp-proxy";
import { waitUntil } from "../support/wait";

/** How ioredis fails a command in each situation, as the HTTP workers configure it, and what that proves. */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function requestsClient(port: number): RedisClient {
  const { redis } = loadConfig({
    REDIS_URL: `redis://${REDIS_HOST}:${port}`,
    MYSQL_URL: "mysql://root@127.0.0.1:3306/unused",
    SECKILL_ADMIN_TOKEN: "a".repeat(32),
    SECKILL_USER_TOKEN_SECRET: "b".repeat(32),
  });
  const client = createRedis(redis, "requests");
  client.on("error", () => undefined);
  cleanups.push(() => client.disconnect());
  return client;
}

/** A requests client fails fast until it is connected, so the tests wait for that first. */
async function connectedClient(port: number): Promise<RedisClient> {
  const client = requestsClient(port);
  await once(client, "ready");
  return client;
}

async function proxyToRedis(): Promise<TcpProxy> {
  const proxy = await TcpProxy.start({ host: REDIS_HOST, port: REDIS_PORT });
  cleanups.push(() => proxy.close());
  return proxy;
}

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error("expected the command to fail");
    },
    (error: unknown) => error,
  );

describe("a failed command counts as never sent", () => {
  test("only when ioredis refused it without writing: no connection yet", async () => {
    const client = requestsClient(await freePort());
    const error = await failureOf(client.ping());
    expect(error).toEqual(expect.objectContaining({ message: expect.stringMatching(/enableOfflineQueue/) }));
    expect(neverSent(error)).toBe(true);
  });

  test("not when it timed out on a connection that went silent", async () => {
    const proxy = await proxyToRedis();
    const client = await connectedClient(proxy.port);
    proxy.blackhole();
    const error = await failureOf(client.ping());
    expect(error).toEqual(expect.objectContaining({ message: "Command timed out" }));
    expect(neverSent(error)).toBe(false);
  });

  test("not when the connection was lost with the command in flight", async () => {
    const proxy = await proxyToRedis();
    const client = await connectedClient(proxy.port);
    proxy.freeze();
    const inFlight = failureOf(client.ping());
    await proxy.cut();
    expect(neverSent(await inFlight)).toBe(false);
  });
});

test("the heartbeat replaces a connection that went silent, which otherwise stays dead", async () => {
  const proxy = await proxyToRedis();
  const logs = captureLogs();
  const watched = await connectedClient(proxy.port);
  const heartbeat = new RedisHeartbeat(watched, logs.logger);
  cleanups.push(() => heartbeat.stop());
  const unwatched = await connectedClient(proxy.port);

  // The peer vanished without a FIN or RST; new connections get through again.
  proxy.blackhole();
  await proxy.restore();

  await waitUntil(
    () =>
      watched.ping().then(
        () => true,
        () => false,
      ),
    "the watched client to answer again",
  );
  await waitUntil(() => heartbeat.silentForMs() < 1500, "the heartbeat to hear Redis again");
  expect(logs.lines.map((line) => line.msg)).toContain("Redis stopped answering on an open connection; replacing it");
  expect(neverSent(await failureOf(unwatched.ping()))).toBe(false);
});
