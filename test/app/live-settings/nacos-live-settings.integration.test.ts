/** Live settings from Nacos (seckill.json in the environment's group), against the Nacos test double. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { LIVE_SETTINGS_DATA_ID, NacosLiveSettings } from "../../../app/live-settings/nacos-live-settings";
import { DEFAULT_SETTINGS, Settings } from "../../../app/live-settings/settings";
import { NacosServerDouble } from "../../doubles/nacos-server-double";
import { captureLogs } from "../support/log-capture";
import { waitUntil } from "../support/wait";

/** Nacos applies a change within this; the client's long poll is answered as soon as the config is published. */
const PROPAGATION_MS = 2000;

const snapshotDir = mkdtempSync(path.join(tmpdir(), "nacos-live-settings-test-"));
let nacos: NacosServerDouble;
let group: string;
const running: NacosLiveSettings[] = [];

beforeEach(async () => {
  nacos = await NacosServerDouble.listen();
  group = `test-${randomBytes(4).toString("hex")}`;
});

afterEach(async () => {
  for (const live of running.splice(0)) live.stop();
  await nacos.stop();
});

afterAll(() => rmSync(snapshotDir, { recursive: true, force: true }));

async function startLiveSettings() {
  const { logger, lines } = captureLogs();
  const settings = new Settings();
  const live = new NacosLiveSettings({
    connection: { serverAddr: nacos.address, group },
    settings,
    logger,
    defaults: { settings: DEFAULT_SETTINGS, logLevel: "info" },
    snapshotDir,
  });
  running.push(live);
  await live.start();
  return { settings, logger, lines };
}

const publish = (document: unknown) =>
  nacos.publishConfig(LIVE_SETTINGS_DATA_ID, group, typeof document === "string" ? document : JSON.stringify(document));

describe("live settings from Nacos", () => {
  test("start applies the document in Nacos: kill switch, per-user rate limit and log level", async () => {
    publish({ ordersEnabled: false, userOrderRateLimitPerSecond: 2, logLevel: "warn" });

    const { settings, logger } = await startLiveSettings();

    expect(settings.snapshot()).toEqual({ ordersEnabled: false, userOrderRateLimitPerSecond: 2 });
    expect(logger.level).toBe("warn");
  });

  test("without a document in Nacos the process runs on the environment defaults", async () => {
    const { settings, logger } = await startLiveSettings();

    expect(settings.snapshot()).toEqual(DEFAULT_SETTINGS);
    expect(logger.level).toBe("info");
  });

  test(`flipping the kill switch in Nacos stops new orders within ${PROPAGATION_MS} ms, without a restart`, async () => {
    publish({ ordersEnabled: true });
    const { settings } = await startLiveSettings();
    await waitUntil(() => nacos.listeners > 0, "the client to long-poll");

    publish({ ordersEnabled: false });

    await waitUntil(() => !settings.ordersEnabled, "orders to stop", PROPAGATION_MS);
  });

  test("fields left out of the document take the defaults", async () => {
    publish({ ordersEnabled: false, userOrderRateLimitPerSecond: 9 });
    const { settings } = await startLiveSettings();
    await waitUntil(() => nacos.listeners > 0, "the client to long-poll");

    publish({ userOrderRateLimitPerSecond: 9 });

    await waitUntil(() => settings.ordersEnabled, "the switch back to its default", PROPAGATION_MS);
    expect(settings.userOrderRateLimitPerSecond).toBe(9);
  });

  test.each([
    ["not JSON", '{"ordersEnabled": fals', /not JSON/],
    ["a rate limit out of range", { userOrderRateLimitPerSecond: 0 }, /userOrderRateLimitPerSecond/],
    ["a wrongly typed switch", { ordersEnabled: "no" }, /ordersEnabled/],
    ["an unknown (misspelt) field", { orderEnabled: false }, /orderEnabled/],
    ["an unknown log level", { logLevel: "verbose" }, /logLevel/],
  ])("a document with %s is rejected with a log line naming the problem; the last good settings stay", async (_name, bad, problem) => {
    publish({ ordersEnabled: false, userOrderRateLimitPerSecond: 3, logLevel: "warn" });
    const { settings, logger, lines } = await startLiveSettings();
    await waitUntil(() => nacos.listeners > 0, "the client to long-poll");

    publish(bad);
    const isRejection = (line: { msg: string }) => line.msg.startsWith("rejected live settings");
    await waitUntil(() => lines.some(isRejection), "the rejection", PROPAGATION_MS);
    const rejection = lines.find(isRejection)!;

    expect(rejection).toMatchObject({ level: 50, dataId: LIVE_SETTINGS_DATA_ID, group });
    expect(String(rejection.problem)).toMatch(problem);
    expect(settings.snapshot()).toEqual({ ordersEnabled: false, userOrderRateLimitPerSecond: 3 });
    expect(logger.level).toBe("warn");
  });

  test("removing the document from Nacos returns to the defaults", async () => {
    publish({ ordersEnabled: false });
    const { settings } = await startLiveSettings();
    await waitUntil(() => nacos.listeners > 0, "the client to long-poll");

    nacos.removeConfig(LIVE_SETTINGS_DATA_ID, group);

    await waitUntil(() => settings.ordersEnabled, "the defaults", PROPAGATION_MS);
  });

  test("with Nacos down at start the process serves on the defaults and applies the document once Nacos is back", async () => {
    publish({ ordersEnabled: false });
    await nacos.stop();

    const { settings } = await startLiveSettings();
    expect(settings.ordersEnabled).toBe(true);

    await nacos.resume();
    await waitUntil(() => !settings.ordersEnabled, "the document from Nacos", 15_000);
  });
});
