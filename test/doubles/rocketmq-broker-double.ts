/**
 * RocketMQ 5 broker TEST DOUBLE: a gRPC server speaking apache.rocketmq.v2.MessagingService (the proto files
 * shipped inside rocketmq-client-nodejs), modelled on the Apache RocketMQ 5 proxy in front of a broker, so the
 * real Node client (Producer, SimpleConsumer) runs unchanged against it. It is not a broker: one process, memory
 * only, no replication, no transactions, no FIFO ordering guarantees.
 *
 * Implemented RPCs and the semantics they keep (proxy/broker behaviour in brackets):
 * - QueryRoute: per broker name, queues laid out like the proxy does (read-only ids first, then write-only, then
 *   read-write; broker id 0 = master), every broker reachable at this double's endpoint (proxy mode).
 * - Telemetry: stores the client's settings and answers with the merged settings (producer: backoff policy, max body
 *   size 4 MiB, message type validation; consumer: max attempts = group retries + 1). A client that never gets this
 *   answer never finishes startup().
 * - Heartbeat / NotifyClientTermination: need the settings first [UNRECOGNIZED_CLIENT_TYPE otherwise].
 * - SendMessage: the double picks the queue round robin over the topic's writable queues, whatever queue the client
 *   named [proxy SendMessageQueueSelector]; offsets per queue; message type must match the topic.
 * - ReceiveMessage (server streaming: status, messages, delivery timestamp): pop semantics per consumer group.
 *   A group starts at the topic's max offset at its first receive [Apache "consumer progress": the initial offset is
 *   the max offset when the group first fetches]; a delivered message is invisible for the requested duration
 *   (bounded below by minInvisibleMs); when that expires it is delivered again with deliveryAttempt + 1; once it has
 *   been delivered maxRetryTimes + 1 times, the next pop moves it to the group's dead-letter queue instead
 *   [PopMessageResultFilter TO_DLQ]. Long polling holds the call up to the polling time (clamped to
 *   [minLongPollingMs, maxLongPollingMs], failing with BAD_REQUEST when the client's deadline is shorter than the
 *   minimum) and answers early when a message arrives or becomes visible. TAG filters only. Messages are taken from
 *   every queue of the named broker [proxy pops with queue id -1].
 * - AckMessage: a current receipt handle finishes the message for the group; an expired handle is
 *   INVALID_RECEIPT_HANDLE; a handle superseded by ChangeInvisibleDuration is OK but has no effect [broker].
 * - ChangeInvisibleDuration: new receipt handle, message visible again after the new duration.
 * - QueryAssignment (push consumers) and ForwardMessageToDeadLetterQueue.
 * Every other RPC answers gRPC UNIMPLEMENTED and is recorded in `unimplementedCalls`.
 *
 * Namespaces (the Alibaba Cloud instance id) are honoured: resources live in `namespace`, taken from the
 * x-mq-namespace header or the resource; with `credentials` set, requests must carry the client's
 * MQv2-HMAC-SHA1 signature. stop() drops connections and the proxy's session state (client settings), like a
 * process restart; resume() listens again on the same port, keeping the stored messages and consumer progress
 * (a broker's disk) unless asked to lose them.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export interface TopicSpec {
  name: string;
  messageType?: "NORMAL" | "FIFO" | "DELAY" | "TRANSACTION";
  readQueueNums?: number;
  writeQueueNums?: number;
}

export interface ConsumerGroupSpec {
  name: string;
  /** Redeliveries after the first delivery before a message goes to the dead-letter queue (Alibaba MaxRetryTimes). */
  maxRetryTimes?: number;
}

export interface RocketMqBrokerDoubleOptions {
  topics: (string | TopicSpec)[];
  consumerGroups: (string | ConsumerGroupSpec)[];
  namespace?: string;
  brokerNames?: string[];
  credentials?: { accessKey: string; accessSecret: string };
  port?: number;
  /** Proxy default 10 s (minInvisibleTimeMillsForRecv); tests lower it to keep redelivery fast. */
  minInvisibleMs?: number;
  /** Proxy defaults 5 s and 20 s (grpcClientConsumerMin/MaxLongPollingTimeoutMillis). */
  minLongPollingMs?: number;
  maxLongPollingMs?: number;
}

export interface StoredMessage {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly messageId: string;
  readonly body: Buffer;
  readonly tag?: string;
  readonly keys: string[];
  readonly userProperties: Record<string, string>;
  readonly messageType: string;
  readonly bornTimestamp: unknown;
  readonly bornHost: string;
  readonly storeTimestamp: number;
  readonly deliverAt: number;
}

export interface DeadLetter {
  readonly message: StoredMessage;
  readonly deliveryAttempts: number;
}

export interface ClientRecord {
  readonly clientId: string;
  readonly clientType: string;
  readonly group?: string;
  heartbeats: number;
  terminated: boolean;
}

const CODE_OK = "OK";
const MAX_BATCH = 32;
const MAX_INVISIBLE_MS = 12 * 3600_000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_RETRY_TIMES = 16;

type Pb = Record<string, any>;
type Status = { code: string; message: string };

const status = (code: string, message = code): Status => ({ code, message });
/** google.protobuf Duration and Timestamp share the {seconds, nanos} shape. */
const toMillis = (d: Pb | null | undefined): number => (d ? Number(d.seconds) * 1000 + Math.floor(Number(d.nanos) / 1e6) : 0);
const fromMillis = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

class RpcError extends Error {
  constructor(readonly status: Status) {
    super(`${status.code}: ${status.message}`);
  }
}

interface Delivery {
  attempts: number;
  visibleAt: number;
  handle?: string;
  done: boolean;
}

interface GroupProgress {
  /** Sequence number of the first message this group has not finished (acked, filtered out or dead-lettered). */
  cursor: number;
  readonly deliveries: Map<number, Delivery>;
}

class TopicState {
  readonly log: StoredMessage[] = [];
  readonly queueSizes: number[];
  private nextWriteQueue = 0;
  readonly progress = new Map<string, GroupProgress>();

  constructor(readonly spec: Required<TopicSpec>) {
    this.queueSizes = new Array(Math.max(spec.readQueueNums, spec.writeQueueNums)).fill(0);
  }

  /** Queue ids as the proxy numbers them: read-only first, then write-only, then read-write. */
  queueLayout(): { id: number; permission: string }[] {
    const { readQueueNums: r, writeQueueNums: w } = this.spec;
    const rw = Math.min(r, w);
    return [
      ...Array.from({ length: r - rw }, () => "READ"),
      ...Array.from({ length: w - rw }, () => "WRITE"),
      ...Array.from({ length: rw }, () => "READ_WRITE"),
    ].map((permission, id) => ({ id, permission }));
  }

  takeWriteQueue(): number {
    const writable = this.queueLayout().filter((q) => q.permission !== "READ");
    return writable[this.nextWriteQueue++ % writable.length].id;
  }
}

class Store {
  readonly topics = new Map<string, TopicState>();
  readonly groups = new Map<string, Required<ConsumerGroupSpec>>();
  readonly deadLetters = new Map<string, DeadLetter[]>();
  readonly handles = new Map<string, { group: string; topic: string; seq: number; expiresAt: number }>();
  readonly arrivals = new EventEmitter();

  constructor(namespace: string, options: RocketMqBrokerDoubleOptions) {
    this.arrivals.setMaxListeners(0);
    for (const t of options.topics) {
      const spec = typeof t === "string" ? { name: t } : t;
      this.topics.set(
        qualify(namespace, spec.name),
        new TopicState({
          messageType: "NORMAL",
          readQueueNums: 8,
          writeQueueNums: 8,
          ...spec,
        }),
      );
    }
    for (const g of options.consumerGroups) {
      const spec = typeof g === "string" ? { name: g } : g;
      const group = { maxRetryTimes: DEFAULT_MAX_RETRY_TIMES, ...spec };
      this.groups.set(qualify(namespace, spec.name), group);
      this.deadLetters.set(qualify(namespace, spec.name), []);
    }
  }
}

const qualify = (namespace: string, name: string) => (namespace ? `${namespace}%${name}` : name);

interface RequestContext {
  clientId: string;
  namespace: string;
}

export class RocketMqBrokerDouble {
  private server?: grpc.Server;
  private store: Store;
  private readonly settings = new Map<string, Pb>();
  private readonly openCalls = new Set<() => void>();
  private readonly service: grpc.ServiceDefinition;
  readonly rpcCalls = new Map<string, number>();
  readonly unimplementedCalls: string[] = [];
  readonly clients = new Map<string, ClientRecord>();
  /**
   * While true, Telemetry takes a client's settings but never answers them, like a proxy that lost the session
   * mid-handshake: the real client's startup() then waits for ever.
   */
  withholdSettings = false;
  private portInUse = 0;

  private constructor(private readonly options: RocketMqBrokerDoubleOptions) {
    this.store = new Store(this.namespace, options);
    const protoDir = path.join(path.dirname(require.resolve("rocketmq-client-nodejs/package.json")), "proto");
    const definition = protoLoader.loadSync("apache/rocketmq/v2/service.proto", {
      includeDirs: [protoDir],
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as any;
    this.service = pkg.apache.rocketmq.v2.MessagingService.service;
  }

  static async listen(options: RocketMqBrokerDoubleOptions): Promise<RocketMqBrokerDouble> {
    const broker = new RocketMqBrokerDouble(options);
    await broker.bind(options.port ?? 0);
    return broker;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.portInUse}`;
  }

  private get namespace(): string {
    return this.options.namespace ?? "";
  }

  /** Like a crash of the proxy process: connections dropped, in-flight polls cut, client settings forgotten. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const cancel of [...this.openCalls]) cancel();
    this.settings.clear();
    server?.forceShutdown();
  }

  /** Listen again on the same port; stored messages and consumer progress survive unless `loseMessages`. */
  async resume({ loseMessages = false } = {}): Promise<void> {
    if (loseMessages) this.store = new Store(this.namespace, this.options);
    await this.bind(this.portInUse);
  }

  /** Messages stored for a topic, in arrival order. */
  messages(topic: string): StoredMessage[] {
    return [...this.topic(topic).log];
  }

  deadLetters(group: string): DeadLetter[] {
    return [...(this.store.deadLetters.get(qualify(this.namespace, group)) ?? [])];
  }

  /** Messages of `topic` the group has received but neither acked nor dead-lettered. */
  inFlight(topic: string, group: string): number {
    const progress = this.topic(topic).progress.get(qualify(this.namespace, group));
    return progress ? [...progress.deliveries.values()].filter((d) => !d.done).length : 0;
  }

  private topic(name: string): TopicState {
    const topic = this.store.topics.get(qualify(this.namespace, name));
    if (!topic) throw new Error(`unknown topic ${name}`);
    return topic;
  }

  private async bind(port: number): Promise<void> {
    const server = new grpc.Server();
    const handlers: grpc.UntypedServiceImplementation = {};
    const implemented: Record<string, grpc.UntypedHandleCall> = {
      QueryRoute: this.unary("QueryRoute", (req, ctx) => this.queryRoute(req, ctx)),
      Heartbeat: this.unary("Heartbeat", (req, ctx) => this.heartbeat(req, ctx)),
      SendMessage: this.unary("SendMessage", (req, ctx) => this.sendMessage(req, ctx)),
      QueryAssignment: this.unary("QueryAssignment", (req, ctx) => this.queryAssignment(req, ctx)),
      AckMessage: this.unary("AckMessage", (req, ctx) => this.ackMessage(req, ctx)),
      ChangeInvisibleDuration: this.unary("ChangeInvisibleDuration", (req, ctx) => this.changeInvisibleDuration(req, ctx)),
      ForwardMessageToDeadLetterQueue: this.unary("ForwardMessageToDeadLetterQueue", (req, ctx) => this.forwardToDeadLetterQueue(req, ctx)),
      NotifyClientTermination: this.unary("NotifyClientTermination", (req, ctx) => this.notifyClientTermination(req, ctx)),
      ReceiveMessage: (call: grpc.ServerWritableStream<Pb, Pb>) => void this.receiveMessage(call),
      Telemetry: (call: grpc.ServerDuplexStream<Pb, Pb>) => this.telemetry(call),
    };
    for (const name of Object.keys(this.service)) {
      handlers[name] = implemented[name] ?? this.unimplemented(name);
    }
    server.addService(this.service, handlers);
    this.portInUse = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    this.server = server;
  }

  private count(rpc: string) {
    this.rpcCalls.set(rpc, (this.rpcCalls.get(rpc) ?? 0) + 1);
  }

  private unimplemented(name: string): grpc.UntypedHandleCall {
    return (call: any, callback?: grpc.sendUnaryData<Pb>) => {
      this.count(name);
      this.unimplementedCalls.push(name);
      const error = { code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented by the test double` };
      if (callback) callback(error);
      else call.emit("error", error);
    };
  }

  private unary(name: string, handle: (req: Pb, ctx: RequestContext) => Pb): grpc.handleUnaryCall<Pb, Pb> {
    return (call, callback) => {
      this.count(name);
      try {
        callback(null, handle(call.request, this.context(call.metadata)));
      } catch (err) {
        if (err instanceof RpcError) callback(null, { status: err.status });
        else callback({ code: grpc.status.INTERNAL, details: `test double bug: ${err}` });
      }
    };
  }

  private context(metadata: grpc.Metadata): RequestContext {
    const header = (key: string) => String(metadata.get(key)[0] ?? "");
    const clientId = header("x-mq-client-id");
    if (!clientId) throw new RpcError(status("CLIENT_ID_REQUIRED", "x-mq-client-id header is required"));
    const credentials = this.options.credentials;
    if (credentials) {
      const expected = createHmac("sha1", credentials.accessSecret).update(header("x-mq-date-time")).digest("hex").toUpperCase();
      const authorization = header("authorization");
      if (!authorization.includes(`Credential=${credentials.accessKey},`) || !authorization.endsWith(`Signature=${expected}`)) {
        throw new RpcError(status("UNAUTHORIZED", "signature or access key mismatch"));
      }
    }
    return { clientId, namespace: header("x-mq-namespace") };
  }

  private resourceName(resource: Pb | null | undefined, ctx: RequestContext): string {
    return qualify(resource?.resourceNamespace || ctx.namespace, resource?.name ?? "");
  }

  private requireTopic(resource: Pb, ctx: RequestContext): TopicState {
    const topic = this.store.topics.get(this.resourceName(resource, ctx));
    if (!topic) throw new RpcError(status("TOPIC_NOT_FOUND", `topic ${resource?.name} does not exist in namespace '${ctx.namespace}'`));
    return topic;
  }

  private requireGroup(resource: Pb, ctx: RequestContext): string {
    const name = this.resourceName(resource, ctx);
    if (!this.store.groups.has(name)) {
      throw new RpcError(
        status("CONSUMER_GROUP_NOT_FOUND", `consumer group ${resource?.name} does not exist in namespace '${ctx.namespace}'`),
      );
    }
    return name;
  }

  private broker(name: string): Pb {
    return { name, id: 0, endpoints: { scheme: "IPv4", addresses: [{ host: "127.0.0.1", port: this.portInUse }] } };
  }

  private brokerNames(): string[] {
    return this.options.brokerNames ?? ["broker-a"];
  }

  private queryRoute(req: Pb, ctx: RequestContext): Pb {
    const topic = this.requireTopic(req.topic, ctx);
    const messageQueues = this.brokerNames().flatMap((brokerName) =>
      topic.queueLayout().map(({ id, permission }) => ({
        topic: req.topic,
        id,
        permission,
        broker: this.broker(brokerName),
        acceptMessageTypes: [topic.spec.messageType],
      })),
    );
    return { status: status(CODE_OK), messageQueues };
  }

  private queryAssignment(req: Pb, ctx: RequestContext): Pb {
    const topic = this.requireTopic(req.topic, ctx);
    this.requireGroup(req.group, ctx);
    const assignments = this.brokerNames().map((brokerName) => ({
      messageQueue: {
        topic: req.topic,
        id: -1,
        permission: "READ_WRITE",
        broker: this.broker(brokerName),
        acceptMessageTypes: [topic.spec.messageType],
      },
    }));
    return { status: status(CODE_OK), assignments };
  }

  private telemetry(call: grpc.ServerDuplexStream<Pb, Pb>) {
    this.count("Telemetry");
    const close = () => call.end();
    this.openCalls.add(close);
    const forget = () => this.openCalls.delete(close);
    call.on("end", () => {
      forget();
      call.end();
    });
    call.on("error", forget);
    call.on("cancelled", forget);
    call.on("data", (command: Pb) => {
      if (command.command !== "settings" || this.withholdSettings) return;
      let ctx: RequestContext;
      try {
        ctx = this.context(call.metadata);
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        call.write({ status: err.status });
        return;
      }
      const merged = this.mergeSettings(command.settings, ctx);
      this.settings.set(ctx.clientId, merged);
      call.write({ status: status(CODE_OK), settings: merged });
    });
  }

  private mergeSettings(settings: Pb, ctx: RequestContext): Pb {
    if (settings.pubSub === "publishing") {
      return {
        ...settings,
        backoffPolicy: { maxAttempts: 3, exponentialBackoff: { initial: fromMillis(10), max: fromMillis(1000), multiplier: 2 } },
        publishing: { ...settings.publishing, maxBodySize: MAX_BODY_BYTES, validateMessageType: true },
      };
    }
    const group = this.store.groups.get(this.resourceName(settings.subscription?.group, ctx));
    return {
      ...settings,
      backoffPolicy: {
        maxAttempts: (group?.maxRetryTimes ?? DEFAULT_MAX_RETRY_TIMES) + 1,
        exponentialBackoff: { initial: fromMillis(1000), max: fromMillis(7200_000), multiplier: 2 },
      },
      subscription: {
        ...settings.subscription,
        fifo: false,
        receiveBatchSize: MAX_BATCH,
        longPollingTimeout: fromMillis(this.maxLongPollingMs),
      },
    };
  }

  private requireSettings(ctx: RequestContext): Pb {
    const settings = this.settings.get(ctx.clientId);
    if (!settings) throw new RpcError(status("UNRECOGNIZED_CLIENT_TYPE", "cannot find client settings for this client"));
    return settings;
  }

  private heartbeat(req: Pb, ctx: RequestContext): Pb {
    const settings = this.requireSettings(ctx);
    const group = settings.clientType === "PRODUCER" ? undefined : this.requireGroup(req.group, ctx);
    const record = this.clients.get(ctx.clientId) ?? {
      clientId: ctx.clientId,
      clientType: settings.clientType,
      group,
      heartbeats: 0,
      terminated: false,
    };
    record.heartbeats++;
    this.clients.set(ctx.clientId, record);
    return { status: status(CODE_OK) };
  }

  private notifyClientTermination(_req: Pb, ctx: RequestContext): Pb {
    this.requireSettings(ctx);
    this.settings.delete(ctx.clientId);
    const record = this.clients.get(ctx.clientId);
    if (record) record.terminated = true;
    return { status: status(CODE_OK) };
  }

  private sendMessage(req: Pb, ctx: RequestContext): Pb {
    if (!req.messages.length) throw new RpcError(status("MESSAGE_CORRUPTED", "no message to send"));
    const entries = req.messages.map((message: Pb) => {
      try {
        return this.storeMessage(message, ctx);
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        return { status: err.status };
      }
    });
    const codes = new Set(entries.map((e: Pb) => e.status.code));
    return { status: codes.size > 1 ? status("MULTIPLE_RESULTS") : entries[0].status, entries };
  }

  private storeMessage(message: Pb, ctx: RequestContext): Pb {
    const topic = this.requireTopic(message.topic, ctx);
    const props = message.systemProperties;
    if (!props.messageId) throw new RpcError(status("ILLEGAL_MESSAGE_ID", "message id is empty"));
    if (props.messageType !== topic.spec.messageType) {
      throw new RpcError(
        status("MESSAGE_PROPERTY_CONFLICT_WITH_TYPE", `topic ${topic.spec.name} accepts ${topic.spec.messageType} messages`),
      );
    }
    if (message.body.length > MAX_BODY_BYTES) throw new RpcError(status("MESSAGE_BODY_TOO_LARGE"));
    const queueId = topic.takeWriteQueue();
    const now = Date.now();
    const stored: StoredMessage = {
      topic: topic.spec.name,
      queueId,
      queueOffset: topic.queueSizes[queueId]++,
      messageId: props.messageId,
      body: Buffer.from(message.body),
      tag: props.tag || undefined,
      keys: props.keys,
      userProperties: message.userProperties,
      messageType: props.messageType,
      bornTimestamp: props.bornTimestamp,
      bornHost: props.bornHost,
      storeTimestamp: now,
      deliverAt: props.deliveryTimestamp ? Math.max(now, toMillis(props.deliveryTimestamp)) : now,
    };
    topic.log.push(stored);
    this.store.arrivals.emit(topic.spec.name);
    return { status: status(CODE_OK), messageId: stored.messageId, offset: stored.queueOffset };
  }

  private get minInvisibleMs() {
    return this.options.minInvisibleMs ?? 10_000;
  }
  private get minLongPollingMs() {
    return this.options.minLongPollingMs ?? 5_000;
  }
  private get maxLongPollingMs() {
    return this.options.maxLongPollingMs ?? 20_000;
  }

  private async receiveMessage(call: grpc.ServerWritableStream<Pb, Pb>) {
    this.count("ReceiveMessage");
    const finish = (responses: Pb[]) => {
      for (const response of responses) call.write(response);
      call.write({ deliveryTimestamp: fromMillis(Date.now()) });
      call.end();
    };
    let cancelled = false;
    let wake: (() => void) | undefined;
    const cancel = () => {
      cancelled = true;
      wake?.();
    };
    call.on("cancelled", cancel);
    this.openCalls.add(cancel);
    try {
      const ctx = this.context(call.metadata);
      const req = call.request;
      if (!this.settings.has(ctx.clientId)) {
        throw new RpcError(status("INTERNAL_SERVER_ERROR", "client settings not found: the telemetry session has not synced them"));
      }
      const group = this.requireGroup(req.group, ctx);
      const topic = this.requireTopic(req.messageQueue?.topic, ctx);
      if (req.filterExpression?.type === "SQL") throw new RpcError(status("ILLEGAL_FILTER_EXPRESSION", "SQL92 filtering is not enabled"));
      const invisibleMs = toMillis(req.invisibleDuration);
      if (invisibleMs < this.minInvisibleMs || invisibleMs > MAX_INVISIBLE_MS) {
        throw new RpcError(
          status("ILLEGAL_INVISIBLE_TIME", `invisible duration must be within [${this.minInvisibleMs}, ${MAX_INVISIBLE_MS}] ms`),
        );
      }
      const pollMs = this.pollingTime(req, call.getDeadline());
      const tags = this.tagFilter(req.filterExpression?.expression);
      const pollUntil = Date.now() + pollMs;
      for (;;) {
        const found = this.pop(topic, group, Math.min(Math.max(req.batchSize, 1), MAX_BATCH), invisibleMs, tags);
        if (cancelled) return;
        if (found.length) return finish([{ status: status(CODE_OK) }, ...found.map((message) => ({ message }))]);
        const waitMs = Math.min(pollUntil, this.nextVisibleAt(topic, group)) - Date.now();
        if (waitMs <= 0) return finish([{ status: status("MESSAGE_NOT_FOUND", "no new message") }]);
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.store.arrivals.off(topic.spec.name, done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          this.store.arrivals.on(topic.spec.name, done);
          wake = done;
        });
        if (cancelled) return;
      }
    } catch (err) {
      if (err instanceof RpcError) finish([{ status: err.status }]);
      else call.emit("error", { code: grpc.status.INTERNAL, details: `test double bug: ${err}` });
    } finally {
      this.openCalls.delete(cancel);
    }
  }

  /** The proxy's polling time: requested, clamped to its bounds, and it must fit in the call's deadline. */
  private pollingTime(req: Pb, deadline: grpc.Deadline): number {
    const remaining = (deadline instanceof Date ? deadline.getTime() : Number(deadline)) - Date.now();
    let pollMs = req.longPollingTimeout ? toMillis(req.longPollingTimeout) : remaining / 2;
    pollMs = Math.min(Math.max(pollMs, this.minLongPollingMs), this.maxLongPollingMs);
    if (pollMs > remaining) {
      if (remaining < this.minLongPollingMs) {
        throw new RpcError(status("BAD_REQUEST", "The deadline time remaining is not enough for polling, please check network condition"));
      }
      pollMs = remaining;
    }
    return pollMs;
  }

  private tagFilter(expression: string | undefined): (tag?: string) => boolean {
    const tags = (expression ?? "*")
      .split("||")
      .map((t) => t.trim())
      .filter(Boolean);
    return (tag) => tags.includes("*") || (tag !== undefined && tags.includes(tag));
  }

  private progress(topic: TopicState, group: string): GroupProgress {
    let progress = topic.progress.get(group);
    if (!progress) {
      progress = { cursor: topic.log.length, deliveries: new Map() };
      topic.progress.set(group, progress);
    }
    return progress;
  }

  private pop(topic: TopicState, group: string, max: number, invisibleMs: number, tagMatches: (tag?: string) => boolean) {
    const progress = this.progress(topic, group);
    const maxAttempts = this.store.groups.get(group)!.maxRetryTimes + 1;
    const now = Date.now();
    const messages: Pb[] = [];
    for (let seq = progress.cursor; seq < topic.log.length && messages.length < max; seq++) {
      const stored = topic.log[seq];
      let delivery = progress.deliveries.get(seq);
      if (!delivery) {
        delivery = { attempts: 0, visibleAt: stored.deliverAt, done: !tagMatches(stored.tag) };
        progress.deliveries.set(seq, delivery);
      }
      if (delivery.done || delivery.visibleAt > now) continue;
      if (delivery.attempts >= maxAttempts) {
        delivery.done = true;
        this.store.deadLetters.get(group)!.push({ message: stored, deliveryAttempts: delivery.attempts });
        continue;
      }
      delivery.attempts++;
      delivery.visibleAt = now + invisibleMs;
      delivery.handle = this.newHandle(group, topic, seq, delivery.visibleAt);
      messages.push(this.toProtobuf(stored, delivery));
    }
    this.advanceCursor(topic, progress);
    return messages;
  }

  private advanceCursor(topic: TopicState, progress: GroupProgress) {
    while (progress.cursor < topic.log.length && progress.deliveries.get(progress.cursor)?.done) {
      progress.deliveries.delete(progress.cursor);
      progress.cursor++;
    }
  }

  private nextVisibleAt(topic: TopicState, group: string): number {
    const progress = this.progress(topic, group);
    let next = Infinity;
    for (let seq = progress.cursor; seq < topic.log.length; seq++) {
      const delivery = progress.deliveries.get(seq);
      const at = delivery ? (delivery.done ? Infinity : delivery.visibleAt) : topic.log[seq].deliverAt;
      next = Math.min(next, at);
    }
    return next;
  }

  private newHandle(group: string, topic: TopicState, seq: number, expiresAt: number): string {
    const handle = randomUUID();
    this.store.handles.set(handle, { group, topic: qualify(this.namespace, topic.spec.name), seq, expiresAt });
    return handle;
  }

  private toProtobuf(stored: StoredMessage, delivery: Delivery): Pb {
    return {
      topic: { resourceNamespace: this.namespace, name: stored.topic },
      userProperties: stored.userProperties,
      body: stored.body,
      systemProperties: {
        tag: stored.tag,
        keys: stored.keys,
        messageId: stored.messageId,
        bodyDigest: { type: "MD5", checksum: createHash("md5").update(stored.body).digest("hex").toUpperCase() },
        bodyEncoding: "IDENTITY",
        messageType: stored.messageType,
        bornTimestamp: stored.bornTimestamp,
        bornHost: stored.bornHost,
        storeTimestamp: fromMillis(stored.storeTimestamp),
        storeHost: this.endpoint,
        receiptHandle: delivery.handle,
        queueId: stored.queueId,
        queueOffset: stored.queueOffset,
        deliveryAttempt: delivery.attempts,
      },
    };
  }

  /**
   * The delivery a receipt handle points at. Expired handles are refused (the proxy checks this first); a handle
   * that is not the delivery's current one (superseded by ChangeInvisibleDuration, or the message is already
   * finished) is reported as not current.
   */
  private delivery(handle: string, group: string): { delivery?: Delivery; topic: TopicState; seq: number; current: boolean } {
    const ref = this.store.handles.get(handle);
    const topic = ref && this.store.topics.get(ref.topic);
    if (!ref || ref.group !== group || !topic) throw new RpcError(status("INVALID_RECEIPT_HANDLE", "unknown receipt handle"));
    if (Date.now() > ref.expiresAt) throw new RpcError(status("INVALID_RECEIPT_HANDLE", "receipt handle is expired"));
    const delivery = topic.progress.get(group)?.deliveries.get(ref.seq);
    const current = delivery !== undefined && !delivery.done && delivery.handle === handle;
    return { delivery, topic, seq: ref.seq, current };
  }

  private ackMessage(req: Pb, ctx: RequestContext): Pb {
    const group = this.requireGroup(req.group, ctx);
    this.requireTopic(req.topic, ctx);
    const entries = req.entries.map((entry: Pb) => {
      try {
        const { delivery, topic, current } = this.delivery(entry.receiptHandle, group);
        if (current) {
          delivery!.done = true;
          this.advanceCursor(topic, this.progress(topic, group));
        }
        return { messageId: entry.messageId, receiptHandle: entry.receiptHandle, status: status(CODE_OK) };
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        return { messageId: entry.messageId, receiptHandle: entry.receiptHandle, status: err.status };
      }
    });
    const codes = new Set(entries.map((e: Pb) => e.status.code));
    return { status: codes.size > 1 ? status("MULTIPLE_RESULTS") : (entries[0]?.status ?? status(CODE_OK)), entries };
  }

  private changeInvisibleDuration(req: Pb, ctx: RequestContext): Pb {
    const group = this.requireGroup(req.group, ctx);
    this.requireTopic(req.topic, ctx);
    const invisibleMs = toMillis(req.invisibleDuration);
    if (invisibleMs > MAX_INVISIBLE_MS) throw new RpcError(status("ILLEGAL_INVISIBLE_TIME", "the invisibleTime is too large"));
    const { delivery, topic, seq, current } = this.delivery(req.receiptHandle, group);
    if (!current) throw new RpcError(status("INVALID_RECEIPT_HANDLE", "receipt handle is no longer current"));
    delivery!.visibleAt = Date.now() + invisibleMs;
    delivery!.handle = this.newHandle(group, topic, seq, delivery!.visibleAt);
    return { status: status(CODE_OK), receiptHandle: delivery!.handle };
  }

  private forwardToDeadLetterQueue(req: Pb, ctx: RequestContext): Pb {
    const group = this.requireGroup(req.group, ctx);
    this.requireTopic(req.topic, ctx);
    const { delivery, topic, seq, current } = this.delivery(req.receiptHandle, group);
    if (!current) throw new RpcError(status("INVALID_RECEIPT_HANDLE", "receipt handle is no longer current"));
    delivery!.done = true;
    this.store.deadLetters.get(group)!.push({ message: topic.log[seq], deliveryAttempts: delivery!.attempts });
    this.advanceCursor(topic, this.progress(topic, group));
    return { status: status(CODE_OK) };
  }
}
