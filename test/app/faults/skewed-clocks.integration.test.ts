import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../../scripts/lib/local-services";
import { ApiClient } from "../support/http-client";
import { report } from "../support/crowd-orders";
import { createTestResources, type TestResources } from "../support/resources";
import { ServiceProcess } from "../support/service-process";
import { admin, order } from "../support/shop-api";

/**
 * Issue 12, case 7: the sale window followed each host's clock. Two instances, one 3 s fast and one 3 s slow, take
 * orders from a crowd that starts clicking before the sale opens and keeps clicking after it closes.
 */

let resources: TestResources;
const services: ServiceProcess[] = [];
const clients: ApiClient[] = [];

beforeAll(async () => {
  resources = await createTestResources();
});

afterAll(async () => {
  clients.forEach((client) => client.close());
  await Promise.all(services.map((service) => service.stop()));
  await resources.dispose();
});

const SKEW_MS = 3000;
const PRELOAD = path.join(__dirname, "../support/skewed-clock.js");

async function startSkewed(skewMs: number): Promise<ApiClient> {
  const service = await ServiceProcess.start(
    resources.env({ PORT: String(await freePort()), NODE_OPTIONS: `--require ${PRELOAD}`, CLOCK_SKEW_MS: String(skewMs) }),
  );
  services.push(service);
  const client = new ApiClient(service.baseUrl, 50);
  clients.push(client);
  return client;
}

interface Attempt {
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly status: number;
}

describe("issue 12, case 7: instances whose clocks are 3 s apart from the truth", () => {
  it("sell no unit before the sale opens or after it closes", async () => {
    const fast = await startSkewed(SKEW_MS);
    const slow = await startSkewed(-SKEW_MS);
    const startsAt = Date.now() + 5000;
    const endsAt = startsAt + 3000;
    const created = await slow.post("/admin/sales", {
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({
        itemName: "Phone",
        stock: 100_000,
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
      }),
    });
    expect(created.status).toBe(201);
    const saleId = created.json.id as string;

    // Fresh buyers click on both instances, every 20 ms, from 4 s before the opening to 4 s after the close.
    const attempts: Promise<Attempt>[] = [];
    let buyer = 0;
    while (Date.now() < startsAt - 4000) await sleep(10);
    while (Date.now() < endsAt + 4000) {
      for (const api of [fast, slow, fast, slow]) {
        const sentAt = Date.now();
        attempts.push(order(api, saleId, `buyer-${buyer++}`).then((answer) => ({ sentAt, answeredAt: Date.now(), status: answer.status })));
      }
      await sleep(20);
    }
    const settled = await Promise.all(attempts);
    const sold = settled.filter((attempt) => attempt.status === 202);
    const figures = {
      attempts: settled.length,
      sold: sold.length,
      soldBeforeOpening: sold.filter((attempt) => attempt.answeredAt < startsAt).length,
      soldAfterClosing: sold.filter((attempt) => attempt.sentAt >= endsAt).length,
    };
    report("case 7, skewed clocks", figures);

    expect(figures.sold).toBeGreaterThan(0);
    expect(figures.soldBeforeOpening).toBe(0);
    expect(figures.soldAfterClosing).toBe(0);
  });
});
