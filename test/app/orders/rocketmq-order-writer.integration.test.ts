/** The order writer process with ORDER_QUEUE=rocketmq, started in-process against the broker test double. */
import pino from "pino";
import { startRocketMqOrderWriter } from "../../../app/orders/rocketmq-order-writer";
import { RocketMqBrokerDouble } from "../../doubles/rocketmq-broker-double";
import { dataTierForTestFile } from "../support/data-tier";

const TOPIC = "seckill-orders";
const EVENTS_TOPIC = "seckill-order-events";
const GROUP = "seckill-order-writer";
const quiet = pino({ level: "silent" });

const tier = dataTierForTestFile();
let broker: RocketMqBrokerDouble;

beforeEach(async () => {
  broker = await RocketMqBrokerDouble.listen({ topics: [TOPIC, EVENTS_TOPIC], consumerGroups: [GROUP], minLongPollingMs: 100 });
});

afterEach(async () => {
  await broker.stop();
});

function config() {
  return tier.resources.config({
    ORDER_QUEUE: "rocketmq",
    ROCKETMQ_ENDPOINTS: broker.endpoint,
    ROCKETMQ_NAMESPACE: "",
    ROCKETMQ_TOPIC: TOPIC,
    ROCKETMQ_EVENTS_TOPIC: EVENTS_TOPIC,
    ROCKETMQ_CONSUMER_GROUP: GROUP,
  });
}

describe("starting the RocketMQ order writer", () => {
  it("fails, naming what hung, when the broker never completes the client handshake, instead of waiting for ever", async () => {
    broker.withholdSettings = true;
    const { rocketmq } = config();
    await expect(startRocketMqOrderWriter(config(), rocketmq!, quiet, { startTimeoutMs: 3000 })).rejects.toThrow(
      "starting the RocketMQ clients timed out after 3000 ms",
    );
  });

  it("starts once the broker answers, and stops cleanly", async () => {
    const { rocketmq } = config();
    const running = await startRocketMqOrderWriter(config(), rocketmq!, quiet, { startTimeoutMs: 30_000 });
    await running.stop();
    expect(broker.unimplementedCalls).toEqual([]);
  });
});
