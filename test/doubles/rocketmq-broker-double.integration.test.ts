/**
 * The RocketMQ broker test double, driven by the real rocketmq-client-nodejs Producer and SimpleConsumer (through
 * the service's thin wrappers in app/rocketmq-client.ts, which only contain client shutdown defects).
 */
import pino from "pino";
import { BadRequestException, Endpoints, MessageView } from "rocketmq-client-nodejs";
import { ClientType, Code, Resource } from "rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb";
import { HeartbeatRequest } from "rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb";
import { RocketMqConnection, RocketMqProducer, RocketMqSimpleConsumer, clientOptions } from "../../app/orders/rocketmq-client";
import { RocketMqBrokerDouble, RocketMqBrokerDoubleOptions } from "./rocketmq-broker-double";

const logger = pino({ level: "silent" });
const TOPIC = "orders";
const GROUP = "order-writer";
const INVISIBLE_MS = 300;

const brokers: RocketMqBrokerDouble[] = [];
const clients: { shutdown(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
});

async function broker(options: Partial<RocketMqBrokerDoubleOptions> = {}) {
  const b = await RocketMqBrokerDouble.listen({
    topics: [TOPIC],
    consumerGroups: [{ name: GROUP, maxRetryTimes: 2 }],
    minInvisibleMs: 100,
    minLongPollingMs: 100,
    ...options,
  });
  brokers.push(b);
  return b;
}

const connection = (b: RocketMqBrokerDouble, extra: Partial<RocketMqConnection> = {}): RocketMqConnection => ({
  endpoints: b.endpoint,
  namespace: "",
  ...extra,
});

async function producer(b: RocketMqBrokerDouble, extra: Partial<RocketMqConnection> = {}) {
  const p = new RocketMqProducer({ ...clientOptions(connection(b, extra), logger), topic: TOPIC });
  clients.push(p);
  await p.startup();
  return p;
}

async function consumer(b: RocketMqBrokerDouble, group = GROUP, extra: Partial<RocketMqConnection> = {}) {
  const c = new RocketMqSimpleConsumer({
    ...clientOptions(connection(b, extra), logger),
    consumerGroup: group,
    subscriptions: new Map([[TOPIC, "*"]]),
    awaitDuration: 300,
  });
  clients.push(c);
  await c.startup();
  return c;
}

/** Receives until `count` messages arrived (each receive long-polls up to awaitDuration). */
async function receiveAtLeast(c: RocketMqSimpleConsumer, count: number): Promise<MessageView[]> {
  const got: MessageView[] = [];
  while (got.length < count) got.push(...(await c.receive(16, INVISIBLE_MS)));
  return got;
}

const send = (p: RocketMqProducer, key: string) =>
  p.send({ topic: TOPIC, keys: [key], tag: "order", body: Buffer.from(`{"orderId":"${key}"}`) });

describe("RocketMQ broker test double with the real Node client", () => {
  test("delivers a sent message with its key, tag, body and first delivery attempt", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS); // a new group's first receive fixes its start offset
    const receipt = await send(await producer(b), "o-1");

    const [message] = await receiveAtLeast(c, 1);

    expect(message.messageId).toBe(receipt.messageId);
    expect(message.keys).toEqual(["o-1"]);
    expect(message.tag).toBe("order");
    expect(message.body.toString()).toBe('{"orderId":"o-1"}');
    expect(message.deliveryAttempt).toBe(1);
    expect(message.corrupted).toBeFalsy();
    expect(b.messages(TOPIC).map((m) => m.keys)).toEqual([["o-1"]]);
  });

  test("a new consumer group starts at the queue's max offset at its first receive", async () => {
    const b = await broker({ consumerGroups: [GROUP, "late-group"] });
    const p = await producer(b);
    const early = await consumer(b);
    await early.receive(1, INVISIBLE_MS);
    await send(p, "before-late-group");
    const late = await consumer(b, "late-group");
    await late.receive(1, INVISIBLE_MS);
    await send(p, "after-late-group");

    expect((await receiveAtLeast(early, 2)).map((m) => m.keys[0]).sort()).toEqual(["after-late-group", "before-late-group"]);
    expect((await receiveAtLeast(late, 1)).map((m) => m.keys[0])).toEqual(["after-late-group"]);
  });

  test("every consumer group gets every message", async () => {
    const b = await broker({ consumerGroups: [GROUP, "payment"] });
    const writer = await consumer(b);
    const payment = await consumer(b, "payment");
    await Promise.all([writer.receive(1, INVISIBLE_MS), payment.receive(1, INVISIBLE_MS)]);
    await send(await producer(b), "o-2");

    expect((await receiveAtLeast(writer, 1))[0].keys).toEqual(["o-2"]);
    expect((await receiveAtLeast(payment, 1))[0].keys).toEqual(["o-2"]);
  });

  test("an unacked message comes back after its invisible time with the next delivery attempt", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    await send(await producer(b), "o-3");

    const first = await receiveAtLeast(c, 1);
    const second = await receiveAtLeast(c, 1);

    expect(second[0].messageId).toBe(first[0].messageId);
    expect(second[0].deliveryAttempt).toBe(2);
    expect(second[0].receiptHandle).not.toBe(first[0].receiptHandle);
  });

  test("an acked message is never delivered again", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    const p = await producer(b);
    await send(p, "o-4");
    const [message] = await receiveAtLeast(c, 1);
    await c.ack(message);
    await send(p, "o-5");

    const next = await receiveAtLeast(c, 1);

    expect(next.map((m) => m.keys[0])).toEqual(["o-5"]);
    expect(b.inFlight(TOPIC, GROUP)).toBe(1);
  });

  test("acking with a handle whose invisible time expired is refused", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    await send(await producer(b), "o-6");
    const [message] = await receiveAtLeast(c, 1);
    await new Promise((resolve) => setTimeout(resolve, INVISIBLE_MS + 50));

    await expect(c.ack(message)).rejects.toThrow(BadRequestException);
  });

  test("changeInvisibleDuration hands out a new receipt handle that acks the message", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    await send(await producer(b), "o-7");
    const [message] = await receiveAtLeast(c, 1);
    const firstHandle = message.receiptHandle;

    await c.changeInvisibleDuration(message, 5000);
    await c.ack(message);

    expect(message.receiptHandle).not.toBe(firstHandle);
    expect(b.inFlight(TOPIC, GROUP)).toBe(0);
  });

  test("after maxRetryTimes + 1 deliveries the message moves to the group's dead-letter queue", async () => {
    const b = await broker({ consumerGroups: [{ name: GROUP, maxRetryTimes: 2 }] });
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    await send(await producer(b), "poison");

    const attempts = [];
    for (let i = 0; i < 3; i++) attempts.push((await receiveAtLeast(c, 1))[0].deliveryAttempt);
    while (b.deadLetters(GROUP).length === 0) expect(await c.receive(1, INVISIBLE_MS)).toEqual([]);

    expect(attempts).toEqual([1, 2, 3]);
    expect(b.deadLetters(GROUP).map((d) => [d.message.keys[0], d.deliveryAttempts])).toEqual([["poison", 3]]);
  });

  test("a broker restart keeps stored messages and consumer progress; both clients carry on", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    const p = await producer(b);
    await send(p, "before-restart");
    await c.ack((await receiveAtLeast(c, 1))[0]);
    await send(p, "unacked-at-restart");

    await b.stop();
    await b.resume();
    await retry(() => send(p, "after-restart"));

    const keys = (await retry(() => receiveAtLeast(c, 2))).map((m) => m.keys[0]).sort();
    expect(keys).toEqual(["after-restart", "unacked-at-restart"]);
  });

  test("a restart that loses the broker's memory loses unconsumed messages", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    await send(await producer(b), "lost");

    await b.stop();
    await b.resume({ loseMessages: true });

    expect(b.messages(TOPIC)).toEqual([]);
  });

  test("client bug #1093 is harmless while queue 0 is read-write: the double spreads sends over all queues and pops them all", async () => {
    const b = await broker({ topics: [{ name: TOPIC, readQueueNums: 4, writeQueueNums: 4 }], brokerNames: ["broker-a", "broker-b"] });
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    const p = await producer(b);
    for (let i = 0; i < 8; i++) await send(p, `o-${i}`);

    expect(new Set(b.messages(TOPIC).map((m) => m.queueId))).toEqual(new Set([0, 1, 2, 3]));
    expect((await receiveAtLeast(c, 8)).length).toBe(8);
  });

  test("client bug #1093 bites when queue 0 is read-only: the producer finds no writable queue", async () => {
    const b = await broker({ topics: [{ name: TOPIC, readQueueNums: 8, writeQueueNums: 4 }] });
    const p = await producer(b);

    // The client means to say "No writable message queue found", but randomInt(0) throws first.
    await expect(send(p, "o-1")).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
  });

  test("a client without the instance namespace cannot find the topic", async () => {
    const b = await broker({ namespace: "rmq-cn-test" });

    await expect(producer(b)).rejects.toThrow(/Startup the rocketmq client failed/);
    const p = await producer(b, { namespace: "rmq-cn-test" });
    expect((await send(p, "o-1")).messageId).toBeTruthy();
  });

  test("with credentials configured, only signed clients get in", async () => {
    const b = await broker({ credentials: { accessKey: "user", accessSecret: "secret" } });

    await expect(producer(b, { credentials: { username: "user", password: "wrong" } })).rejects.toThrow();
    const p = await producer(b, { credentials: { username: "user", password: "secret" } });
    expect((await send(p, "o-1")).messageId).toBeTruthy();
  });

  test("a receive whose deadline is shorter than the minimum polling time is refused, as by the proxy", async () => {
    const b = await broker({ minLongPollingMs: 5000 });
    const c = await consumer(b);

    await expect(c.receive(1, INVISIBLE_MS)).rejects.toThrow(BadRequestException);
  });

  test("a heartbeat (the clients send one every 10 s) is recorded under its consumer group once the client's settings are synced", async () => {
    const b = await broker();
    const c = await consumer(b);
    const heartbeat = new HeartbeatRequest().setClientType(ClientType.SIMPLE_CONSUMER).setGroup(new Resource().setName(GROUP));

    const answer = await c.getRpcClientManager().heartbeat(new Endpoints(b.endpoint), heartbeat, 3000);

    expect(answer.getStatus()?.getCode()).toBe(Code.OK);
    expect([...b.clients.values()]).toEqual([
      { clientId: c.clientId, clientType: "SIMPLE_CONSUMER", group: GROUP, heartbeats: 1, terminated: false },
    ]);
  });

  test("a heartbeat from a client the broker has no settings for (it terminated) is refused as unrecognized", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.shutdown();
    const heartbeat = new HeartbeatRequest().setClientType(ClientType.SIMPLE_CONSUMER).setGroup(new Resource().setName(GROUP));

    const answer = await c.getRpcClientManager().heartbeat(new Endpoints(b.endpoint), heartbeat, 3000);
    c.getRpcClientManager().close();

    expect(answer.getStatus()?.getCode()).toBe(Code.UNRECOGNIZED_CLIENT_TYPE);
  });

  test("the client calls only RPCs the double implements, and says goodbye on shutdown", async () => {
    const b = await broker();
    const c = await consumer(b);
    await c.receive(1, INVISIBLE_MS);
    const p = await producer(b);
    await send(p, "o-1");
    const [message] = await receiveAtLeast(c, 1);
    await c.changeInvisibleDuration(message, 1000);
    await c.ack(message);
    await Promise.all(clients.splice(0).map((client) => client.shutdown()));

    expect(b.unimplementedCalls).toEqual([]);
    expect([...b.rpcCalls.keys()].sort()).toEqual([
      "AckMessage",
      "ChangeInvisibleDuration",
      "NotifyClientTermination",
      "QueryRoute",
      "ReceiveMessage",
      "SendMessage",
      "Telemetry",
    ]);
  });
});

/** Calls made right after a restart may fail until the client's channel reconnects; the client itself retries some. */
async function retry<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
