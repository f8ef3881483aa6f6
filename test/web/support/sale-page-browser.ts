import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { mintUserToken } from "../../../app/http/auth";
import { USER_TOKEN_SECRET } from "../../app/support/resources";

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
export const OUTCOME_WAIT_MS = 20_000;

/** Records every outcome the page shows (the message's data-outcome), in order, in `window.outcomes`. */
const RECORD_OUTCOMES = `
  window.outcomes = [];
  new MutationObserver(() => {
    const outcome = document.getElementById("message")?.dataset.outcome;
    if (outcome && window.outcomes[window.outcomes.length - 1] !== outcome) window.outcomes.push(outcome);
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-outcome"] });
`;

/**
 * Headless Chromium (Debian's, at /usr/bin/chromium; .ci/browser-deps installs it) showing the sale page
 * that the service at `baseUrl` serves, with a profile of its own that `close` removes.
 */
export class SalePageBrowser {
  private constructor(
    readonly context: BrowserContext,
    private readonly baseUrl: string,
    private readonly profileDir: string,
  ) {}

  static async launch(baseUrl: string): Promise<SalePageBrowser> {
    const profileDir = mkdtempSync(join(tmpdir(), "sale-page-chromium-"));
    try {
      const context = await chromium.launchPersistentContext(profileDir, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 390, height: 844 },
      });
      return new SalePageBrowser(context, baseUrl, profileDir);
    } catch (error) {
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Opens the page the way the shop links to it (signed in as `userId`, if given), and waits until it shows the sale. */
  open(saleId: string, userId?: string): Promise<Page> {
    return this.openWithToken(saleId, userId === undefined ? undefined : mintUserToken(userId, USER_TOKEN_SECRET));
  }

  /** The same, with the shop's link carrying exactly this token (an expired or foreign one, say). */
  async openWithToken(saleId: string, token: string | undefined): Promise<Page> {
    const page = await this.context.newPage();
    await page.addInitScript({ content: RECORD_OUTCOMES });
    await page.goto(`${this.baseUrl}/?sale=${saleId}${token === undefined ? "" : `#token=${token}`}`);
    await page.locator('main[aria-busy="false"]').waitFor();
    return page;
  }

  /** Signs the shopper out (the shop's token lives in the origin's localStorage) and closes every page. */
  async signOut(): Promise<void> {
    const page = this.context.pages()[0] ?? (await this.context.newPage());
    await page.goto(`${this.baseUrl}/healthz`);
    await page.evaluate("localStorage.clear()");
    for (const open of this.context.pages()) await open.close();
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

/** Every outcome the page has shown, in order. */
export const outcomes = (page: Page) => page.evaluate<string[]>("window.outcomes");

export const waitForOutcome = (page: Page, outcome: string) =>
  page.locator(`#message[data-outcome="${outcome}"]`).waitFor({ timeout: OUTCOME_WAIT_MS });
