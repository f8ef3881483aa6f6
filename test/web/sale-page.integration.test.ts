/**
 * The sale page (web/) in headless Chromium, served by and talking to the real service on Redis and
 * MariaDB on this machine. Each run uses its own database and Redis key prefix and removes them.
 * Needs Debian's chromium at /usr/bin/chromium (.ci/browser-deps installs it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { mintUserToken } from "../../app/http/auth";
import { freePort } from "../../scripts/lib/local-services";
import { ADMIN_TOKEN, USER_TOKEN_SECRET, createTestResources, type TestResources } from "../app/support/resources";
import { ServiceProcess } from "../app/support/service-process";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];
/** How long the browser may take to show an outcome (the order writer confirms within a second or two). */
const OUTCOME_WAIT_MS = 20_000;

let resources: TestResources;
let service: ServiceProcess;
let baseUrl: string;
let profileDir: string;
let browser: BrowserContext;

beforeAll(async () => {
  resources = await createTestResources();
  // Started from the repository root like `npm run app`: the service finds web/ there by itself.
  service = await ServiceProcess.start(resources.env({ PORT: String(await freePort()) }));
  baseUrl = service.baseUrl;
  profileDir = mkdtempSync(join(tmpdir(), "sale-page-chromium-"));
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 390, height: 844 },
  });
});

afterAll(async () => {
  await browser?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await service?.stop();
  await resources?.dispose();
});

afterEach(async () => {
  // Every test starts signed out: the shop's token lives in the origin's localStorage.
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`${baseUrl}/healthz`);
  await page.evaluate("localStorage.clear()");
  for (const open of browser.pages()) await open.close();
});

async function createSale(options: { stock: number; startsInMs: number }): Promise<string> {
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
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** What the shop's login hands a signed-in shopper. */
const signIn = (userId: string) => mintUserToken(userId, USER_TOKEN_SECRET);

/** Buys outside the page, as another shopper would. */
async function buyDirectly(saleId: string, userId: string): Promise<void> {
  const response = await fetch(`${baseUrl}/api/sales/${saleId}/orders`, {
    method: "POST",
    headers: { authorization: `Bearer ${signIn(userId)}` },
  });
  expect(response.status).toBe(202);
}

/** Records every outcome the page shows (the message's data-outcome), in order, in `window.outcomes`. */
const RECORD_OUTCOMES = `
  window.outcomes = [];
  new MutationObserver(() => {
    const outcome = document.getElementById("message")?.dataset.outcome;
    if (outcome && window.outcomes[window.outcomes.length - 1] !== outcome) window.outcomes.push(outcome);
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-outcome"] });
`;

/** Opens the page the way the shop links to it (signed in with `token` when given), and waits until it shows the sale. */
async function openSalePage(saleId: string, token?: string): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript({ content: RECORD_OUTCOMES });
  const fragment = token ? `#token=${token}` : "";
  await page.goto(`${baseUrl}/?sale=${saleId}${fragment}`);
  await page.locator('main[aria-busy="false"]').waitFor();
  return page;
}

const outcomes = (page: Page) => page.evaluate<string[]>("window.outcomes");
const message = (page: Page) => page.locator("#message");
const waitForOutcome = (page: Page, outcome: string) =>
  page.locator(`#message[data-outcome="${outcome}"]`).waitFor({ timeout: OUTCOME_WAIT_MS });

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
  const page = await openSalePage(saleId, signIn("reader"));
  await expect(page.locator("h1").textContent()).resolves.toBe("Mechanical keyboard, 87 keys");
  await expect(page.locator("#price").textContent()).resolves.toMatch(/199\.00/);
  await expect(page.locator("#stock-text").textContent()).resolves.toBe("5 of 5 left");
});

test("before the start the buy button is disabled and the countdown runs", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 60_000 });
  const page = await openSalePage(saleId, signIn("early-bird"));
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
  const page = await openSalePage(saleId, signIn("alice"));
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

test("a second purchase by the same shopper says already purchased", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const page = await openSalePage(saleId, signIn("bob"));
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
  const page = await openSalePage(saleId, signIn("carol"));
  await expect(page.locator("#countdown-label").textContent()).resolves.toBe("Sold out: every unit has been taken.");
  await expect(page.locator("#buy").isDisabled()).resolves.toBe(true);
  await expect(page.locator("#buy").textContent()).resolves.toBe("Sold out");
});

test("a sale that sells out while the page is open answers the click with sold out", async () => {
  const saleId = await createSale({ stock: 1, startsInMs: 0 });
  const page = await openSalePage(saleId, signIn("dave"));
  await buyDirectly(saleId, "faster-shopper");
  await page.locator("#buy").click();
  await waitForOutcome(page, "sold_out");
  await expect(message(page).textContent()).resolves.toBe("Sold out: every unit has been taken.");
  await expect(page.locator("#buy").isDisabled()).resolves.toBe(true);
});

test("the token from the link is kept for later visits and wiped from the address bar", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 60_000 });
  const token = signIn("erin");
  const page = await openSalePage(saleId, token);
  expect(page.url()).toBe(`${baseUrl}/?sale=${saleId}`);
  await expect(page.evaluate('localStorage.getItem("seckill.token")')).resolves.toBe(token);
});

test("an expired sign-in is dropped and the shopper is asked to sign in again", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const expired = mintUserToken("frank", USER_TOKEN_SECRET, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
  const page = await openSalePage(saleId, expired);
  await page.locator("#buy").click();
  await waitForOutcome(page, "sign_in_expired");
  await expect(message(page).textContent()).resolves.toMatch(/^Your sign-in has expired/);
  await expect(page.evaluate('localStorage.getItem("seckill.token")')).resolves.toBeNull();
  await expect(fetch(`${baseUrl}/api/sales/${saleId}`).then((r) => r.json())).resolves.toMatchObject({ remaining: 5 });
});

test("a sign-in the service refuses is dropped too", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const page = await openSalePage(saleId, mintUserToken("grace", "a-secret-this-deployment-never-had-0123"));
  await page.locator("#buy").click();
  await waitForOutcome(page, "unauthorized");
  await expect(page.evaluate('localStorage.getItem("seckill.token")')).resolves.toBeNull();
});

test("without a sign-in a click asks the shopper to sign in", async () => {
  const saleId = await createSale({ stock: 5, startsInMs: 0 });
  const page = await openSalePage(saleId);
  await page.locator("#buy").click();
  await waitForOutcome(page, "unauthorized");
  await expect(message(page).textContent()).resolves.toMatch(/^Please sign in/);
});

test("an unknown sale says so", async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/?sale=0000000000000000`);
  await waitForOutcome(page, "unknown_sale");
  await expect(page.locator("h1").textContent()).resolves.toBe("Sale not found");
});
