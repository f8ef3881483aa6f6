/**
 * The relay from the Redis outbox (each sale's order stream) to RocketMQ, end to end: real Redis and MariaDB, the
 * real Node client against the broker test double, the order consumer writing MySQL on the other side.
 */
import pino from "pino";
import { OrderWriter } from "../../../app/orders/order-writer";
import { bucketKeys, ORDER_WRITER_GROUP, saleKeys } from "../../../app/sales/reservations";
import { RocketMqProducer, RocketMqSimpleConsumer, clientOptions } from "../../../app/orders/rocketmq-client";
import { RocketMqOrderConsumer } from "../../../app/orders/rocketmq-order-consumer";
import { ORDER_RESERVED_TAG, RocketMqRelay } from "../../../app/orders/rocketmq-relay";
import type { Sale } from "../../../app/sales/sale";
import { countOrders, insertSale } from "../../../app/sales/sale-store";
import { type OrderEvent } from "../../../app/orders/order-store";
import { parseOrderEvent } from "../../../app/orders/order-store";
import { RocketMqBrokerDouble } from "../../doubles/rocketmq-broker-double";
import { orderIdFor } from "../support/order-ids";
import { captureLogs } from "../support/log-capture";
import { openSale } from "../support/sales";
import { waitUntil } from "../support/wait";
import { dataTierForTestFile } from "../support/data-tier";

const tier = dataTierForTestFile();

const TOPIC = "seckill-orders";
const GROUP = "seckill-order-writer";
const quiet = pino({ level: "silent" });

let broker: RocketMqBrokerDouble;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  broker = await RocketMqBrokerDouble.listen({
    topics: [TOPIC],
    consumerGroups: [{ name: GROUP, maxRetryTimes: 2 }],
    minInvisibleMs: 100,
    minLongPollingMs: 100,
  });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await broker.stop();
});

const connection = () => ({ endpoints: broker.endpoint, namespace: "" });

async function startProducer(): Promise<RocketMqProducer> {
  const producer = new RocketMqProducer({ ...clientOptions(connection(), quiet), topic: TOPIC });
  await producer.startup();
  cleanups.push(() => producer.shutdown());
  return producer;
}

/** The order consumer, started first: its group's first receive fixes where the group starts reading the topic. */
async function startOrderConsumer() {
  const consumer = new RocketMqSimpleConsumer({
    ...clientOptions(connection(), quiet),
    consumerGroup: GROUP,
    subscriptions: new Map([[TOPIC, "*"]]),
    awaitDuration: 300,
  });
  await consumer.startup();
  cleanups.push(() => consumer.shutdown());
  const orderConsumer = new RocketMqOrderConsumer({
    consumer,
    pool: tier.resources.pool,
    logger: quiet,
    invisibleDurationMs: 1000,
    retryDelayMs: () => 200,
  });
  orderConsumer.start();
  cleanups.push(() => orderConsumer.stop());
  await orderConsumer.ready;
}

async function startRelay(options: { consumer?: string; claimIdleMs?: number } = {}) {
  const logs = captureLogs();
  const relay = new RocketMqRelay({ producer: await startProducer(), topic: TOPIC, logger: logs.logger, backoffMs: 20 });
  const writer = new OrderWriter({
    redis: tier.redis,
    pool: tier.resources.pool,
    keyPrefix: tier.resources.keyPrefix,
    consumer: options.consumer ?? "relay-a",
    logger: logs.logger,
    destination: relay,
    idleDelayMs: 20,
    claimIdleMs: options.claimIdleMs,
  });
  writer.start();
  cleanups.push(() => writer.stop());
  return { relay, logs };
}

async function newSale(stock: number, stockBuckets = 1): Promise<Sale> {
  const sale = openSale(stock, stockBuckets);
  await insertSale(tier.resources.pool, sale);
  await tier.reservations.loadSale(sale);
  return sale;
}

async function reserve(sale: Sale, buyers: number, prefix = "buyer"): Promise<string[]> {
  const outcomes = await Promise.all(Array.from({ length: buyers }, (_, i) => tier.reservations.reserve(sale.id, `${prefix}${i}`)));
  return outcomes.map((outcome) => ("orderId" in outcome ? outcome.orderId : "")).filter(Boolean);
}

const streamLength = (sale: Sale) => tier.redis.xlen(saleKeys(tier.resources.keyPrefix, sale.id).orders);
const relayedKeys = () => broker.messages(TOPIC).map((m) => m.keys[0]);

describe("relay from the Redis outbox to RocketMQ", () => {
  test("every reserved order reaches the topic keyed by its order id, and through the order consumer, MySQL; the outbox drains", async () => {
    await startOrderConsumer();
    await startRelay();
    const sale = await newSale(100);
    const orderIds = await reserve(sale, 60);

    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 60, "60 orders confirmed in MySQL");
    expect(relayedKeys().sort()).toEqual([...orderIds].sort());
    expect(broker.messages(TOPIC).every((m) => m.tag === ORDER_RESERVED_TAG)).toBe(true);
    await waitUntil(async () => (await streamLength(sale)) === 0, "the outbox entries acknowledged and deleted");
  });

  test("relays and confirms the orders of every stock bucket of a sale, each once", async () => {
    await startOrderConsumer();
    await startRelay();
    const sale = await newSale(40, 8);
    const orderIds = await reserve(sale, 50);
    expect(orderIds).toHaveLength(40);

    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 40, "40 orders confirmed in MySQL");
    expect(relayedKeys().sort()).toEqual([...orderIds].sort());
    for (let bucket = 0; bucket < 8; bucket++) {
      const orders = bucketKeys(tier.resources.keyPrefix, sale.id, bucket).orders;
      await waitUntil(async () => (await tier.redis.xlen(orders)) === 0, `bucket ${bucket}'s outbox drained`);
    }
  });

  test("a message body is the order event as JSON, for other subscribers too", async () => {
    await startOrderConsumer();
    await startRelay();
    const sale = await newSale(1);
    const [orderId] = await reserve(sale, 1);

    await waitUntil(() => broker.messages(TOPIC).length === 1, "the order relayed");
    const body = JSON.parse(broker.messages(TOPIC)[0].body.toString());
    expect(body).toEqual({ orderId, saleId: sale.id, userId: "buyer0", reservedAt: expect.any(Number) });
  });

  test("a broker restart mid-flow loses nothing and doubles nothing: entries wait in the outbox until it is back", async () => {
    await startOrderConsumer();
    const { logs } = await startRelay();
    const sale = await newSale(100);
    await reserve(sale, 20, "early");
    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 20, "the first 20 orders confirmed");

    await broker.stop();
    await reserve(sale, 30, "late");
    await waitUntil(
      () => logs.lines.some((line) => line.msg.startsWith("sending an order to RocketMQ failed")),
      "the relay to hit the outage",
    );
    expect(await streamLength(sale)).toBe(30);
    await broker.resume();

    await waitUntil(async () => (await countOrders(tier.resources.pool, sale.id)) === 50, "all 50 orders confirmed", 60_000);
    await waitUntil(async () => (await streamLength(sale)) === 0, "the outbox drained");
    expect(await tier.redis.xlen(saleKeys(tier.resources.keyPrefix, sale.id).deadLetters)).toBe(0);
  });

  test("a relay killed after sending and before acknowledging: its entries are sent again, and each order is still made once", async () => {
    await startOrderConsumer();
    const sale = await newSale(10);
    const orderIds = await reserve(sale, 5);
    // The dead relay: read the entries as "relay-dead", sent them, never acknowledged.
    const keys = saleKeys(tier.resources.keyPrefix, sale.id);
    const [[, entries]] = (await tier.redis.call(
      "XREADGROUP",
      "GROUP",
      ORDER_WRITER_GROUP,
      "relay-dead",
      "COUNT",
      100,
      "STREAMS",
      keys.orders,
      ">",
    )) as [string, [string, string[]][]][];
    const events = entries.map(([, fields]) => parseOrderEvent(fields)) as OrderEvent[];
    await new RocketMqRelay({ producer: await startProducer(), topic: TOPIC, logger: quiet }).deliver(events);

    await startRelay({ consumer: "relay-b", claimIdleMs: 100 });

    await waitUntil(async () => (await streamLength(sale)) === 0, "the abandoned entries claimed, sent again and acknowledged");
    expect(relayedKeys().sort()).toEqual([...orderIds, ...orderIds].sort());
    await waitUntil(() => broker.inFlight(TOPIC, GROUP) === 0 && broker.messages(TOPIC).length === 10, "both copies consumed");
    expect(await countOrders(tier.resources.pool, sale.id)).toBe(5);
    const [[row]] = await tier.resources.pool.query<any[]>("SELECT sold FROM sales WHERE id = ?", [sale.id]);
    expect(Number(row.sold)).toBe(5);
  });

  test("a send that fails its bounded attempts rejects the whole batch as transient, so its entries stay pending", async () => {
    const logs = captureLogs();
    const relay = new RocketMqRelay({ producer: await startProducer(), topic: TOPIC, logger: logs.logger, maxAttempts: 3, backoffMs: 10 });
    await broker.stop();
    const sale = await newSale(1);
    const event: OrderEvent = { orderId: orderIdFor(sale.id, "buyer0"), saleId: sale.id, userId: "buyer0", reservedAt: Date.now() };

    await expect(relay.deliver([event])).rejects.toBeDefined();

    expect(relay.isTransient()).toBe(true);
    expect(logs.lines.filter((line) => line.msg.startsWith("sending an order to RocketMQ failed")).map((line) => line.attempt)).toEqual([
      1, 2,
    ]);
  });
});
