/**
 * TEST DOUBLE, not the service: an in-memory HTTP server that answers the seckill contract
 * (issue 4) with one deliberate defect. Its stock guard is off by one (`sold <= stock`, the
 * classic F1 bug in seckill-anchors), so every sale hands out one unit more than it has. Everything
 * else is consistent (orders confirm at once, stats agree with what it did), so the smoke test
 * must catch the oversell from what buyers were told.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { AddressInfo } from "node:net";
import { adminTokenVerifier, userTokenVerifier } from "../../app/http/auth";

interface DoubleSale {
  id: string;
  itemName: string;
  stock: number;
  sold: number;
  startsAt: string;
  endsAt: string;
  buyers: Map<string, string>;
}

export interface OversellingApp {
  readonly baseUrl: string;
  close(): Promise<void>;
}

export async function startOversellingApp(secrets: { adminToken: string; userTokenSecret: string }): Promise<OversellingApp> {
  const isAdmin = adminTokenVerifier(secrets.adminToken);
  const buyerOf = userTokenVerifier(secrets);
  const sales = new Map<string, DoubleSale>();
  const orders = new Map<string, { saleId: string; userId: string }>();

  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(json));
      };
      const path = req.url ?? "/";
      const route = `${req.method} ${path}`;
      let match: RegExpExecArray | null;

      if (route === "GET /healthz") return reply(200, { status: "ok" });
      if (route === "GET /readyz") return reply(200, { status: "ready" });
      if (route === "POST /admin/sales") {
        if (!isAdmin(req.headers.authorization)) return reply(401, { error: "unauthorized", message: "admin token required" });
        const input = JSON.parse(body) as { itemName: string; stock: number; startsAt: string; endsAt: string };
        const sale: DoubleSale = { ...input, id: randomBytes(8).toString("hex"), sold: 0, buyers: new Map() };
        sales.set(sale.id, sale);
        return reply(201, view(sale));
      }
      if ((match = /^GET \/api\/sales\/(\w+)$/.exec(route))) {
        const sale = sales.get(match[1]);
        return sale ? reply(200, view(sale)) : reply(404, { error: "not_found", message: "no such sale" });
      }
      if ((match = /^POST \/api\/sales\/(\w+)\/orders$/.exec(route))) {
        const sale = sales.get(match[1]);
        const userId = buyerOf(req.headers.authorization);
        if (!sale) return reply(404, { error: "not_found", message: "no such sale" });
        if (!userId) return reply(401, { error: "unauthorized", message: "buyer token required" });
        const held = sale.buyers.get(userId);
        if (held) return reply(409, { error: "already_purchased", orderId: held });
        // THE DEFECT: `<=` lets one buyer more through than there are units.
        if (sale.sold <= sale.stock) {
          sale.sold++;
          const orderId = `${sale.id}-${sale.sold}`;
          sale.buyers.set(userId, orderId);
          orders.set(orderId, { saleId: sale.id, userId });
          return reply(202, { orderId, status: "pending" });
        }
        return reply(410, { error: "sold_out", message: "sold out" });
      }
      if ((match = /^GET \/api\/orders\/([\w-]+)$/.exec(route))) {
        const order = orders.get(match[1]);
        if (!order || order.userId !== buyerOf(req.headers.authorization))
          return reply(404, { error: "not_found", message: "no such order" });
        return reply(200, { orderId: match[1], ...order, status: "confirmed" });
      }
      if ((match = /^GET \/admin\/sales\/(\w+)\/stats$/.exec(route))) {
        const sale = sales.get(match[1]);
        if (!sale) return reply(404, { error: "not_found", message: "no such sale" });
        return reply(200, { stock: sale.stock, reserved: sale.sold, confirmed: sale.sold, pending: 0 });
      }
      return reply(404, { error: "not_found", message: `no route ${route}` });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function view(sale: DoubleSale) {
  const status = sale.sold >= sale.stock ? "sold_out" : "active";
  return {
    id: sale.id,
    itemName: sale.itemName,
    stock: sale.stock,
    remaining: Math.max(0, sale.stock - sale.sold),
    startsAt: sale.startsAt,
    endsAt: sale.endsAt,
    status,
  };
}
