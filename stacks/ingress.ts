import { Construct } from "constructs";
import { API_PREFIX, ROUTES, albPathPattern } from "../contract/routes";
import { AlbListener } from "../.gen/providers/alicloud/alb-listener";
import { AlbLoadBalancer } from "../.gen/providers/alicloud/alb-load-balancer";
import { AlbRule, AlbRuleRuleActions, AlbRuleRuleConditions } from "../.gen/providers/alicloud/alb-rule";
import { AlbServerGroup } from "../.gen/providers/alicloud/alb-server-group";
import { AlidnsRecord } from "../.gen/providers/alicloud/alidns-record";
import type { IngressConfig, RateLimit } from "./config";
import type { Subnet } from "./network";

/** The routes each rate limit covers (the app's HTTP contract). */
export const ORDER_PATHS = [albPathPattern("placeOrder")];
export const READ_PATHS = [albPathPattern("getSale"), albPathPattern("getOrder"), albPathPattern("myOrder")];
/** Where a cross-origin page's preflights go. */
export const PREFLIGHT_PATHS = [`${API_PREFIX}*`];
export const HEALTH_CHECK_PATH = ROUTES.health.path;

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
}

/**
 * Internet-facing ALB (Standard edition: TrafficLimit actions need it) in front of the scaling group's server group.
 * Rate limits live in forwarding rules (a listener's default action can only forward); above a limit ALB answers 503.
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
        certificates: protocol === "HTTPS" ? [{ certificateId: props.certificateId }] : undefined,
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
        ruleConditions: [{ type: "Path", pathConfig: { values: ["/*"] } }],
        ruleActions: [{ order: 1, type: "Redirect", redirectConfig: { protocol: "HTTPS", port: "443", httpCode: "301" } }],
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
    const rule = (
      ruleId: string,
      priority: number,
      conditions: AlbRuleRuleConditions[],
      actions: Omit<AlbRuleRuleActions, "order">[],
      after?: AlbRule,
    ) =>
      new AlbRule(this, ruleId, {
        listenerId: servingListener.id,
        ruleName: `${name}-${ruleId}`,
        priority,
        ruleConditions: conditions,
        // Actions run in list order; the final one (forward or fixed response) must have the highest order, or ALB
        // rejects the rule with IllegalParam.Order.
        ruleActions: actions.map((action, index) => ({ ...action, order: index + 1 })),
        // One rule at a time: concurrent changes on one listener fail with ResourceInConfiguring.Listener.
        dependsOn: after ? [after] : undefined,
      });
    const rateLimitedRule = (ruleId: string, priority: number, conditions: AlbRuleRuleConditions[], limit: RateLimit, after?: AlbRule) =>
      rule(
        ruleId,
        priority,
        conditions,
        [
          ...cors,
          { type: "TrafficLimit", trafficLimitConfig: { qps: limit.qps, perIpQps: limit.perIpQps } },
          { type: "ForwardGroup", forwardGroupConfig: forward },
        ],
        after,
      );
    const orderRule = rateLimitedRule(
      "orders",
      10,
      [
        { type: "Path", pathConfig: { values: ORDER_PATHS } },
        { type: "Method", methodConfig: { values: ["POST"] } },
      ],
      props.orderRateLimit,
    );
    const readRule = rateLimitedRule("reads", 20, [{ type: "Path", pathConfig: { values: READ_PATHS } }], props.readRateLimit, orderRule);
    if (cors.length > 0) {
      // Priority 5, ahead of the reads rule, which would forward OPTIONS /api/sales/… to the fleet. A 204 has no body;
      // the provider requires `content`, so it is empty.
      rule(
        "preflight",
        5,
        [
          { type: "Method", methodConfig: { values: ["OPTIONS"] } },
          { type: "Path", pathConfig: { values: PREFLIGHT_PATHS } },
        ],
        [...cors, { type: "FixedResponse", fixedResponseConfig: { httpCode: "204", content: "" } }],
        readRule,
      );
    }

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
