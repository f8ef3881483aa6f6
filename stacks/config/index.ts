/**
 * Per-environment configuration: `envs/<env>.tfvars` → validated, typed {@link EnvConfig}. The schema declares every
 * key (schema.ts), the rules between keys refine it (rules.ts), env-config.ts maps a valid file onto the model the
 * stacks build from, and load.ts reads the files.
 */
export type {
  AlarmContact,
  AlarmThresholds,
  AppConfig,
  CacheConfig,
  ComputeConfig,
  DataStoreBilling,
  DataStoreConfig,
  DatabaseConfig,
  EnvConfig,
  IngressConfig,
  LogLevel,
  MessagingConfig,
  MseEdition,
  NetworkConfig,
  ObservabilityConfig,
  RateLimit,
  RegistryConfig,
  RocketMqSeries,
  RocketMqSubSeries,
  SalePageConfig,
  SaleWindow,
  ScalingMetric,
  StateBackendConfig,
  TairReplicaAck,
} from "./env-config";
export { ENV_NAME, TfvarsError, loadAllEnvConfigs, loadEnvConfig, validateEnvConfig, type SynthOptions } from "./load";
export { MAX_SCHEDULE_AHEAD_DAYS, SYSTEM_IMAGE_ID, TFVARS_KEYS, TLS_1_2_SECURITY_POLICIES } from "./schema";
