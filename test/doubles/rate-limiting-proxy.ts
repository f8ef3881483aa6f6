/**
 * TEST DOUBLE of the ALB TrafficLimit action, not a load balancer: forwards every request to
 * `target`, except that above `qps` requests in the current second it answers 503 with an HTML
 * page itself, the way ALB does above a rule's limit. With `fromOutsideAdminCidrs` it also plays the
 * listener's admin-plane rules as a client outside admin_cidrs meets them: ALB's own 404 for those paths.
 */
import http from "node:http";
import { AddressInfo } from "node:net";
import { ADMIN_PLANE_PATHS, albPathMatches } from "../../contract/routes";
import { NOT_FOUND_BODY } from "../../stacks/ingress";

export interface RateLimitingProxy {
  readonly baseUrl: string;
  close(): Promise<void>;
}

export async function startRateLimitingProxy(
  target: string,
  qps: number,
  options: { readonly fromOutsideAdminCidrs?: boolean } = {},
): Promise<RateLimitingProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  let second = 0;
  let requestsThisSecond = 0;

  const server = http.createServer((req, res) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      requestsThisSecond = 0;
    }
    const path = (req.url ?? "/").split("?", 1)[0];
    if (options.fromOutsideAdminCidrs && ADMIN_PLANE_PATHS.some((pattern) => albPathMatches(pattern, path))) {
      req.resume();
      res.writeHead(404, { "content-type": "application/json" });
      res.end(NOT_FOUND_BODY);
      return;
    }
    if (++requestsThisSecond > qps) {
      req.resume();
      res.writeHead(503, { "content-type": "text/html" });
      res.end("<html><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>");
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html><body>502 Bad Gateway</body></html>");
    });
    req.pipe(forward);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
