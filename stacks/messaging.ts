import { Construct } from "constructs";
import { Fn, TerraformIterator } from "cdktf";
import { RocketmqConsumerGroup } from "../.gen/providers/alicloud/rocketmq-consumer-group";
import { RocketmqInstance } from "../.gen/providers/alicloud/rocketmq-instance";
import { RocketmqTopic } from "../.gen/providers/alicloud/rocketmq-topic";
import type { MessagingConfig } from "./config";
import type { Subnet } from "./network";

/** `endpoint_type` of the endpoint clients inside the VPC use (GetInstance API). */
export const VPC_ENDPOINT_TYPE = "TCP_VPC";
/** Bounded redelivery: DefaultRetryPolicy backs off from 10 s to 2 h; after the last attempt the message goes to the dead-letter topic. */
export const ORDER_WRITER_MAX_RETRIES = 16;

export interface MessagingProps extends MessagingConfig {
  readonly envName: string;
  readonly vpcId: string;
  readonly dataSubnets: readonly Subnet[];
  /** The only sources allowed in: the app vSwitch CIDRs. */
  readonly appCidrs: readonly string[];
}

/**
 * RocketMQ 5 for order events: the relay publishes each reserved order, the order writer consumes them, other systems
 * (payment, fulfilment) may subscribe. VPC access only, without credentials (VPC auth-free).
 */
export class Messaging extends Construct {
  /** The namespace clients pass (the instance id). */
  public readonly instanceId: string;
  /** `host:port` of the VPC endpoint, picked by endpoint type (never by list position). */
  public readonly vpcEndpoint: string;
  public readonly orderTopic: string;
  /** Where the service publishes order state changes for other systems. */
  public readonly orderEventsTopic: string;
  public readonly deadLetterTopic: string;
  public readonly orderWriterGroup: string;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const name = `seckill-${props.envName}`;
    // A cluster_ha instance spreads its brokers over the zones of the vSwitches it gets: give it every data vSwitch so
    // it survives a zone; a single node lives in one. The list is ForceNew (resource_alicloud_rocketmq_instance.go:168).
    const subnets = props.subSeries === "cluster_ha" ? props.dataSubnets : props.dataSubnets.slice(0, 1);
    const instance = new RocketmqInstance(this, "instance", {
      instanceName: `${name}-rocketmq`,
      serviceCode: "rmq",
      seriesCode: props.series,
      subSeriesCode: props.subSeries,
      paymentType: "PayAsYouGo",
      productInfo: { msgProcessSpec: props.msgProcessSpec, messageRetentionTime: props.messageRetentionHours },
      networkInfo: {
        vpcInfo: { vpcId: props.vpcId, vswitches: subnets.map((subnet) => ({ vswitchId: subnet.vswitchId })) },
        internetInfo: { internetSpec: "disable", flowOutType: "uninvolved" },
      },
      ipWhitelists: [...props.appCidrs],
      aclInfo: { aclTypes: ["default"], defaultVpcAuthFree: true },
      // The provider waits up to 35 min by default (resource_alicloud_rocketmq_instance.go:24) although its docs say 5.
      timeouts: { create: "40m" },
    });
    this.instanceId = instance.id;
    this.vpcEndpoint = Fn.one(
      TerraformIterator.fromList(instance.networkInfo.endpoints).forExpressionForList(
        `val.endpoint_url if val.endpoint_type == "${VPC_ENDPOINT_TYPE}"`,
      ),
    );

    const orders = new RocketmqTopic(this, "orders", {
      instanceId: instance.id,
      topicName: `${name}-orders`,
      messageType: "NORMAL",
      remark: "seckill_order_events",
    });
    const deadLetters = new RocketmqTopic(this, "orders-dead-letter", {
      instanceId: instance.id,
      topicName: `${name}-orders-dlq`,
      messageType: "NORMAL",
      remark: "seckill_order_events_that_kept_failing",
    });
    // Order state changes (confirmed, paid, expired) for fulfilment, payment and risk; the service publishes plain
    // messages (expiry is timed by its own sweeper, not by DELAY messages).
    const orderEvents = new RocketmqTopic(this, "order-events", {
      instanceId: instance.id,
      topicName: `${name}-order-events`,
      messageType: "NORMAL",
      remark: "seckill_order_state_changes",
    });
    const writer = new RocketmqConsumerGroup(this, "order-writer", {
      instanceId: instance.id,
      consumerGroupId: `${name}-order-writer`,
      deliveryOrderType: "Concurrently",
      consumeRetryPolicy: {
        retryPolicy: "DefaultRetryPolicy",
        maxRetryTimes: ORDER_WRITER_MAX_RETRIES,
        deadLetterTargetTopic: deadLetters.topicName,
      },
      // RocketMQ 5 remarks take only letters, digits, underscores and Chinese characters (topics and groups alike).
      remark: "seckill_order_writer",
    });
    this.orderTopic = orders.topicName;
    this.orderEventsTopic = orderEvents.topicName;
    this.deadLetterTopic = deadLetters.topicName;
    this.orderWriterGroup = writer.consumerGroupId;
  }
}
