import { Construct } from "constructs";
import { ADMIN_PLANE_PATHS, API_PREFIX, PAYMENT_PROVIDER_PATHS, ROUTES, albPathPattern } from "../contract/routes";
import { AlbListener } from "../.gen/providers/alicloud/alb-listener";
import { AlbLoadBalancer } from "../.gen/providers/alicloud/alb-load-balancer";
import { AlbRule, AlbRuleRuleActions, AlbRuleRuleConditions } from "../.gen/providers/alicloud/alb-rule";
import { AlbServerGroup } from "../.gen/providers/alicloud/alb-server-group";
import { AlidnsRecord } from "../.gen/providers/alicloud/alidns-record";
import type { IngressConfig, RateLimit } from "./config";
import type { Subnet } from "./network";

/** The routes each rate limit covers (the app's HTTP contract). */
export const ORDER_PATHS = [albPathPattern("placeOrder"), albPathPattern("payOrder")];
export const READ_PATHS = [albPathPattern("getSale"), albPathPattern("getOrder"), albPathPattern("myOrder")];
/** Where a cross-origin page's preflights go. */
export const PREFLIGHT_PATHS = [`${API_PREFIX}*`];
export const HEALTH_CHECK_PATH = ROUTES.health.path;
/** Every path: the last rule, so that the listener's default action (which can only forward, unlimited) serves nothing. */
export const CATCH_ALL_PATHS = ["/*"];
/**
 * What ALB answers for an admin-plane path from outside admin_cidrs: the service's own 404 body, so a hidden path looks
 * like one that does not exist.
 */
export const NOT_FOUND_BODY = JSON.stringify({ error: "not_found", message: "no such resource" });

/**
 * Rule priorities on the serving listener; lower is matched first. The admin plane comes before anything that forwards
 * without a source condition, the catch-all after everything (10000 is the highest priority ALB takes,
 * website/docs/r/alb_rule.html.markdown:178).
 */
export const RULE_PRIORITY = {
  adminPlane: 1,
  adminPlaneHidden: 2,
  preflight: 5,
  orders: 10,
  paymentCallbacks: 15,
  reads: 20,
  catchAll: 10_000,
} as const;

export interface IngressProps extends IngressConfig {
  readonly envName: string;
  readonly vpcId: string;
  /** One per zone; ALB needs at least two zones. */
  readonly albSubnets: readonly Subnet[];
  readonly appPort: number;
  readonly deletionProtection: boolean;
  /**
   * The sale page's origin (`https://shop.example.com`) when it is served from a host of its own: the API rules then
   * answer it with CORS headers, and ALB itself answers its preflights.
   */
  readonly salePageOrigin?: string;
  /** Where the ALB ships its access log (the only record of the requests its rate limits turned away). */
  readonly accessLog: { readonly project: string; readonly logstore: string };
}

/**
 * Internet-facing ALB (Standard edition: TrafficLimit actions need it) in front of the scaling group's server group.
 * Rate limits live in forwarding rules (a listener's default action can only forward); above a limit ALB answers 503.
 * Every request meets a rule: orders and reads with their limits, the admin plane forwarded only from admin_cidrs (404
 * from ALB for everyone else), and a catch-all with the default limit, so the default action serves nothing.
 * CORS for a sale page on its own host lives in the rules too, so the fleet never sees a preflight.
 */
export class Ingress extends Construct {
  public readonly loadBalancerId: string;
  public readonly dnsName: string;
  /** The scaling group registers its instances here. */
  public readonly serverGroupId: string;
  /** Ports open to the internet; nothing else may be. */
  public readonly listenerPorts: readonly number[];
  /** Where shoppers and the smoke test reach the service. */
  public readonly publicUrl: string;

  constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);
    const name = `seckill-${props.envName}`;
    const https = props.certificateId !== undefined;

    const alb = new AlbLoadBalancer(this, "alb", {
      loadBalancerName: `${name}-alb`,
      loadBalancerEdition: props.albEdition,
      addressType: "Internet",
      addressAllocatedMode: "Dynamic",
      vpcId: props.vpcId,
      loadBalancerBillingConfig: { payType: "PayAsYouGo" },
      zoneMappings: props.albSubnets.map((subnet) => ({ zoneId: subnet.zoneId, vswitchId: subnet.vswitchId })),
      deletionProtectionEnabled: props.deletionProtection,
      accessLogConfig: { logProject: props.accessLog.project, logStore: props.accessLog.logstore },
    });
    this.loadBalancerId = alb.id;
    this.dnsName = alb.dnsName;

    const serverGroup = new AlbServerGroup(this, "app", {
      serverGroupName: `${name}-app`,
      serverGroupType: "Instance",
      protocol: "HTTP",
      vpcId: props.vpcId,
      scheduler: "Wrr",
      healthCheckConfig: {
        healthCheckEnabled: true,
        healthCheckProtocol: "HTTP",
        healthCheckMethod: "GET",
        healthCheckPath: HEALTH_CHECK_PATH,
        healthCheckCodes: ["http_2xx"],
        healthCheckHttpVersion: "HTTP1.1",
        healthCheckConnectPort: 0,
        healthCheckInterval: 2,
        healthCheckTimeout: 2,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
      // New instances join a sale already at full load: ramp them up; let leaving ones finish in-flight orders.
      slowStartConfig: { slowStartEnabled: true, slowStartDuration: 30 },
      connectionDrainConfig: { connectionDrainEnabled: true, connectionDrainTimeout: 30 },
      // The scaling group adds and removes servers; without this the next apply deletes them all (provider issue #8729).
      lifecycle: { ignoreChanges: ["servers"] },
    });
    this.serverGroupId = serverGroup.id;
    const forward = { serverGroupTuples: [{ serverGroupId: serverGroup.id }] };

    const listener = (protocol: "HTTP" | "HTTPS", port: number) =>
      new AlbListener(this, `${protocol.toLowerCase()}-listener`, {
        loadBalancerId: alb.id,
        listenerProtocol: protocol,
        listenerPort: port,
        listenerDescription: `${name}-${protocol.toLowerCase()}`,
        ...(protocol === "HTTPS"
          ? {
              certificates: [{ certificateId: props.certificateId }],
              // ALB's default policy, tls_cipher_policy_1_0, still admits TLS 1.0 and 1.1.
              securityPolicyId: props.tlsSecurityPolicy,
              // Browsers speak HTTP/2 only over TLS, so it is turned on where they can use it.
              http2Enabled: true,
            }
          : {}),
        // The service tells clients apart (the admin brake, the audit log) by the last X-Forwarded-For entry: the
        // address ALB was connected from, appended to whatever the client sent.
        xForwardedForConfig: { xForwardedForEnabled: true, xForwardedForProcessingMode: "append" },
        idleTimeout: 15,
        requestTimeout: 60,
        defaultActions: [{ type: "ForwardGroup", forwardGroupConfig: forward }],
      });
    const httpListener = listener("HTTP", 80);
    const servingListener = https ? listener("HTTPS", 443) : httpListener;
    this.listenerPorts = https ? [80, 443] : [80];

    if (https) {
      new AlbRule(this, "redirect-to-https", {
        listenerId: httpListener.id,
        ruleName: `${name}-to-https`,
        priority: 1,
        ruleConditions: [{ type: "Path", pathConfig: { values: CATCH_ALL_PATHS } }],
        // 308, not 301: a client may replay a 301-redirected POST (an order) as a GET.
        ruleActions: [{ order: 1, type: "Redirect", redirectConfig: { protocol: "HTTPS", port: "443", httpCode: "308" } }],
      });
    }

    // The page sends its bearer token in Authorization (never a cookie), so a browser preflights orders and order reads.
    const cors: Omit<AlbRuleRuleActions, "order">[] = props.salePageOrigin
      ? [
          {
            type: "Cors",
            corsConfig: {
              allowOrigin: [props.salePageOrigin],
              allowMethods: ["GET", "POST", "OPTIONS"],
              allowHeaders: ["Authorization", "Content-Type"],
              // The page corrects a skewed local clock from Date; browsers hide it cross-origin unless exposed.
              exposeHeaders: ["Date"],
              maxAge: 600,
              allowCredentials: "off",
            },
          },
        ]
      : [];
    // One rule at a time, each after the one before: concurrent changes on one listener fail with
    // ResourceInConfiguring.Listener.
    let previousRule: AlbRule | undefined;
    const rule = (ruleId: string, priority: number, conditions: AlbRuleRuleConditions[], actions: Omit<AlbRuleRuleActions, "order">[]) => {
      previousRule = new AlbRule(this, ruleId, {
        listenerId: servingListener.id,
        ruleName: `${name}-${ruleId}`,
        priority,
        ruleConditions: conditions,
        // Actions run in list order; the final one (forward or fixed response) must have the highest order, or ALB
        // rejects the rule with IllegalParam.Order.
        ruleActions: actions.map((action, index) => ({ ...action, order: index + 1 })),
        dependsOn: previousRule ? [previousRule] : undefined,
      });
    };
    const limitThenForward = (limit: RateLimit): Omit<AlbRuleRuleActions, "order">[] => [
      { type: "TrafficLimit", trafficLimitConfig: { qps: limit.qps, perIpQps: limit.perIpQps } },
      { type: "ForwardGroup", forwardGroupConfig: forward },
    ];
    const paths = (values: readonly string[]): AlbRuleRuleConditions => ({ type: "Path", pathConfig: { values: [...values] } });

    rule(
      "orders",
      RULE_PRIORITY.orders,
      [paths(ORDER_PATHS), { type: "Method", methodConfig: { values: ["POST"] } }],
      [...cors, ...limitThenForward(props.orderRateLimit)],
    );
    // The provider calls from its own addresses, never a browser: no CORS. Each payment follows an order, so the order
    // limit bounds them too.
    rule(
      "payment-callbacks",
      RULE_PRIORITY.paymentCallbacks,
      [paths(PAYMENT_PROVIDER_PATHS), { type: "Method", methodConfig: { values: ["POST"] } }],
      limitThenForward(props.orderRateLimit),
    );
    rule("reads", RULE_PRIORITY.reads, [paths(READ_PATHS)], [...cors, ...limitThenForward(props.readRateLimit)]);
    if (cors.length > 0) {
      // Ahead of the reads rule, which would forward OPTIONS /api/sales/… to the fleet. A 204 has no body; the provider
      // requires `content`, so it is empty.
      rule(
        "preflight",
        RULE_PRIORITY.preflight,
        [{ type: "Method", methodConfig: { values: ["OPTIONS"] } }, paths(PREFLIGHT_PATHS)],
        [...cors, { type: "FixedResponse", fixedResponseConfig: { httpCode: "204", content: "" } }],
      );
    }
    if (props.adminCidrs.length > 0) {
      rule(
        "admin-plane",
        RULE_PRIORITY.adminPlane,
        [paths(ADMIN_PLANE_PATHS), { type: "SourceIp", sourceIpConfig: { values: [...props.adminCidrs] } }],
        limitThenForward(props.defaultRateLimit),
      );
    }
    rule(
      "admin-plane-hidden",
      RULE_PRIORITY.adminPlaneHidden,
      [paths(ADMIN_PLANE_PATHS)],
      [{ type: "FixedResponse", fixedResponseConfig: { httpCode: "404", contentType: "application/json", content: NOT_FOUND_BODY } }],
    );
    rule("catch-all", RULE_PRIORITY.catchAll, [paths(CATCH_ALL_PATHS)], limitThenForward(props.defaultRateLimit));

    const scheme = https ? "https" : "http";
    if (props.dns) {
      new AlidnsRecord(this, "dns", {
        domainName: props.dns.domainName,
        rr: props.dns.recordName,
        type: "CNAME",
        value: alb.dnsName,
        ttl: 600,
      });
      const host = props.dns.recordName === "@" ? props.dns.domainName : `${props.dns.recordName}.${props.dns.domainName}`;
      this.publicUrl = `${scheme}://${host}`;
    } else {
      this.publicUrl = `${scheme}://${alb.dnsName}`;
    }
  }
}
