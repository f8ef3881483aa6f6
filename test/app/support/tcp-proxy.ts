import net from "node:net";
import { freePort } from "../../../scripts/lib/local-services";

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Bytes held back while the proxy is frozen, per direction. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

/** Bytes on their way through a delay, in arrival order, with the time each may go. */
type DelayedChunks = { readonly at: number; readonly chunk: Buffer }[];

function sendWhenDue(to: net.Socket, delayed: DelayedChunks): void {
  setTimeout(
    () => {
      while (delayed.length > 0 && delayed[0].at <= Date.now()) {
        const { chunk } = delayed.shift()!;
        if (!to.destroyed) to.write(chunk);
      }
      if (delayed.length > 0) sendWhenDue(to, delayed);
    },
    Math.max(0, delayed[0].at - Date.now()),
  );
}

interface Target {
  readonly host: string;
  readonly port: number;
}

/**
 * A TCP proxy to a real server that a test controls, to make Redis or MySQL misbehave without
 * touching the shared server: `cut` (connections reset, new ones refused), `freeze` (connections
 * stay open but nothing moves, like a hung server), `delay` (a slow network), `retarget` (a
 * failover moving the address to another server), and `restore`.
 */
export class TcpProxy {
  private server?: net.Server;
  private frozen = false;
  private delayMs = 0;
  private readonly links = new Set<Link>();

  private constructor(
    readonly port: number,
    private target: Target,
  ) {}

  static async start(target: Target): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    await proxy.restore();
    return proxy;
  }

  /** Accepts connections and moves bytes again, without delay (including any held while frozen). */
  async restore(): Promise<void> {
    this.frozen = false;
    this.delayMs = 0;
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
    this.resetLinks();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Keeps connections open but holds every byte until `restore`. */
  freeze(): void {
    this.frozen = true;
  }

  /** Forwards every chunk, both ways, `ms` after it arrived (in order); 0 forwards at once again. */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Drops every open connection, as a failover does, and sends new ones to `target`. */
  retarget(target: Target): void {
    this.target = target;
    this.resetLinks();
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private link(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const link: Link = { client, upstream, held: { toUpstream: [], toClient: [] } };
    this.links.add(link);
    const forward = (to: net.Socket, held: Buffer[]) => {
      const delayed: DelayedChunks = [];
      return (chunk: Buffer) => {
        if (this.frozen) held.push(chunk);
        // Behind chunks still delayed even when the delay is over: a byte stream must stay in order.
        else if (this.delayMs > 0 || delayed.length > 0) {
          delayed.push({ at: Date.now() + this.delayMs, chunk });
          if (delayed.length === 1) sendWhenDue(to, delayed);
        } else to.write(chunk);
      };
    };
    client.on("data", forward(upstream, link.held.toUpstream));
    upstream.on("data", forward(client, link.held.toClient));
    const close = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on("close", close).on("error", close);
  }

  private resetLinks(): void {
    for (const { client, upstream } of this.links) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.links.clear();
  }

  private flush(link: Link): void {
    for (const chunk of link.held.toUpstream.splice(0)) link.upstream.write(chunk);
    for (const chunk of link.held.toClient.splice(0)) link.client.write(chunk);
  }
}
