/** autocannon ships no type declarations (and @types/autocannon lags its major version): the part of its API the bench uses. */
declare module "autocannon" {
  export interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
  }
  export interface AutocannonOptions {
    url: string;
    connections: number;
    duration: number;
    pipelining?: number;
    /** Requests per second over all connections (latencies corrected for coordinated omission). */
    overallRate?: number;
    requests?: AutocannonRequest[];
  }
  export interface AutocannonResult {
    requests: { total: number };
    latency: { p50: number; p99: number };
    duration: number;
    errors: number;
    timeouts: number;
    statusCodeStats: Record<string, { count: number }>;
  }
  export default function autocannon(options: AutocannonOptions): Promise<AutocannonResult>;
}
