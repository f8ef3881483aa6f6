/**
 * The service on a real local Redis Cluster (REDIS_MODE=cluster, as against Tair in direct-connection mode): crowds
 * with racing duplicates against a sale in one bucket and a sale in 8 buckets spread over the shards.
 */
import { bucketKeys } from "../../app/sales/reservations";
import { freePort } from "../../scripts/lib/local-services";
import { buyerNames, clickAll, OrderLedger, orderRows, report, statusCounts } from "./support/crowd-orders";
import { ApiClient } from "./support/http-client";
import { startRedisCluster, type LocalRedisCluster } from "../../scripts/lib/redis-cluster";
import { createTestResources, type TestResources } from "./support/resources";
import { ServiceProcess } from "./support/service-process";
import { admin, createSale } from "./support/shop-api";
import { waitUntil } from "./support/wait";

/** This file's ports (and +10000 for the cluster bus): the range the hotsku work was given. */
const CLUSTER_BASE_PORT = 21000;

let cluster: LocalRedisCluster;
let resources: TestResources;
let service: ServiceProcess;
let api: ApiClient;

beforeAll(async () => {
  cluster = await startRedisCluster(CLUSTER_BASE_PORT);
  resources = await createTestResources();
  const redisUrl = `${cluster.seedUrl}/?keyPrefix=${encodeURIComponent(resources.keyPrefix)}`;
  service = await ServiceProcess.start(resources.env({ PORT: String(await freePort()), REDIS_URL: redisUrl, REDIS_MODE: "cluster" }));
  api = new ApiClient(service.baseUrl, 200);
}, 120_000);

afterAll(async () => {
  api?.close();
  await service?.stop();
  await resources?.dispose();
  await cluster?.stop();
});

/** A crowd of `buyers`, the first `duplicates` of them clicking twice at the same time; checks every invariant. */
async function crowd(saleId: string, stock: number, buyers: number, duplicates: number) {
  const names = buyerNames(`c${saleId.slice(0, 4)}`, buyers);
  const clicks = await clickAll(
    api,
    saleId,
    names.flatMap((name, i) => (i < duplicates ? [name, name] : [name])),
  );
  const ledger = new OrderLedger();
  ledger.record(clicks);
  await waitUntil(async () => (await orderRows(resources.pool, saleId)).size >= stock, `${stock} order rows`);
  const rows = await orderRows(resources.pool, saleId);
  const finals = statusCounts(clicks.map((click) => click.final));
  // Exactly `stock` units, each to a different buyer, each a row in MySQL; everyone else told sold out.
  expect(ledger.accepted).toHaveLength(stock);
  expect(new Set(ledger.accepted.map((a) => a.buyer)).size).toBe(stock);
  expect(ledger.idsOfSeveralBuyers()).toEqual([]);
  expect(ledger.buyersWithSeveralIds()).toEqual([]);
  expect(ledger.acceptedWithoutOrder(rows)).toEqual([]);
  expect(rows.size).toBe(stock);
  expect(new Set(rows.values()).size).toBe(stock);
  expect(finals[202] + (finals[409] ?? 0) + finals[410]).toBe(buyers + duplicates);
  // Sold out only at zero: every unit went to a buyer (none stranded in a bucket), and the totals say so.
  expect(await api.get(`/api/sales/${saleId}`)).toMatchObject({ json: { stock, remaining: 0, status: "sold_out" } });
  await waitUntil(async () => (await api.get(`/admin/sales/${saleId}/stats`, admin)).json.pending === 0, "nothing pending");
  expect((await api.get(`/admin/sales/${saleId}/stats`, admin)).json).toEqual({
    stock,
    reserved: stock,
    confirmed: stock,
    pending: 0,
    paid: 0,
    expired: 0,
  });
  return { finals, ...ledger.figures(rows) };
}

describe("REDIS_MODE=cluster against a local 3-shard Redis Cluster", () => {
  it("serves a crowd with racing duplicates against a sale in one bucket", async () => {
    const saleId = await createSale(api, 150, { stockBuckets: 1 });
    const figures = await crowd(saleId, 150, 600, 150);
    report("cluster, 1 bucket", figures);
  }, 180_000);

  it("spreads a sale of 8 buckets over several shards and serves thousands of buyers with racing duplicates", async () => {
    const saleId = await createSale(api, 400, { stockBuckets: 8 });
    const shards = new Set(
      await Promise.all(Array.from({ length: 8 }, (_, bucket) => cluster.nodeOf(bucketKeys(resources.keyPrefix, saleId, bucket).sale))),
    );
    expect(shards.size).toBeGreaterThan(1);
    for (let bucket = 0; bucket < 8; bucket++) {
      expect(await cluster.client.exists(bucketKeys(resources.keyPrefix, saleId, bucket).sale)).toBe(1);
    }
    const figures = await crowd(saleId, 400, 2000, 500);
    report("cluster, 8 buckets", { shards: shards.size, ...figures });
  }, 300_000);
});
