/**
 * Nacos server TEST DOUBLE: the part of the Nacos v1 Open API (HTTP) that npm `nacos` 2.6.x (nacos-config,
 * nacos-naming) calls in direct-address mode (`serverAddr` / `serverList`), with Nacos' semantics:
 *
 * Config (keyed by tenant = namespace, group, dataId):
 * - GET    /nacos/v1/cs/configs            200 with the content, 404 when absent.
 * - POST   /nacos/v1/cs/configs            publish (dataId, group, content[, tenant, type]) → "true".
 * - DELETE /nacos/v1/cs/configs            remove → "true".
 * - POST   /nacos/v1/cs/configs/listener   long polling: `Listening-Configs` lines "dataId^2group^2md5[^2tenant]^1"; answers at
 *   once with the URL-encoded changed keys when an MD5 differs (a missing config has MD5 ""), otherwise holds the
 *   request for Long-Pulling-Timeout − 500 ms (at least 10 s, as Nacos does) and answers early when a watched config
 *   is published or removed; an empty body means "nothing changed".
 * Naming (keyed by namespaceId and the grouped service name "group@@service"):
 * - POST   /nacos/v1/ns/instance           register (ip, port, clusterName, weight, enable, ephemeral, metadata) → "ok".
 * - DELETE /nacos/v1/ns/instance           deregister → "ok".
 * - PUT    /nacos/v1/ns/instance/beat      heartbeat for an ephemeral instance; re-registers it from the beat when the
 *   server no longer knows it (as Nacos does); answers {"clientBeatInterval":…,"code":10200}.
 * - GET    /nacos/v1/ns/instance/list      the service's instances; an ephemeral instance whose last beat is older
 *   than the heartbeat timeout (15 s) is unhealthy, older than the delete timeout (30 s) is gone.
 * - GET    /nacos/v1/ns/operator/metrics   {"status":"UP"}.
 * Anything else is answered 404 and recorded in `unknownRequests`. No authentication (MSE inside the VPC has none
 * by default), no cluster, no persistence beyond the process, no UDP push (clients poll the list).
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import http from "node:http";
import { AddressInfo } from "node:net";

export interface NacosServerDoubleOptions {
  port?: number;
  clientBeatIntervalMs?: number;
  heartBeatTimeoutMs?: number;
  ipDeleteTimeoutMs?: number;
}

export interface RegisteredInstance {
  readonly ip: string;
  readonly port: number;
  readonly clusterName: string;
  readonly weight: number;
  readonly enabled: boolean;
  readonly ephemeral: boolean;
  readonly metadata: Record<string, string>;
  lastBeat: number;
  beats: number;
}

const LINE = "\x01";
const WORD = "\x02";
const md5 = (content: string | undefined) => (content === undefined ? "" : createHash("md5").update(content, "utf8").digest("hex"));
const configKey = (tenant: string, group: string, dataId: string) => `${tenant}${WORD}${group}${WORD}${dataId}`;
const serviceKey = (namespaceId: string, groupedName: string) => `${namespaceId}${WORD}${groupedName}`;

export class NacosServerDouble {
  private server?: http.Server;
  private portInUse = 0;
  private readonly configs = new Map<string, string>();
  private readonly services = new Map<string, Map<string, RegisteredInstance>>();
  private readonly changes = new EventEmitter();
  readonly requests: { method: string; path: string }[] = [];
  readonly unknownRequests: { method: string; path: string }[] = [];
  private heldPolls = 0;

  private constructor(private readonly options: NacosServerDoubleOptions) {
    this.changes.setMaxListeners(0);
  }

  static async listen(options: NacosServerDoubleOptions = {}): Promise<NacosServerDouble> {
    const nacos = new NacosServerDouble(options);
    await nacos.bind(options.port ?? 0);
    return nacos;
  }

  get address(): string {
    return `127.0.0.1:${this.portInUse}`;
  }

  /** Long-polling listener requests the double is holding right now. */
  get listeners(): number {
    return this.heldPolls;
  }

  publishConfig(dataId: string, group: string, content: string, tenant = ""): void {
    this.configs.set(configKey(tenant, group, dataId), content);
    this.changes.emit(configKey(tenant, group, dataId));
  }

  removeConfig(dataId: string, group: string, tenant = ""): void {
    this.configs.delete(configKey(tenant, group, dataId));
    this.changes.emit(configKey(tenant, group, dataId));
  }

  config(dataId: string, group: string, tenant = ""): string | undefined {
    return this.configs.get(configKey(tenant, group, dataId));
  }

  /** Live instances of a service with their health as Nacos reports it. */
  instances(service: string, group = "DEFAULT_GROUP", namespaceId = "public"): (RegisteredInstance & { healthy: boolean })[] {
    return this.liveInstances(serviceKey(namespaceId, `${group}@@${service}`));
  }

  /** Drops connections (held polls included) like a crashed server; data survives for resume(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async resume(): Promise<void> {
    await this.bind(this.portInUse);
  }

  private async bind(port: number): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.portInUse = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", "http://nacos");
    const body = await readBody(req);
    const params = new URLSearchParams(url.search);
    new URLSearchParams(body).forEach((value, key) => params.set(key, value));
    const param = (key: string) => params.get(key) ?? "";
    const route = `${req.method} ${url.pathname}`;
    this.requests.push({ method: req.method ?? "", path: url.pathname });
    const reply = (status: number, text: string, type = "text/plain;charset=UTF-8") => {
      res.writeHead(status, { "Content-Type": type });
      res.end(text);
    };

    switch (route) {
      case "GET /nacos/v1/cs/configs": {
        const content = this.config(param("dataId"), param("group"), param("tenant"));
        return content === undefined ? reply(404, "config data not exist") : reply(200, content);
      }
      case "POST /nacos/v1/cs/configs":
        if (!param("dataId") || !param("group") || !params.has("content")) return reply(400, "dataId, group and content are required");
        this.publishConfig(param("dataId"), param("group"), param("content"), param("tenant"));
        return reply(200, "true");
      case "DELETE /nacos/v1/cs/configs":
        this.removeConfig(param("dataId"), param("group"), param("tenant"));
        return reply(200, "true");
      case "POST /nacos/v1/cs/configs/listener":
        return this.longPoll(param("Listening-Configs"), req, res, reply);
      case "POST /nacos/v1/ns/instance":
        this.register(param("namespaceId") || "public", param("serviceName"), {
          ip: param("ip"),
          port: Number(param("port")),
          clusterName: param("clusterName") || "DEFAULT",
          weight: Number(param("weight") || 1),
          enabled: param("enable") !== "false",
          ephemeral: param("ephemeral") !== "false",
          metadata: param("metadata") ? JSON.parse(param("metadata")) : {},
        });
        return reply(200, "ok");
      case "DELETE /nacos/v1/ns/instance":
        this.services.get(serviceKey(param("namespaceId") || "public", param("serviceName")))?.delete(`${param("ip")}:${param("port")}`);
        return reply(200, "ok");
      case "PUT /nacos/v1/ns/instance/beat":
        return reply(
          200,
          JSON.stringify(this.beat(param("namespaceId") || "public", param("serviceName"), JSON.parse(param("beat")))),
          "application/json",
        );
      case "GET /nacos/v1/ns/instance/list":
        return reply(
          200,
          JSON.stringify(
            this.serviceInfo(param("namespaceId") || "public", param("serviceName"), param("clusters"), param("healthyOnly") === "true"),
          ),
          "application/json",
        );
      case "GET /nacos/v1/ns/operator/metrics":
        return reply(200, JSON.stringify({ status: "UP" }), "application/json");
      default:
        this.unknownRequests.push({ method: req.method ?? "", path: url.pathname });
        return reply(404, `no such API: ${route}`);
    }
  }

  private longPoll(listening: string, req: http.IncomingMessage, res: http.ServerResponse, reply: (status: number, text: string) => void) {
    const watched = listening
      .split(LINE)
      .filter(Boolean)
      .map((line) => {
        const [dataId, group, clientMd5, tenant = ""] = line.split(WORD);
        return { dataId, group, clientMd5, tenant };
      });
    const changed = () =>
      watched
        .filter((w) => md5(this.config(w.dataId, w.group, w.tenant)) !== w.clientMd5)
        .map((w) => [w.dataId, w.group, ...(w.tenant ? [w.tenant] : [])].join(WORD) + LINE)
        .join("");
    const answer = () => reply(200, encodeURIComponent(changed()));
    if (changed() || req.headers["long-pulling-timeout-no-hangup"] === "true") return answer();

    const holdMs = Math.max(10_000, Number(req.headers["long-pulling-timeout"] ?? 30_000) - 500);
    const keys = watched.map((w) => configKey(w.tenant, w.group, w.dataId));
    this.heldPolls++;
    const finish = () => {
      clearTimeout(timer);
      for (const key of keys) this.changes.off(key, finish);
      res.off("close", finish);
      this.heldPolls--;
      if (!res.writableEnded && !res.destroyed) answer();
    };
    const timer = setTimeout(finish, holdMs);
    for (const key of keys) this.changes.on(key, finish);
    res.on("close", finish);
  }

  private register(namespaceId: string, groupedName: string, instance: Omit<RegisteredInstance, "lastBeat" | "beats">) {
    const key = serviceKey(namespaceId, groupedName);
    const service = this.services.get(key) ?? new Map<string, RegisteredInstance>();
    this.services.set(key, service);
    service.set(`${instance.ip}:${instance.port}`, { ...instance, lastBeat: Date.now(), beats: 0 });
  }

  private beat(
    namespaceId: string,
    groupedName: string,
    beat: { ip: string; port: number; cluster?: string; weight?: number; metadata?: Record<string, string> },
  ) {
    const key = serviceKey(namespaceId, groupedName);
    if (!this.liveInstances(key).some((i) => i.ip === beat.ip && i.port === beat.port)) {
      this.register(namespaceId, groupedName, {
        ip: beat.ip,
        port: beat.port,
        clusterName: beat.cluster || "DEFAULT",
        weight: beat.weight ?? 1,
        enabled: true,
        ephemeral: true,
        metadata: beat.metadata ?? {},
      });
    }
    const stored = this.services.get(key)!.get(`${beat.ip}:${beat.port}`)!;
    stored.lastBeat = Date.now();
    stored.beats++;
    return { clientBeatInterval: this.options.clientBeatIntervalMs ?? 5000, code: 10200, lightBeatEnabled: false };
  }

  private liveInstances(key: string): (RegisteredInstance & { healthy: boolean })[] {
    const service = this.services.get(key);
    if (!service) return [];
    const now = Date.now();
    for (const [id, instance] of service) {
      if (instance.ephemeral && now - instance.lastBeat > (this.options.ipDeleteTimeoutMs ?? 30_000)) service.delete(id);
    }
    return [...service.values()].map((instance) => ({
      ...instance,
      healthy: !instance.ephemeral || now - instance.lastBeat <= (this.options.heartBeatTimeoutMs ?? 15_000),
    }));
  }

  private serviceInfo(namespaceId: string, groupedName: string, clusters: string, healthyOnly: boolean) {
    const [groupName] = groupedName.includes("@@") ? groupedName.split("@@") : ["DEFAULT_GROUP"];
    const wanted = clusters ? clusters.split(",") : undefined;
    const hosts = this.liveInstances(serviceKey(namespaceId, groupedName))
      .filter((i) => (!wanted || wanted.includes(i.clusterName)) && (!healthyOnly || i.healthy))
      .map((i) => ({
        instanceId: `${i.ip}#${i.port}#${i.clusterName}#${groupedName}`,
        ip: i.ip,
        port: i.port,
        weight: i.weight,
        healthy: i.healthy,
        enabled: i.enabled,
        ephemeral: i.ephemeral,
        clusterName: i.clusterName,
        serviceName: groupedName,
        metadata: i.metadata,
        instanceHeartBeatInterval: 5000,
        instanceHeartBeatTimeOut: 15000,
        ipDeleteTimeout: 30000,
      }));
    return {
      name: groupedName,
      groupName,
      clusters,
      cacheMillis: 10000,
      hosts,
      lastRefTime: Date.now(),
      checksum: md5(JSON.stringify(hosts)),
      allIPs: false,
      reachProtectionThreshold: false,
      valid: true,
    };
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
