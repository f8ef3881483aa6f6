/**
 * Issue 12, case 4: once a worker knows a sale is sold out it answers 410 without looking the buyer up,
 * which is true (no units left) but is no answer for a buyer whose earlier attempt had an unknown outcome
 * and who may hold a unit. The sale page asks GET /api/sales/:id/my-order before it tells such a buyer
 * "sold out".
 */
import { SalePageBrowser, outcomes } from "../../web/support/sale-page-browser";
import { createTestResources, REDIS_HOST, REDIS_PORT, type TestResources } from "../support/resources";
import { ServiceHarness } from "../support/service-harness";
import { createSale, order } from "../support/shop-api";
import { waitUntil } from "../support/wait";

let resources: TestResources;
let harness: ServiceHarness;

beforeAll(async () => {
  resources = await createTestResources();
  harness = new ServiceHarness(resources);
});

afterEach(async () => {
  await harness.cleanUp();
});

afterAll(async () => {
  await resources.dispose();
});

async function serviceBehindRedisProxy() {
  const redisProxy = await harness.startProxy({ host: REDIS_HOST, port: REDIS_PORT });
  const { api, service } = await harness.startService({ REDIS_URL: resources.redisUrl(redisProxy.port) });
  return { api, service, redisProxy };
}

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
