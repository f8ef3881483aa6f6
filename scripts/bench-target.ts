/**
 * The reference servers and the lone order writer `npm run bench` measures, one process each, started by
 * scripts/bench.ts with the Node binary under test: `node bench-target.js <hello-http|hello-express|order-writer>`.
 * Prints `ready <port>` on stdout once it serves (the order writer: once it runs); SIGTERM stops it. The service
 * itself runs as the fleet runs it (dist/app/main.js), not from here.
 */
import { createServer } from "node:http";
import { once } from "node:events";
import express from "express";
import { loadConfig } from "../app/platform/config";
import { createLogger } from "../app/platform/logger";
import { startOrderWriter, type Running } from "../app/service";

/** Answers any method: it receives the very requests the service does (POST with a bearer token, GET). */
async function helloHttp(port: number): Promise<Running> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ hello: "world" }));
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return { stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** As in fastify/benchmarks' express.cjs: etag and x-powered-by off. */
async function helloExpress(port: number): Promise<Running> {
  const app = express();
  app.disable("etag");
  app.disable("x-powered-by");
  app.all("/", (_req, res) => {
    res.json({ hello: "world" });
  });
  const server = app.listen(port, "127.0.0.1");
  await once(server, "listening");
  return { stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const port = Number(process.env.PORT);
  let running: Running;
  switch (mode) {
    case "hello-http":
      running = await helloHttp(port);
      break;
    case "hello-express":
      running = await helloExpress(port);
      break;
    case "order-writer": {
      const config = loadConfig();
      running = startOrderWriter(config, createLogger(config.logLevel, "order-writer"));
      break;
    }
    default:
      throw new Error(`unknown bench target ${JSON.stringify(mode)}`);
  }
  process.stdout.write(`ready ${port}\n`);
  process.once("SIGTERM", () => void running.stop().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
