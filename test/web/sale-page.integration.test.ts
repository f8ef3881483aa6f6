/**
 * The sale page (web/) in headless Chromium, served by and talking to the real service on Redis and
 * MariaDB on this machine. Each run uses its own database and Redis key prefix and removes them.
 * Needs Debian's chromium at /usr/bin/chromium (.ci/browser-deps installs it).
 */
import type { Page } from "playwright-core";
import { mintUserToken } from "../../app/http/auth";
import { freePort } from "../../scripts/lib/local-services";
import { ADMIN_TOKEN, USER_TOKEN_SECRET, createTestResources, type TestResources } from "../app/support/resources";
import { ServiceProcess } from "../app/support/service-process";
import { waitUntil } from "../app/support/wait";
import { OUTCOME_WAIT_MS, SalePageBrowser, outcomes, waitForOutcome } from "./support/sale-page-browser";

let resources: TestResources;
let service: ServiceProcess;
let baseUrl: string;
let browser: SalePageBrowser;

beforeAll(async () => {
  resources = await createTestResources();
  // Started from the repository root like `npm run app`: the service finds web/ there by itself.
  service = await ServiceProcess.start(resources.env({ PORT: String(await freePort()) }));
  baseUrl = service.baseUrl;
  browser = await SalePageBrowser.launch(baseUrl);
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await resources?.dispose();
});

afterEach(async () => {
  // Every test starts signed out.
  await browser.signOut();
});

async function createSale(options: { stock: number; startsInMs: number; paymentWindowSeconds?: number }): Promise<string> {
  const startsAt = Date.now() + options.startsInMs;
  const response = await fetch(`${baseUrl}/admin/sales`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      itemName: "Mechanical keyboard, 87 keys",
      stock: options.stock,
      priceCents: 19900,
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(startsAt + 3_600_000).toISOString(),
      ...(options.paymentWindowSeconds === undefined ? {} : { paymentWindowSeconds: options.paymentWindowSeconds }),
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** Orders outside the page, as another shopper would; returns the status. */
async function orderDirectly(saleId: string, userId: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/sales/${saleId}/orders`, {
    method: "POST",
    headers: { authorization: `Bearer ${mintUserToken(userId, USER_TOKEN_SECRET)}` },
  });
  return response.status;
}

async function buyDirectly(saleId: string, userId: string): Promise<void> {
  expect(await orderDirectly(saleId, userId)).toBe(202);
}

/**
 * The page's first order attempt reaches the service, which takes a unit, but its answer never reaches the
 * page (the connection drops). Later attempts wait for `later` (resolved by the caller).
 */
async function loseTheFirstAnswer(page: Page, saleId: string, later: Promise<void>): Promise<void> {
  let attempts = 0;
  await page.route(`**/api/sales/${saleId}/orders`, async (route) => {
    if (attempts++ > 0) {
      await later;
      await route.continue();
      return;
    }
    await route.fetch();
    await route.abort("connectionreset");
  });
}

const message = (page: Page) => page.locator("#message");

describe("the service serves the page", () => {
  test("at / and its files next to it, revalidated on every load (local names are not content-hashed)", async () => {
    for (const [path, type] of [
      ["/", "text/html"],
      ["/sale.js", "text/javascript"],
      ["/sale.css", "text/css"],
    ]) {
      const response = await fetch(`${baseUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(new RegExp(`^${type}`));
      expect(response.headers.get("cache-control")).toBe("no-cache");
    }
  });

  test("after the API: API answers and unknown paths stay JSON", async () => {
    await expect(fetch(`${baseUrl}/healthz`).then((r) => r.json())).resolves.toEqual({ status: "ok" });
    const missing = await fetch(`${baseUrl}/no-such-file.js`);
    expect(missing.status).toBe(404);
    await expect(missing.json()).resolves.toMatchObject({ error: "not_found" });
    const post = await fetch(`${baseUrl}/`, { method: "POST" });
    expect(post.status).toBe(404);
    await expect(post.json()).resolves.toMatchObject({ error: "not_found" });
  });
});

test("the page shows the sale's name, price and stock", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 60_000 });
  const page = await browser.open(saleId, "reader");
  await expect(page.locator("h1").textContent()).resolves.toBe("Mechanical keyboard, 87 keys");
  await expect(page.locator("#price").textContent()).resolves.toMatch(/199\.00/);
  await expect(page.locator("#stock-text").textContent()).resolves.toBe("5 of 5 left");
});

test("before the start the buy button is disabled and the countdown runs", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 60_000 });
  const page = await browser.open(saleId, "early-bird");
  const button = page.locator("#buy");
  await expect(button.isDisabled()).resolves.toBe(true);
  await expect(button.textContent()).resolves.toBe("Starts soon");
  await expect(page.locator("#countdown-label").textContent()).resolves.toBe("Starts in");
  const first = await page.locator("#countdown").textContent();
  expect(first).toMatch(/^00:0[01]:\d\d$/);
  await page.locator("#countdown").filter({ hasNotText: first! }).waitFor();
  const later = await page.locator("#countdown").textContent();
  expect(later! < first!).toBe(true);
  await expect(button.isDisabled()).resolves.toBe(true);
});

test("at the start a click reserves a unit and the page follows the order to confirmed", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 5000 });
  const page = await browser.open(saleId, "alice");
  await expect(page.locator("#buy").isDisabled()).resolves.toBe(true);

  await page.locator("#buy:enabled").waitFor({ timeout: OUTCOME_WAIT_MS });
  await page.locator("#buy").click();
  await waitForOutcome(page, "confirmed");

  await expect(message(page).textContent()).resolves.toMatch(/^Confirmed! Your order \S+ is placed\.$/);
  const shown = await outcomes(page);
  expect(shown.slice(shown.indexOf("reserved"))).toEqual(expect.arrayContaining(["reserved", "confirmed"]));
  expect(shown.slice(shown.indexOf("reserved")).every((o) => ["reserved", "pending", "confirmed"].includes(o))).toBe(true);
  await expect(page.locator("#buy").isDisabled()).resolves.toBe(true);
});

test("after the purchase the page counts down to pay-by and the Pay button pays the order", async () => {
  const saleId = await createSale({ stock: 2, startsInMs: 0, paymentWindowSeconds: 600 });
  const page = await browser.open(saleId, "paula");
  await page.locator("#buy").click();
  await waitForOutcome(page, "confirmed");
  await page.locator("#payment:not([hidden])").waitFor();
  await expect(page.locator("#pay-countdown").textContent()).resolves.toMatch(/^00:(09|10):\d\d$/);

  await page.locator("#pay").click();
  await waitForOutcome(page, "paid");
  await expect(message(page).textContent()).resolves.toMatch(/^Paid! Your order \S+ is complete\.$/);
  await expect(page.locator("#payment").isHidden()).resolves.toBe(true);
});

test("an order left unpaid past pay-by shows expired, its unit back on sale", async () => {
  const saleId = await createSale({ stock: 1, startsInMs: 0, paymentWindowSeconds: 5 });
  const page = await browser.open(saleId, "ursula");
  await page.locator("#buy").click();
  await waitForOutcome(page, "confirmed");
  await page.locator("#payment:not([hidden])").waitFor();

  await waitForOutcome(page, "expired");
  await expect(message(page).textContent()).resolves.toBe("Expired — the payment window closed, and the unit went back on sale.");
  await expect(page.locator("#payment").isHidden()).resolves.toBe(true);
  // The unit is for sale again. The page says expired as soon as MySQL does; Redis gets the unit back in the same
  // sweep, and each worker's sold-out flag clears within 2 s after that, so within seconds, not at once (CI once
  // ordered in between and got 410).
  await waitUntil(async () => (await orderDirectly(saleId, "victor")) === 202, "victor to buy the returned unit", 5000);
});

test("a second purchase by the same shopper says already purchased", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const page = await browser.open(saleId, "bob");
  await page.locator("#buy").click();
  await waitForOutcome(page, "reserved");

  await page.reload();
  await page.locator("#buy").click();
  await waitForOutcome(page, "already_purchased");
  await expect(message(page).textContent()).resolves.toMatch(/^Already purchased/);
  await expect(page.locator("#buy").textContent()).resolves.toBe("Purchased");
});

test("a sold-out sale says so and offers no button", async () => {
  const saleId = await createSale({ stock: 1, startsInMs: 0 });
  await buyDirectly(saleId, "quick-shopper");
  const page = await browser.open(saleId, "carol");
  await expect(page.locator("#countdown-label").textContent()).resolves.toBe("Sold out: every unit has been taken.");
  await expect(page.locator("#buy").isDisabled()).resolves.toBe(true);
  await expect(page.locator("#buy").textContent()).resolves.toBe("Sold out");
});

test("a sale that sells out while the page is open answers the click with sold out", async () => {
  const saleId = await createSale({ stock: 1, startsInMs: 0 });
  const page = await browser.open(saleId, "dave");
  await buyDirectly(saleId, "faster-shopper");
  await page.locator("#buy").click();
  await waitForOutcome(page, "sold_out");
  await expect(message(page).textContent()).resolves.toBe("Sold out: every unit has been taken.");
  await expect(page.locator("#buy").isDisabled()).resolves.toBe(true);
});

test("a click whose answer was lost, in a sale that then sells out, shows the shopper's order and not sold out", async () => {
  const saleId = await createSale({ stock: 1, startsInMs: 0 });
  const page = await browser.open(saleId, "frank");
  let soldOutKnown!: () => void;
  await loseTheFirstAnswer(page, saleId, new Promise((resolve) => (soldOutKnown = resolve)));

  await page.locator("#buy").click();
  await waitForOutcome(page, "checking");
  // Another shopper hears sold out, so the service now answers 410 to everyone, frank included.
  expect(await orderDirectly(saleId, "grace")).toBe(410);
  soldOutKnown();

  await waitForOutcome(page, "confirmed");
  await expect(message(page).textContent()).resolves.toMatch(/^Confirmed! Your order \S+ is placed\.$/);
  await expect(outcomes(page)).resolves.not.toContain("sold_out");
  await expect(page.locator("#buy").textContent()).resolves.toBe("Purchased");
});

test("reloaded after a click whose answer was lost, the page finds the shopper's order by itself", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const page = await browser.open(saleId, "heidi");
  await loseTheFirstAnswer(page, saleId, new Promise(() => undefined));

  await page.locator("#buy").click();
  await waitForOutcome(page, "checking");
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.reload();

  await waitForOutcome(page, "confirmed");
  await expect(page.locator("#buy").textContent()).resolves.toBe("Purchased");
});

test("the token from the link is kept for later visits and wiped from the address bar", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 60_000 });
  const token = mintUserToken("erin", USER_TOKEN_SECRET);
  const page = await browser.openWithToken(saleId, token);
  expect(page.url()).toBe(`${baseUrl}/?sale=${saleId}`);
  await expect(page.evaluate('localStorage.getItem("seckill.token")')).resolves.toBe(token);
});

test("an expired sign-in is dropped and the shopper is asked to sign in again", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const expired = mintUserToken("frank", USER_TOKEN_SECRET, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
  const page = await browser.openWithToken(saleId, expired);
  await page.locator("#buy").click();
  await waitForOutcome(page, "sign_in_expired");
  await expect(message(page).textContent()).resolves.toMatch(/^Your sign-in has expired/);
  await expect(page.evaluate('localStorage.getItem("seckill.token")')).resolves.toBeNull();
  await expect(fetch(`${baseUrl}/api/sales/${saleId}`).then((r) => r.json())).resolves.toMatchObject({ remaining: 5 });
});

test("a sign-in the service refuses is dropped too", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const page = await browser.openWithToken(saleId, mintUserToken("grace", "a-secret-this-deployment-never-had-0123"));
  await page.locator("#buy").click();
  await waitForOutcome(page, "unauthorized");
  await expect(page.evaluate('localStorage.getItem("seckill.token")')).resolves.toBeNull();
});

test("without a sign-in a click asks the shopper to sign in", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const page = await browser.open(saleId);
  await page.locator("#buy").click();
  await waitForOutcome(page, "unauthorized");
  await expect(message(page).textContent()).resolves.toMatch(/^Please sign in/);
});

test("an unknown sale says so", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${baseUrl}/?sale=0000000000000000`);
  await waitForOutcome(page, "unknown_sale");
  await expect(page.locator("h1").textContent()).resolves.toBe("Sale not found");
});
