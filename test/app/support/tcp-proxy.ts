import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../../scripts/lib/local-services";

interface Link {
  readonly client: net.Socket;
  /** Absent for a connection accepted while blackholing: it never reaches the server. */
  readonly upstream?: net.Socket;
  /** Bytes held back while the proxy is frozen, per direction. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** Chunks on their way to the server, in order, each after the proxy's latency. */
  delivery: Promise<void>;
  /** Blackholed: nothing moves either way, for good. */
  silent: boolean;
}

/**
 * A TCP proxy to a real server that a test controls, to make Redis or MySQL misbehave without
 * touching the shared server. One fault at a time, each undone by `restore`:
 * - `cut`: connections reset, new ones refused (a clean outage);
 * - `freeze`: connections stay open, every byte is held and delivered on `restore` (a partition that heals);
 * - `slow`: every byte reaches the server late (a slow server or path);
 * - `retarget`: a failover moving the address to another server (open connections reset, new ones go there);
 * - `blackhole`: the peer is gone without a FIN or RST (host crash, NAT entry lost): open connections go
 *   silent for good, never closed on the client's side, and new ones are accepted and silent until `restore`.
 */
export class TcpProxy {
  private server?: net.Server;
  private frozen = false;
  private latencyMs = 0;
  private blackholing = false;
  private readonly links = new Set<Link>();

  private constructor(
    readonly port: number,
    private target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    await proxy.restore();
    return proxy;
  }

  /**
   * Accepts connections and moves bytes again, at full speed (including any held while frozen).
   * Connections blackholed earlier stay silent: their peer is gone for good.
   */
  async restore(): Promise<void> {
    this.frozen = false;
    this.latencyMs = 0;
    this.blackholing = false;
    for (const link of this.links) this.flush(link);
    if (this.server) return;
    const server = net.createServer((client) => this.link(client));
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  /** Resets every open connection and refuses new ones until `restore`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const { client, upstream } of this.links) {
      client.resetAndDestroy();
      upstream?.destroy();
    }
    this.links.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Keeps connections open but holds every byte until `restore`. */
  freeze(): void {
    this.frozen = true;
  }

  /** Every byte from now on reaches the server `latencyMs` later (in order) until `restore`. */
  slow(latencyMs: number): void {
    this.latencyMs = latencyMs;
  }

  /**
   * Every open connection goes silent for good: what the client sends is dropped, nothing comes back,
   * and the client's side is never closed. The server's side is closed, as when its host died or it
   * reaped the session, so the server holds nothing for it. New connections are accepted and equally
   * silent until `restore`.
   */
  blackhole(): void {
    this.blackholing = true;
    for (const link of this.links) this.silence(link);
  }

  /** Resets every open connection, as a failover does, and sends new ones to `target`. */
  retarget(target: { host: string; port: number }): void {
    this.target = target;
    for (const { client, upstream } of this.links) {
      client.resetAndDestroy();
      upstream?.destroy();
    }
    this.links.clear();
  }

  /** Resolves once every byte slowed down so far has reached the server. */
  async delivered(): Promise<void> {
    await Promise.all([...this.links].map((link) => link.delivery));
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private link(client: net.Socket): void {
    const upstream = this.blackholing ? undefined : net.connect(this.target.port, this.target.host);
    const link: Link = { client, upstream, held: { toUpstream: [], toClient: [] }, delivery: Promise.resolve(), silent: false };
    this.links.add(link);
    if (upstream === undefined) this.silence(link);
    client.on("data", (chunk: Buffer) => this.toUpstream(link, chunk));
    upstream?.on("data", (chunk: Buffer) => {
      if (link.silent) return;
      if (this.frozen) link.held.toClient.push(chunk);
      else client.write(chunk);
    });
    const close = () => {
      this.links.delete(link);
      client.destroy();
      upstream?.destroy();
    };
    client.on("close", close).on("error", close);
    // A silenced link's server side closes by design; the client must not hear of it.
    upstream?.on("close", () => link.silent || close()).on("error", () => link.silent || close());
  }

  private toUpstream(link: Link, chunk: Buffer): void {
    if (link.silent) return;
    if (this.frozen) {
      link.held.toUpstream.push(chunk);
      return;
    }
    const dueAt = Date.now() + this.latencyMs;
    link.delivery = link.delivery.then(async () => {
      const wait = dueAt - Date.now();
      if (wait > 0) await sleep(wait);
      if (!link.silent) link.upstream!.write(chunk);
    });
  }

  private silence(link: Link): void {
    link.silent = true;
    link.held.toUpstream.length = 0;
    link.held.toClient.length = 0;
    link.upstream?.destroy();
  }

  private flush(link: Link): void {
    if (link.silent) return;
    for (const chunk of link.held.toUpstream.splice(0)) link.upstream!.write(chunk);
    for (const chunk of link.held.toClient.splice(0)) link.client.write(chunk);
  }
}
