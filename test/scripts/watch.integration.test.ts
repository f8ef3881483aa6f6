/**
 * `npm run watch` as an operator sees it: the built tool in a pseudo-terminal (tmux), reading the real service while a
 * crowd buys, read back with `tmux capture-pane`; then pointed at an address where nothing answers; each ended with
 * Ctrl-C.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { freePort } from "../../scripts/lib/local-services";
import { buyerNames, clickAll } from "../app/support/crowd-orders";
import { ADMIN_TOKEN } from "../app/support/resources";
import { ServiceHarness } from "../app/support/service-harness";
import { createSale } from "../app/support/shop-api";
import { waitUntil } from "../app/support/wait";
import { buildTool, PROJECT_DIR } from "./support/cli";

jest.setTimeout(180_000);

const tmuxAvailable = spawnSync("tmux", ["-V"]).status === 0;
if (!tmuxAvailable) console.log("skipped: the war room in a terminal (tmux is not installed; apt-get install tmux)");

/** This file's own tmux server: other tmux users on the machine are left alone. */
const SOCKET = `seckill-watch-test-${randomBytes(4).toString("hex")}`;
const tmux = (args: readonly string[]) =>
  execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8", env: { ...process.env, TERM: process.env.TERM ?? "xterm" } });

/**
 * One tmux session running the built watch tool. Ctrl-C reaches the pane's whole process group: `sh` ignores it with
 * a trap (which the tool does not inherit), reports the tool's exit code, and keeps the pane open to be read.
 */
class WatchInTerminal {
  readonly session = `watch-${randomBytes(4).toString("hex")}`;

  constructor(args: readonly string[]) {
    const command = [
      "env",
      `SECKILL_ADMIN_TOKEN=${ADMIN_TOKEN}`,
      process.execPath,
      path.join(PROJECT_DIR, "dist", "watch.js"),
      ...args,
    ].join(" ");
    tmux([
      "new-session",
      "-d",
      "-s",
      this.session,
      "-x",
      "120",
      "-y",
      "40",
      `sh -c 'trap : INT; ${command}; echo "watch exited with $?"; sleep 600'`,
    ]);
  }

  screen(): string {
    return tmux(["capture-pane", "-p", "-t", this.session]);
  }

  async waitForScreen(what: string, test: (screen: string) => boolean): Promise<string> {
    await waitUntil(() => test(this.screen()), `${what} on the screen:\n${this.screen()}`, 60_000);
    return this.screen();
  }

  interrupt(): void {
    tmux(["send-keys", "-t", this.session, "C-c"]);
  }

  close(): void {
    spawnSync("tmux", ["-L", SOCKET, "kill-session", "-t", this.session]);
  }
}

(tmuxAvailable ? describe : describe.skip)("npm run watch in a terminal", () => {
  const harness = ServiceHarness.forTestFile();
  const terminals: WatchInTerminal[] = [];

  beforeAll(() => buildTool("watch"));

  afterAll(() => {
    for (const terminal of terminals) terminal.close();
    spawnSync("tmux", ["-L", SOCKET, "kill-server"]);
  });

  it("shows a sale live under a crowd, every figure from the service, and ends cleanly on Ctrl-C", async () => {
    const { service, api } = await harness.startService({ WORKERS: "1" });
    const saleId = await createSale(api, 200);
    const terminal = new WatchInTerminal(["--url", service.baseUrl, "--order-limit-qps", "500"]);
    terminals.push(terminal);
    await terminal.waitForScreen("the sale's row", (screen) => screen.includes(saleId));

    const crowd = clickAll(api, saleId, buyerNames("watched", 600));
    const during = await terminal.waitForScreen("orders flowing", (screen) =>
      /ORDERS +[1-9][\d,.]*\/s +\[#*\.*\] \d+% of the ALB limit 500\/s/.test(screen),
    );
    expect(during).toMatch(/OUTCOMES +reserved [\d,.]+\/s \(\d+%\)/);
    console.log(`the war room under the crowd:\n${during}`);
    await crowd;

    const after = await terminal.waitForScreen("the sale sold out and confirmed", (screen) =>
      new RegExp(`${saleId} +200 +200 +200 +0 +0 +0`).test(screen),
    );
    expect(after).toMatch(/PIPELINE +writer lag [\d.]+ s +backlog \d+ +dead letters 0/);
    expect(after).toMatch(/FLEET +1 instance measured/);
    expect(after).not.toContain("UNREACHABLE");

    terminal.interrupt();
    const closed = await terminal.waitForScreen("the tool's exit", (screen) => screen.includes("watch exited with"));
    expect(closed).toContain("war room closed");
    expect(closed).toContain("watch exited with 0");
  });

  it("says the admin plane is unreachable and keeps retrying while nothing answers", async () => {
    const nothingThere = `http://127.0.0.1:${await freePort()}`;
    const terminal = new WatchInTerminal(["--url", nothingThere, "--sale", "s-not-there"]);
    terminals.push(terminal);
    const first = await terminal.waitForScreen("the warning", (screen) => screen.includes("ADMIN PLANE UNREACHABLE"));
    expect(first).toContain("!! retrying every second; nothing read yet");
    const firstTime = /war room .* (\d\d:\d\d:\d\dZ)/.exec(first)![1];
    // Redrawn, still retrying, a second later.
    await terminal.waitForScreen("a later attempt", (screen) => !screen.includes(firstTime) && screen.includes("ADMIN PLANE UNREACHABLE"));
    terminal.interrupt();
    const closed = await terminal.waitForScreen("the tool's exit", (screen) => screen.includes("watch exited with"));
    expect(closed).toContain("watch exited with 0");
  });
});
