/**
 * Nacos (MSE Nacos 2.x speaks the HTTP v1 Open API): a config client for live settings and this instance's
 * registration. Both stay off the request path: the config client long-polls in the background, registration runs
 * at start-up and shutdown with a heartbeat timer in between.
 */
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ClientWorker, DataClient } from "nacos";
import type { Logger } from "./logger";

export interface NacosConnection {
  /** host:port of the Nacos server (MSE: the cluster's internal address, port 8848). */
  readonly serverAddr: string;
  /** Nacos namespace id; the public namespace when absent. */
  readonly namespace?: string;
  /** Config group and service group: the environment name. */
  readonly group: string;
}

interface UrllibRequest {
  method?: string;
  /** Parameters, or a string nacos-config already form-encoded (publishing does that). */
  data?: Record<string, unknown> | string;
  headers?: Record<string, string | undefined>;
  timeout?: number;
  dataAsQueryString?: boolean;
}

const RETRY_PAUSE_MS = 1000;

/**
 * The urllib-shaped HTTP client nacos-config calls, over fetch. Two defects of nacos-config 2.6 make its own
 * transport unfit for a service: its HttpAgent retries a failed request with no pause until the request's timeout
 * (40 s for a long poll), so an unreachable Nacos costs thousands of connection attempts per second; and close()
 * leaves the long poll running for up to 40 s. Here a network failure pauses before it is reported, and close()
 * aborts what is in flight and answers later requests with "nothing changed", which ends the polling loop.
 */
class NacosTransport {
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  async request(url: string, options: UrllibRequest) {
    if (this.closed) return { status: 200, data: "", headers: {} };
    const method = options.method ?? "GET";
    const params =
      typeof options.data === "string"
        ? options.data
        : new URLSearchParams(
            Object.entries(options.data ?? {})
              .filter(([, value]) => value !== undefined && value !== null)
              .map(([key, value]): [string, string] => [key, String(value)]),
          ).toString();
    const inQuery = method === "GET" || method === "DELETE" || options.dataAsQueryString;
    const headers = Object.fromEntries(Object.entries(options.headers ?? {}).filter((h): h is [string, string] => h[1] !== undefined));
    const abort = new AbortController();
    this.inFlight.add(abort);
    try {
      const res = await fetch(inQuery && params ? `${url}?${params}` : url, {
        method,
        headers,
        body: inQuery ? undefined : params,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(options.timeout ?? 5000)]),
      });
      return { status: res.status, data: await res.text(), headers: { "content-type": res.headers.get("content-type") ?? "" } };
    } catch (err) {
      if (!this.closed) await sleep(RETRY_PAUSE_MS, undefined, { signal: abort.signal }).catch(() => undefined);
      throw err;
    } finally {
      this.inFlight.delete(abort);
    }
  }

  close() {
    this.closed = true;
    for (const abort of this.inFlight) abort.abort();
  }
}

/**
 * ClientWorker.close() removes every listener, its own 'error' forwarding included, while a request may still be in
 * flight; a failure reported after that would be an unhandled 'error' event. This worker keeps swallowing them.
 */
class ClosableClientWorker extends ClientWorker {
  close(): void {
    super.close();
    this.on("error", () => undefined);
  }
}

/**
 * nacos-config's single-process client (its `NacosConfigClient` wraps the same client in cluster-client, which
 * elects a leader among all processes on the machine over a fixed local port; each process polling on its own is
 * simpler and cheap).
 */
export class NacosConfigClient extends DataClient {
  private readonly transport: NacosTransport;

  /**
   * @param snapshotDir where the client keeps the last config it saw, which it falls back to when Nacos is
   * unreachable at start.
   */
  constructor(connection: NacosConnection, logger: Logger, snapshotDir = path.join(tmpdir(), "seckill-nacos-snapshots")) {
    const transport = new NacosTransport();
    super({ serverAddr: connection.serverAddr, namespace: connection.namespace, httpclient: transport, cacheDir: snapshotDir });
    this.transport = transport;
    this.on("error", (err: Error) => logger.warn({ err }, "Nacos config client: %s", err.message));
  }

  protected getClientWorker(options: unknown) {
    return new ClosableClientWorker(options);
  }

  close(): void {
    this.transport.close();
    super.close();
  }
}

export interface ServiceInstance {
  readonly service: string;
  readonly ip: string;
  readonly port: number;
}

const DEFAULT_BEAT_INTERVAL_MS = 5000;

/**
 * Registers this instance as an ephemeral Nacos instance so other systems can discover it, keeps it alive with
 * heartbeats, and deregisters it. Three v1 calls (POST /instance, PUT /instance/beat, DELETE /instance) made directly:
 * the nacos-naming client of the same package cannot stop its heartbeat loop on close (it sleeps up to 10 s first)
 * and binds a UDP port for pushes this service never listens to.
 */
export class NacosRegistration {
  private beatTimer?: NodeJS.Timeout;
  private registered = false;
  private readonly transport = new NacosTransport();

  /** @param beatIntervalMs until Nacos answers a heartbeat with its own interval (Nacos' default: 5 s). */
  constructor(
    private readonly connection: NacosConnection,
    private readonly instance: ServiceInstance,
    private readonly logger: Logger,
    private readonly beatIntervalMs = DEFAULT_BEAT_INTERVAL_MS,
  ) {}

  private get params() {
    return {
      namespaceId: this.connection.namespace || "public",
      serviceName: `${this.connection.group}@@${this.instance.service}`,
      groupName: this.connection.group,
      ip: this.instance.ip,
      port: this.instance.port,
      clusterName: "DEFAULT",
      ephemeral: true,
    };
  }

  /** Never fails the caller: with Nacos unreachable, the first heartbeat that gets through registers the instance. */
  async register(): Promise<void> {
    this.registered = true;
    this.scheduleBeat(this.beatIntervalMs);
    try {
      await this.call("POST", "/nacos/v1/ns/instance", { ...this.params, weight: 1, enable: true, healthy: true, metadata: "{}" });
      this.logger.info({ ...this.instance, group: this.connection.group }, "registered in Nacos");
    } catch (err) {
      this.logger.warn({ err }, "Nacos registration failed; the heartbeats will register the instance once Nacos answers");
    }
  }

  /** Best effort: Nacos drops an ephemeral instance whose heartbeats stopped (after 30 s) anyway. */
  async deregister(): Promise<void> {
    if (!this.registered) return;
    this.registered = false;
    clearTimeout(this.beatTimer);
    this.beatTimer = undefined;
    try {
      await this.call("DELETE", "/nacos/v1/ns/instance", this.params);
      this.logger.info({ ...this.instance, group: this.connection.group }, "deregistered from Nacos");
    } catch (err) {
      this.logger.warn({ err }, "Nacos deregistration failed; the instance expires when its heartbeats stop");
    } finally {
      this.transport.close();
    }
  }

  private scheduleBeat(delayMs: number) {
    this.beatTimer = setTimeout(() => void this.beat(), delayMs);
    this.beatTimer.unref();
  }

  /** A beat also re-registers the instance when Nacos forgot it (e.g. after a Nacos restart). */
  private async beat() {
    let nextMs = this.beatIntervalMs;
    try {
      const { ip, port, clusterName, serviceName } = this.params;
      const answer = JSON.parse(
        await this.call("PUT", "/nacos/v1/ns/instance/beat", {
          ...this.params,
          beat: JSON.stringify({ ip, port, cluster: clusterName, serviceName, weight: 1, metadata: {} }),
        }),
      );
      nextMs = Number(answer.clientBeatInterval) || this.beatIntervalMs;
    } catch (err) {
      this.logger.warn({ err }, "Nacos heartbeat failed");
    }
    if (this.beatTimer) this.scheduleBeat(nextMs);
  }

  private async call(method: string, api: string, params: Record<string, unknown>): Promise<string> {
    const res = await this.transport.request(`http://${this.connection.serverAddr}${api}`, {
      method,
      data: params,
      dataAsQueryString: true,
    });
    if (res.status !== 200) throw new Error(`Nacos ${method} ${api} answered ${res.status}: ${res.data}`);
    return res.data;
  }
}

/** The address other systems reach this instance at: the first non-internal IPv4 address (the ECS private IP). */
export function instanceIp(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === "IPv4" && !a.internal);
  if (!address) throw new Error("no non-internal IPv4 address to register in Nacos");
  return address.address;
}
