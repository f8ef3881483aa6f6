/**
 * The line the order writer logs once per interval with the order pipeline's figures, which the SLS alerts and the
 * dashboard read (stacks/observability.ts): its `msg`, and its fields.
 */
export const PIPELINE_LOG_MESSAGE = "order pipeline";

export interface PipelineLogFields {
  /** Age of the oldest order event not yet delivered from Redis, by Redis's clock. */
  readonly lagSeconds: number;
  /** Order events in Redis streams not yet delivered. */
  readonly backlog: number;
  /** Order events moved to a dead-letter stream since the previous line. */
  readonly deadLetters: number;
}
