/**
 * The RocketMQ order consumer (ORDER_QUEUE=rocketmq): the real SimpleConsumer against the broker test double,
 * orders confirmed in the real MariaDB through the same writeOrderBatch as the Redis path.
 */
import type { Pool } from "mysql2/promise";
import pino from "pino";
import { RocketMqProducer, RocketMqSimpleConsumer, clientOptions } from "../../../app/orders/rocketmq-client";
import { RocketMqOrderConsumer, orderMessageBody } from "../../../app/orders/rocketmq-order-consumer";
import { newSaleId, type Sale } from "../../../app/sales/sale";
import { countOrders, insertSale } from "../../../app/sales/sale-store";
import { createMysqlPool } from "../../../app/platform/mysql";
import { migrate } from "../../../app/platform/migrations";
import { writeOrderBatch, type OrderEvent } from "../../../app/orders/order-store";
import { RocketMqBrokerDouble } from "../../doubles/rocketmq-broker-double";
import { captureLogs } from "../support/log-capture";
import { orderIdFor } from "../support/order-ids";
import { createTestResources, MYSQL_HOST, MYSQL_PORT, type TestResources } from "../support/resources";
import { TcpProxy } from "../support/tcp-proxy";
import { waitUntil } from "../support/wait";

const TOPIC = "seckill-orders";
const GROUP = "seckill-order-writer";
const HOUR = 3_600_000;
const quiet = pino({ level: "silent" });

let resources: TestResources;
let broker: RocketMqBrokerDouble;
let producer: RocketMqProducer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  resources = await createTestResources();
  await migrate(resources.pool);
});

beforeEach(async () => {
  broker = await RocketMqBrokerDouble.listen({
    topics: [TOPIC],
    consumerGroups: [{ name: GROUP, maxRetryTimes: 2 }],
    minInvisibleMs: 100,
    minLongPollingMs: 100,
  });
  producer = new RocketMqProducer({ ...clientOptions({ endpoints: broker.endpoint, namespace: "" }, quiet), topic: TOPIC });
  await producer.startup();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await producer.shutdown();
  await broker.stop();
});

afterAll(async () => {
  await resources.dispose();
});

async function simpleConsumer(group = GROUP): Promise<RocketMqSimpleConsumer> {
  const consumer = new RocketMqSimpleConsumer({
    ...clientOptions({ endpoints: broker.endpoint, namespace: "" }, quiet),
    consumerGroup: group,
    subscriptions: new Map([[TOPIC, "*"]]),
    awaitDuration: 300,
  });
  await consumer.startup();
  cleanups.push(() => consumer.shutdown());
  return consumer;
}

async function startOrderConsumer(pool: Pool = resources.pool) {
  const logs = captureLogs();
  const orderConsumer = new RocketMqOrderConsumer({
    consumer: await simpleConsumer(),
    pool,
    logger: logs.logger,
    invisibleDurationMs: 1000,
    retryDelayMs: () => 200,
  });
  orderConsumer.start();
  cleanups.push(() => orderConsumer.stop());
  await orderConsumer.ready;
  return { orderConsumer, logs };
}

async function newSale(stock: number): Promise<Sale> {
  const now = Date.now();
  const sale: Sale = { id: newSaleId(), itemName: "Phone", stock, sold: 0, startsAt: now - HOUR, endsAt: now + HOUR };
  await insertSale(resources.pool, sale);
  return sale;
}

const order = (sale: Sale, n: number): OrderEvent => ({
  orderId: orderIdFor(sale.id, `buyer${n}`),
  saleId: sale.id,
  userId: `buyer${n}`,
  reservedAt: Date.now(),
});
const send = (event: OrderEvent) => producer.send({ topic: TOPIC, keys: [event.orderId], body: orderMessageBody(event) });
const sendRaw = (body: string) => producer.send({ topic: TOPIC, keys: ["not-an-order"], body: Buffer.from(body) });

async function soldOf(sale: Sale): Promise<number> {
  const [[row]] = await resources.pool.query<any[]>("SELECT sold FROM sales WHERE id = ?", [sale.id]);
  return Number(row.sold);
}

describe("RocketMQ order consumer", () => {
  test("confirms every order message in MySQL and acks each one after its commit", async () => {
    await startOrderConsumer();
    const sale = await newSale(50);
    for (let n = 1; n <= 40; n++) await send(order(sale, n));

    await waitUntil(async () => (await countOrders(resources.pool, sale.id)) === 40, "40 orders in MySQL");
    await waitUntil(() => broker.inFlight(TOPIC, GROUP) === 0, "every message acked");
    expect(await soldOf(sale)).toBe(40);
  });

  test("a message sent twice (the relay retried) still makes one order", async () => {
    await startOrderConsumer();
    const sale = await newSale(5);
    const event = order(sale, 1);
    await send(event);
    await send(event);

    await waitUntil(() => broker.messages(TOPIC).length === 2 && broker.inFlight(TOPIC, GROUP) === 0, "both messages acked");
    expect(await countOrders(resources.pool, sale.id)).toBe(1);
    expect(await soldOf(sale)).toBe(1);
  });

  test("a consumer killed after its commit and before its ack: the message is redelivered and confirmed once", async () => {
    const sale = await newSale(5);
    const doomed = await simpleConsumer();
    await doomed.receive(1, 500); // the group's first receive fixes its position on the topic
    await send(order(sale, 1));
    let received;
    do received = await doomed.receive(1, 500);
    while (received.length === 0);
    await writeOrderBatch(resources.pool, [JSON.parse(received[0].body.toString())]);
    await doomed.shutdown(); // gone without acking

    await startOrderConsumer();

    await waitUntil(() => broker.inFlight(TOPIC, GROUP) === 0, "the redelivered message acked");
    expect(await countOrders(resources.pool, sale.id)).toBe(1);
    expect(await soldOf(sale)).toBe(1);
    expect(broker.deadLetters(GROUP)).toEqual([]);
  });

  test("while MySQL is unreachable messages wait; once it is back every order is confirmed and none is dead-lettered", async () => {
    const proxy = await TcpProxy.start({ host: MYSQL_HOST, port: MYSQL_PORT });
    const pool = createMysqlPool({ ...resources.config().mysql, port: proxy.port }, 2);
    cleanups.push(
      () => proxy.close(),
      () => pool.end(),
    );
    const { logs } = await startOrderConsumer(pool);
    const sale = await newSale(20);

    await proxy.cut();
    for (let n = 1; n <= 10; n++) await send(order(sale, n));
    await waitUntil(() => logs.lines.some((line) => line.msg.startsWith("MySQL unavailable")), "the consumer to notice the outage");
    await new Promise((resolve) => setTimeout(resolve, 1500)); // longer than the messages' invisible duration
    await proxy.restore();

    await waitUntil(async () => (await countOrders(resources.pool, sale.id)) === 10, "10 orders once MySQL is back");
    await waitUntil(() => broker.inFlight(TOPIC, GROUP) === 0, "every message acked");
    expect(broker.deadLetters(GROUP)).toEqual([]);
  });

  test("a malformed message is never acked: after the group's retry limit it is in the dead-letter queue, with error logs", async () => {
    const { logs } = await startOrderConsumer();
    const sale = await newSale(5);
    await sendRaw('{"orderId": "nonsense"}');
    await send(order(sale, 1));

    await waitUntil(() => broker.deadLetters(GROUP).length === 1, "the malformed message dead-lettered");
    expect(broker.deadLetters(GROUP)[0]).toMatchObject({ message: { keys: ["not-an-order"] }, deliveryAttempts: 3 });
    expect(logs.lines.filter((line) => line.level === 50 && line.msg.startsWith("order message failed"))).toHaveLength(3);
    expect(await countOrders(resources.pool, sale.id)).toBe(1);
  });

  test("an order MySQL refuses for good (unknown sale) is dead-lettered without holding back the rest of its batch", async () => {
    await startOrderConsumer();
    const sale = await newSale(5);
    const stranger = { ...order(sale, 9), orderId: orderIdFor("fedcba9876543210", "buyer9"), saleId: "fedcba9876543210" };
    await send(order(sale, 1));
    await send(stranger);
    await send(order(sale, 2));

    await waitUntil(() => broker.deadLetters(GROUP).length === 1, "the refused order dead-lettered");
    expect(broker.deadLetters(GROUP)[0].message.keys).toEqual([stranger.orderId]);
    expect(await countOrders(resources.pool, sale.id)).toBe(2);
  });

  test("a consumer group the broker does not know fails the start with the broker's reason", async () => {
    const orderConsumer = new RocketMqOrderConsumer({
      consumer: await simpleConsumer("no-such-group"),
      pool: resources.pool,
      logger: quiet,
    });
    orderConsumer.start();
    cleanups.push(() => orderConsumer.stop());

    await expect(orderConsumer.ready).rejects.toThrow(/consumer group no-such-group does not exist/);
  });
});
