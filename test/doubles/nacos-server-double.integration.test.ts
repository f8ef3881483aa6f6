/** The Nacos HTTP API test double, driven by the real npm `nacos` config client and the service's registration calls. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { NacosConfigClient, NacosRegistration } from "../../app/platform/nacos";
import { NacosServerDouble } from "./nacos-server-double";

const DATA_ID = "seckill.json";
const GROUP = "staging";

const snapshotDir = mkdtempSync(path.join(tmpdir(), "nacos-double-test-"));
let nacos: NacosServerDouble;
const closers: (() => unknown)[] = [];

beforeEach(async () => {
  nacos = await NacosServerDouble.listen();
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await nacos.stop();
});

afterAll(() => rmSync(snapshotDir, { recursive: true, force: true }));

function configClient(namespace?: string): NacosConfigClient {
  const client = new NacosConfigClient({ serverAddr: nacos.address, namespace, group: GROUP }, pino({ level: "silent" }), snapshotDir);
  closers.push(() => client.close());
  return client;
}

/** Resolves with the next value the subscription delivers that satisfies `accept`. */
function nextValue(client: NacosConfigClient, accept: (content: string | null) => boolean = () => true): Promise<string | null> {
  return new Promise((resolve) => {
    const listener = (content: string | null) => {
      if (!accept(content)) return;
      client.unSubscribe({ dataId: DATA_ID, group: GROUP }, listener);
      resolve(content);
    };
    client.subscribe({ dataId: DATA_ID, group: GROUP }, listener);
  });
}

async function untilListening(count = 1) {
  while (nacos.listeners < count) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("Nacos server test double with the real nacos config client", () => {
  test("serves a published config and answers 404 (null) for a missing one", async () => {
    nacos.publishConfig(DATA_ID, GROUP, '{"ordersEnabled":true}');
    const client = configClient();

    expect(await client.getConfig(DATA_ID, GROUP, {})).toBe('{"ordersEnabled":true}');
    expect(await client.getConfig("other.json", GROUP, {})).toBeNull();
  });

  test("a subscriber gets the current content, then a change as soon as it is published", async () => {
    nacos.publishConfig(DATA_ID, GROUP, "v1");
    const client = configClient();
    expect(await nextValue(client)).toBe("v1");

    const changed = nextValue(client, (content) => content === "v2");
    await untilListening();
    nacos.publishConfig(DATA_ID, GROUP, "v2");

    expect(await changed).toBe("v2");
  });

  test("publish and remove through the client reach the double and the subscribers", async () => {
    const client = configClient();
    await client.publishSingle(DATA_ID, GROUP, "from-client");
    expect(nacos.config(DATA_ID, GROUP)).toBe("from-client");
    expect(await nextValue(client)).toBe("from-client");

    const removed = nextValue(client, (content) => content === null);
    await untilListening();
    await client.remove(DATA_ID, GROUP, {});

    expect(await removed).toBeNull();
  });

  test("configs are separated by namespace (tenant)", async () => {
    nacos.publishConfig(DATA_ID, GROUP, "in-staging-namespace", "ns-staging");

    expect(await configClient().getConfig(DATA_ID, GROUP, {})).toBeNull();
    expect(await configClient("ns-staging").getConfig(DATA_ID, GROUP, {})).toBe("in-staging-namespace");
  });

  test("a subscriber catches up on a change made while the server was down", async () => {
    nacos.publishConfig(DATA_ID, GROUP, "before");
    const client = configClient();
    expect(await nextValue(client)).toBe("before");
    await untilListening();

    await nacos.stop();
    nacos.publishConfig(DATA_ID, GROUP, "while-down");
    const caughtUp = nextValue(client, (content) => content === "while-down");
    await nacos.resume();

    expect(await caughtUp).toBe("while-down");
  });
});

describe("Nacos server test double with the service's registration (v1 naming API)", () => {
  const registration = (ip = "10.0.0.7") =>
    new NacosRegistration({ serverAddr: nacos.address, group: GROUP }, { service: "seckill", ip, port: 8080 }, pino({ level: "silent" }));

  test("registers and deregisters an instance under its group, discoverable through the list API", async () => {
    const instance = registration();
    await instance.register();

    expect(nacos.instances("seckill", GROUP).map((i) => [i.ip, i.port, i.healthy])).toEqual([["10.0.0.7", 8080, true]]);
    const listed = await fetch(
      `http://${nacos.address}/nacos/v1/ns/instance/list?serviceName=${GROUP}%40%40seckill&namespaceId=public`,
    ).then((r) => r.json());
    expect(listed.hosts.map((h: { ip: string; port: number }) => `${h.ip}:${h.port}`)).toEqual(["10.0.0.7:8080"]);

    await instance.deregister();
    expect(nacos.instances("seckill", GROUP)).toEqual([]);
  });

  test("the clients call no API the double does not implement", async () => {
    nacos.publishConfig(DATA_ID, GROUP, "v1");
    await nextValue(configClient());
    const instance = registration();
    await instance.register();
    await instance.deregister();

    expect(nacos.unknownRequests).toEqual([]);
  });
});

describe("Nacos server test double heartbeat semantics", () => {
  const beat = (ip: string, port: number) =>
    fetch(
      `http://${nacos.address}/nacos/v1/ns/instance/beat?${new URLSearchParams({
        namespaceId: "public",
        serviceName: `${GROUP}@@seckill`,
        beat: JSON.stringify({ ip, port, cluster: "DEFAULT" }),
      })}`,
      { method: "PUT" },
    ).then((res) => res.json());

  test("a beat for an instance the server forgot registers it again", async () => {
    expect(await beat("10.0.0.8", 8080)).toMatchObject({ code: 10200, clientBeatInterval: 5000 });

    expect(nacos.instances("seckill", GROUP).map((i) => [i.ip, i.beats])).toEqual([["10.0.0.8", 1]]);
  });

  test("an instance without beats turns unhealthy, then disappears", async () => {
    await nacos.stop();
    nacos = await NacosServerDouble.listen({ heartBeatTimeoutMs: 100, ipDeleteTimeoutMs: 300 });
    await beat("10.0.0.9", 8080);

    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(nacos.instances("seckill", GROUP).map((i) => i.healthy)).toEqual([false]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(nacos.instances("seckill", GROUP)).toEqual([]);
  });
});
