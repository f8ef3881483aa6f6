import { setTimeout as sleep } from "node:timers/promises";
import { SALES_REFRESH_MS } from "../../../app/orders/order-writer";
import { freePort } from "../../../scripts/lib/local-services";
import { ApiClient } from "../support/http-client";
import { buyerNames, clickAll, metricValue, orderRows, report } from "../support/crowd-orders";
import { startRedisCluster, type LocalRedisCluster } from "../../../scripts/lib/redis-cluster";
import { createTestResources, MYSQL_HOST, MYSQL_PORT, type TestResources } from "../support/resources";
import { ServiceProcess } from "../support/service-process";
import { createSale } from "../support/shop-api";
import { TcpProxy } from "../support/tcp-proxy";
import { waitUntil } from "../support/wait";

/** Issue 12, case 8: the order writer's lag gauge froze while MySQL was cut, and nothing reported the divergence. */

/** This file's Redis Cluster ports (and +10000 for the cluster bus). */
const CLUSTER_BASE_PORT = 21010;

let resources: TestResources;
let proxy: TcpProxy | undefined;
let service: ServiceProcess | undefined;
let api: ApiClient | undefined;
let cluster: LocalRedisCluster | undefined;

beforeAll(async () => {
  resources = await createTestResources();
});

afterEach(async () => {
  api?.close();
  await service?.stop();
  await proxy?.close();
  await cluster?.stop();
  [api, service, proxy, cluster] = [undefined, undefined, undefined, undefined];
});

afterAll(async () => {
  await resources.dispose();
});

/** The service's Redis: the shared one, or a local 3-shard Redis Cluster of this file's own. */
async function redisEnv(mode: "standalone" | "cluster"): Promise<Record<string, string>> {
  if (mode === "standalone") return {};
  cluster = await startRedisCluster(CLUSTER_BASE_PORT);
  return { REDIS_MODE: "cluster", REDIS_URL: `${cluster.seedUrl}/?keyPrefix=${encodeURIComponent(resources.keyPrefix)}` };
}

describe.each(["standalone", "cluster"] as const)("issue 12, case 8: the order writer's lag during a MySQL cut (Redis %s)", (mode) => {
  it("grows with the age of the oldest unconfirmed order, and reserved − confirmed is exported per sale", async () => {
    proxy = await TcpProxy.start({ host: MYSQL_HOST, port: MYSQL_PORT });
    const env = { PORT: String(await freePort()), MYSQL_URL: resources.mysqlUrl(proxy.port), ...(await redisEnv(mode)) };
    service = await ServiceProcess.start(resources.env(env));
    api = new ApiClient(service.baseUrl, 50);
    const saleId = await createSale(api, 1000);
    await clickAll(api, saleId, buyerNames("before", 20));
    await waitUntil(async () => (await orderRows(resources.pool, saleId)).size === 20, "the first orders confirmed");
    const unconfirmedNow = () => metricValue(api!, "seckill_sale_unconfirmed_orders", { sale_id: saleId });
    // The writer reads MySQL's confirmed counts on its own refresh: before the cut it must have seen these 20, or it
    // would count them as unconfirmed through the cut. A 0 read too soon is the figure of a refresh from before the
    // clicks (CI once cut within that second and read 50), so only a 0 from a later refresh counts.
    await sleep(2 * SALES_REFRESH_MS);
    await waitUntil(async () => (await unconfirmedNow()) === 0, "the writer to see them confirmed", 30_000);

    await proxy.cut();
    await clickAll(api, saleId, buyerNames("during", 30));
    const lagDuringCut: (number | undefined)[] = [];
    for (let second = 0; second < 6; second++) {
      await sleep(1000);
      lagDuringCut.push(await metricValue(api, "seckill_order_writer_lag_seconds"));
    }
    const unconfirmedDuringCut = await metricValue(api, "seckill_sale_unconfirmed_orders", { sale_id: saleId });

    await proxy.restore();
    await waitUntil(async () => (await orderRows(resources.pool, saleId)).size === 50, "every order confirmed after the cut");
    const recovered = waitUntil(async () => (await unconfirmedNow()) === 0, "nothing unconfirmed", 5000);
    await recovered.catch(() => undefined);
    const figures = {
      lagDuringCut,
      unconfirmedDuringCut,
      lagAfterRecovery: await metricValue(api, "seckill_order_writer_lag_seconds"),
      unconfirmedAfterRecovery: await unconfirmedNow(),
    };
    report(`case 8, lag during a MySQL cut (Redis ${mode})`, figures);

    // It follows the oldest unconfirmed order, which is as old as the cut (measured every second, so by steps).
    const lags = lagDuringCut as number[];
    expect(lags.every((lag, i) => i === 0 || lag >= lags[i - 1])).toBe(true);
    expect(lags[lags.length - 1] - lags[0]).toBeGreaterThan(3);
    expect(lags[lags.length - 1]).toBeGreaterThan(4);
    expect(unconfirmedDuringCut).toBe(30);
    expect(figures.lagAfterRecovery).toBeLessThan(1);
    expect(figures.unconfirmedAfterRecovery).toBe(0);
  }, 120_000);
});
