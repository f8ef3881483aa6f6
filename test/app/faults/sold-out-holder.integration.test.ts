/**
 * Issue 12, case 4: once a worker knows a sale is sold out it answers 410 without looking the buyer up,
 * which is true (no units left) but is no answer for a buyer whose earlier attempt had an unknown outcome
 * and who may hold a unit. Every client the project ships asks GET /api/sales/:id/my-order before it
 * tells such a buyer "sold out".
 */
import { mintUserToken } from "../../../app/http/auth";
import { runCrowd } from "../../../scripts/lib/crowd";
import { HttpClient } from "../../../scripts/lib/http-client";
import { SalePageBrowser, outcomes } from "../../web/support/sale-page-browser";
import { REDIS_HOST, REDIS_PORT, USER_TOKEN_SECRET } from "../support/resources";
import { ServiceHarness } from "../support/service-harness";
import { createSale, order } from "../support/shop-api";
import { waitUntil } from "../support/wait";

const harness = ServiceHarness.forTestFile();

async function serviceBehindRedisProxy() {
  const redisProxy = await harness.startProxy({ host: REDIS_HOST, port: REDIS_PORT });
  const { api, service } = await harness.startService({ REDIS_URL: harness.resources.redisUrl(redisProxy.port) });
  return { api, service, redisProxy };
}

test("the demo crowd, through a latency spike, learns every unit its buyers hold and calls none of them sold out", async () => {
  const { api, service, redisProxy } = await serviceBehindRedisProxy();
  const client = new HttpClient(service.baseUrl, { maxSockets: 300 });
  try {
    const saleId = await createSale(api, 100);
    redisProxy.slow(1200);
    setTimeout(() => void redisProxy.restore(), 1500);
    const crowd = await runCrowd({
      client,
      saleId,
      buyerIds: Array.from({ length: 300 }, (_, i) => `crowd-${i}`),
      mintToken: (userId) => mintUserToken(userId, USER_TOKEN_SECRET),
      concurrency: 300,
      retries: 20,
    });

    await redisProxy.delivered();
    const holders = await harness.holders(saleId);
    const learned = new Map(crowd.reservations.map(({ buyerId, orderId }) => [buyerId, orderId]));
    const holdersNotTold = [...holders].filter(([buyer, orderId]) => learned.get(buyer) !== orderId).length;
    expect({
      holders: holders.size,
      holdersNotTold,
      unitsClaimedByNonHolders: [...learned.keys()].filter((b) => !holders.has(b)).length,
    }).toEqual({
      holders: 100,
      holdersNotTold: 0,
      unitsClaimedByNonHolders: 0,
    });
    await harness.expectFullyConfirmed(saleId, 100);
  } finally {
    client.close();
  }
});

test("the sale page, after an attempt with an unknown outcome, shows the buyer's order and not sold out", async () => {
  const { api, service, redisProxy } = await serviceBehindRedisProxy();
  const browser = await SalePageBrowser.launch(service.baseUrl);
  try {
    const saleId = await createSale(api, 1);
    const page = await browser.open(saleId, "holder");
    // Every attempt after the first waits until the worker knows the sale is sold out, so it meets the fast 410.
    let soldOutKnown!: () => void;
    const soldOut = new Promise<void>((resolve) => (soldOutKnown = resolve));
    let attempts = 0;
    await page.route(`**/api/sales/${saleId}/orders`, async (route) => {
      if (attempts++ > 0) await soldOut;
      await route.continue();
    });

    redisProxy.slow(1200);
    await page.locator("#buy").click();
    await waitUntil(async () => (await outcomes(page)).length > 0, "the page to show what came of the click");
    await redisProxy.restore();
    await waitUntil(async () => (await harness.holders(saleId)).has("holder"), "the delayed reservation to land");
    expect((await order(api, saleId, "late")).json.error).toBe("sold_out");
    soldOutKnown();
    // A shopper clicks again whenever the page offers the button.
    void page
      .locator("#buy:enabled")
      .waitFor({ timeout: 10_000 })
      .then(() => page.locator("#buy").click())
      .catch(() => undefined);

    await page
      .locator('#message[data-outcome="confirmed"]')
      .waitFor({ timeout: 30_000 })
      .catch(() => undefined);
    const orderId = (await harness.holders(saleId)).get("holder")!;
    expect({
      shown: await outcomes(page),
      message: await page.locator("#message").textContent(),
      button: await page.locator("#buy").textContent(),
    }).toEqual({
      shown: expect.not.arrayContaining(["sold_out"]),
      message: `Confirmed! Your order ${orderId} is placed.`,
      button: "Purchased",
    });
  } finally {
    await browser.close();
  }
});
