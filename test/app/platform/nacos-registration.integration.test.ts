/** The instance's registration in Nacos (service `seckill`, its IP and port), against the Nacos test double. */
import { isIPv4 } from "node:net";
import pino from "pino";
import { instanceIp, NacosRegistration } from "../../../app/platform/nacos";
import { NacosServerDouble, type NacosServerDoubleOptions } from "../../doubles/nacos-server-double";
import { waitUntil } from "../support/wait";

const GROUP = "staging";
const FAST_BEATS: NacosServerDoubleOptions = { clientBeatIntervalMs: 50, heartBeatTimeoutMs: 300, ipDeleteTimeoutMs: 600 };

let nacos: NacosServerDouble;
const registrations: NacosRegistration[] = [];

afterEach(async () => {
  await Promise.all(registrations.splice(0).map((r) => r.deregister()));
  await nacos.stop();
});

function registration(port = 8080) {
  const r = new NacosRegistration(
    { serverAddr: nacos.address, group: GROUP },
    { service: "seckill", ip: "10.1.2.3", port },
    pino({ level: "silent" }),
    50,
  );
  registrations.push(r);
  return r;
}

describe("registration in Nacos", () => {
  test("register makes the instance discoverable as a healthy instance of service seckill in the environment's group", async () => {
    nacos = await NacosServerDouble.listen();

    await registration().register();

    expect(nacos.instances("seckill", GROUP).map((i) => [i.ip, i.port, i.healthy, i.ephemeral])).toEqual([["10.1.2.3", 8080, true, true]]);
  });

  test("heartbeats keep the instance healthy past Nacos' heartbeat timeout", async () => {
    nacos = await NacosServerDouble.listen(FAST_BEATS);
    await registration().register();

    await waitUntil(() => nacos.instances("seckill", GROUP)[0]?.beats >= 20, "20 heartbeats (1 s, over three heartbeat timeouts)");

    expect(nacos.instances("seckill", GROUP).map((i) => i.healthy)).toEqual([true]);
  });

  test("deregister removes the instance at once and stops the heartbeats", async () => {
    nacos = await NacosServerDouble.listen(FAST_BEATS);
    const r = registration();
    await r.register();
    await r.deregister();

    expect(nacos.instances("seckill", GROUP)).toEqual([]);
    const beats = nacos.requests.filter((q) => q.path.endsWith("/beat")).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(nacos.requests.filter((q) => q.path.endsWith("/beat")).length).toBe(beats);
  });

  test("after a Nacos restart that forgot the instance, the next heartbeat registers it again", async () => {
    nacos = await NacosServerDouble.listen(FAST_BEATS);
    await registration().register();
    const port = Number(nacos.address.split(":")[1]);

    await nacos.stop();
    nacos = await NacosServerDouble.listen({ ...FAST_BEATS, port });

    await waitUntil(() => nacos.instances("seckill", GROUP).length === 1, "the instance registered again by its heartbeat");
  });

  test("with Nacos down at start, registering does not fail and the heartbeats register the instance once Nacos is up", async () => {
    nacos = await NacosServerDouble.listen(FAST_BEATS);
    await nacos.stop();

    await expect(registration().register()).resolves.toBeUndefined();
    await nacos.resume();

    await waitUntil(() => nacos.instances("seckill", GROUP).length === 1, "the instance registered by a heartbeat");
  });

  test("with Nacos unreachable, deregistering is logged and does not throw", async () => {
    nacos = await NacosServerDouble.listen();
    const r = registration();
    await r.register();
    await nacos.stop();

    await expect(r.deregister()).resolves.toBeUndefined();
  });

  test("the registered address is this machine's first non-internal IPv4 address", () => {
    expect(isIPv4(instanceIp())).toBe(true);
    expect(instanceIp()).not.toMatch(/^127\./);
  });
});
