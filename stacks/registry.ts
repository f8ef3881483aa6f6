import { Construct } from "constructs";
import { DataAlicloudMseClusters } from "../.gen/providers/alicloud/data-alicloud-mse-clusters";
import { MseCluster } from "../.gen/providers/alicloud/mse-cluster";
import type { RegistryConfig } from "./config";
import type { Subnet } from "./network";

export const NACOS_PORT = 8848;
/** Regions where an MSE Developer Edition cluster must use `single_eni` (alicloud_mse_cluster docs, `connection_type`). */
export const SINGLE_ENI_REGIONS: readonly string[] = ["ap-southeast-6", "us-west-1", "eu-central-1", "us-east-1", "ap-southeast-1"];

export interface RegistryProps extends RegistryConfig {
  readonly envName: string;
  readonly region: string;
  readonly vpcId: string;
  readonly dataSubnets: readonly Subnet[];
}

/** MSE Nacos 2.x on the private network: live settings (kill switch, limits) and service registration. */
export class Registry extends Construct {
  public readonly clusterId: string;
  /** `intranet-domain:8848`, what Nacos clients in the VPC connect to. */
  public readonly serverAddr: string;

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const cluster = new MseCluster(this, "nacos", {
      clusterAliasName: `seckill-${props.envName}-nacos`,
      clusterType: "Nacos-Ans",
      clusterVersion: "NACOS_2_0_0",
      mseVersion: props.edition,
      clusterSpecification: props.specification,
      instanceCount: props.instanceCount,
      netType: "privatenet",
      pubNetworkFlow: "0",
      vpcId: props.vpcId,
      vswitchId: props.dataSubnets[0].vswitchId,
      paymentType: "PayAsYouGo",
      connectionType: props.edition === "mse_dev" && SINGLE_ENI_REGIONS.includes(props.region) ? "single_eni" : undefined,
      // A cluster takes up to 15 minutes, exactly the provider's default (resource_alicloud_mse_cluster.go:25-26).
      timeouts: { create: "40m", update: "40m" },
    });
    this.clusterId = cluster.id;
    // alicloud_mse_cluster exports no address: the data source's details have it.
    const details = new DataAlicloudMseClusters(this, "nacos-details", { ids: [cluster.id], enableDetails: true });
    this.serverAddr = `${details.clusters.get(0).intranetDomain}:${NACOS_PORT}`;
  }
}
