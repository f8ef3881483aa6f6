/** The RocketMQ and Nacos part of the service configuration (ORDER_QUEUE=rocketmq, ROCKETMQ_*, NACOS_*). */
import { loadConfig } from "../../../app/platform/config";
import { problemsOf } from "../support/config-problems";

const base = {
  REDIS_URL: "redis://127.0.0.1:6379",
  MYSQL_URL: "mysql://seckill:pass@db.internal:3306/seckill",
  SECKILL_ADMIN_TOKEN: "a".repeat(32),
  SECKILL_USER_TOKEN_SECRET: "s".repeat(32),
};
/** What the stack writes into the user data. */
const rocketmq = {
  ...base,
  ORDER_QUEUE: "rocketmq",
  ROCKETMQ_ENDPOINTS: "rmq-cn-abc123.cn-hangzhou.rmq.aliyuncs.com:8080",
  ROCKETMQ_NAMESPACE: "rmq-cn-abc123",
  ROCKETMQ_TOPIC: "seckill-prod-orders",
  ROCKETMQ_EVENTS_TOPIC: "seckill-prod-order-events",
  ROCKETMQ_CONSUMER_GROUP: "seckill-prod-order-writer",
  NACOS_SERVER_ADDR: "mse-1234-nacos-ans.mse.aliyuncs.com:8848",
  NACOS_GROUP: "prod",
};

describe("RocketMQ and Nacos configuration", () => {
  test("reads what the stack sets: the order queue, its endpoint, namespace, topic and group, and Nacos", () => {
    const config = loadConfig(rocketmq);

    expect(config.orderQueue).toBe("rocketmq");
    expect(config.rocketmq).toEqual({
      connection: { endpoints: "rmq-cn-abc123.cn-hangzhou.rmq.aliyuncs.com:8080", namespace: "rmq-cn-abc123", credentials: undefined },
      topic: "seckill-prod-orders",
      eventsTopic: "seckill-prod-order-events",
      consumerGroup: "seckill-prod-order-writer",
    });
    expect(config.nacos).toEqual({ serverAddr: "mse-1234-nacos-ans.mse.aliyuncs.com:8848", group: "prod", namespace: undefined });
  });

  test("credentials are optional and come as a pair; the namespace may be empty (open-source RocketMQ)", () => {
    const config = loadConfig({ ...rocketmq, ROCKETMQ_NAMESPACE: "", ROCKETMQ_USERNAME: "user", ROCKETMQ_PASSWORD: "secret" });

    expect(config.rocketmq?.connection).toEqual({
      endpoints: rocketmq.ROCKETMQ_ENDPOINTS,
      namespace: "",
      credentials: { username: "user", password: "secret" },
    });
  });

  test("without ORDER_QUEUE=rocketmq and NACOS_SERVER_ADDR there is no RocketMQ and no Nacos (environment defaults)", () => {
    const config = loadConfig(base);

    expect(config.rocketmq).toBeUndefined();
    expect(config.nacos).toBeUndefined();
  });

  test.each([
    ["ROCKETMQ_ENDPOINTS", "is required when ORDER_QUEUE=rocketmq", { ROCKETMQ_ENDPOINTS: undefined }],
    ["ROCKETMQ_TOPIC", "is required when ORDER_QUEUE=rocketmq", { ROCKETMQ_TOPIC: "" }],
    ["ROCKETMQ_EVENTS_TOPIC", "is required when ORDER_QUEUE=rocketmq", { ROCKETMQ_EVENTS_TOPIC: "" }],
    ["ROCKETMQ_CONSUMER_GROUP", "is required when ORDER_QUEUE=rocketmq", { ROCKETMQ_CONSUMER_GROUP: undefined }],
    ["ROCKETMQ_ENDPOINTS", "must be host:port", { ROCKETMQ_ENDPOINTS: "rmq.example.com" }],
    ["ROCKETMQ_ENDPOINTS", "must be host:port", { ROCKETMQ_ENDPOINTS: "rmq.example.com:99999" }],
    ["ROCKETMQ_TOPIC", "must be 1 to 64 characters", { ROCKETMQ_TOPIC: "orders topic" }],
    ["ROCKETMQ_PASSWORD", "is required with ROCKETMQ_USERNAME", { ROCKETMQ_USERNAME: "user" }],
    ["ROCKETMQ_USERNAME", "is required with ROCKETMQ_PASSWORD", { ROCKETMQ_PASSWORD: "secret" }],
    ["NACOS_GROUP", "is required with NACOS_SERVER_ADDR", { NACOS_GROUP: undefined }],
    ["NACOS_SERVER_ADDR", "must be host:port", { NACOS_SERVER_ADDR: "http://nacos:8848" }],
    ["NACOS_GROUP", "must be 1 to 128 characters", { NACOS_GROUP: "prod/blue" }],
    ["ORDER_QUEUE", 'must be "redis" or "rocketmq"', { ORDER_QUEUE: "kafka" }],
  ])("refuses to start: %s %s", (variable, message, change) => {
    const problems = problemsOf({ ...rocketmq, ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable} ${escape(message)}`));
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
