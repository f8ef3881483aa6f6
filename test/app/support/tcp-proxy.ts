import net from "node:net";
import { freePort } from "../../../scripts/lib/local-services";

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Bytes held back while the proxy is frozen, per direction. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

/**
 * A TCP proxy to a real server that a test controls, to make Redis or MySQL misbehave without
 * touching the shared server: `cut` (connections reset, new ones refused), `freeze` (connections
 * stay open but nothing moves, like a hung server), and `restore`.
 */
export class TcpProxy {
  private server?: net.Server;
  private frozen = false;
  private readonly links = new Set<Link>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    await proxy.restore();
    return proxy;
  }

  /** Accepts connections and moves bytes again (including any held while frozen). */
  async restore(): Promise<void> {
    this.frozen = false;
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
      upstream.destroy();
    }
    this.links.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Keeps connections open but holds every byte until `restore`. */
  freeze(): void {
    this.frozen = true;
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private link(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const link: Link = { client, upstream, held: { toUpstream: [], toClient: [] } };
    this.links.add(link);
    const forward = (to: net.Socket, held: Buffer[]) => (chunk: Buffer) => {
      if (this.frozen) held.push(chunk);
      else to.write(chunk);
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

  private flush(link: Link): void {
    for (const chunk of link.held.toUpstream.splice(0)) link.upstream.write(chunk);
    for (const chunk of link.held.toClient.splice(0)) link.client.write(chunk);
  }
}
