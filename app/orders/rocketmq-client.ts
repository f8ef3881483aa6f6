/**
 * rocketmq-client-nodejs (1.0.8) wrapped for a long-running service. The subclasses change nothing on the wire;
 * they contain three client defects that otherwise crash or leak the process (found against the broker test
 * double, reported upstream as apache/rocketmq-clients#653, #717, #721, #741 "Call cancelled"):
 * - shutdown() removes every listener from the telemetry stream and then closes the channel, which cancels the
 *   stream; grpc-js emits 'error' with no listener left and the process dies of an unhandled 'error' event.
 * - a telemetry stream that failed shortly before shutdown() is renewed by a timer after it, opening a new channel
 *   that keeps reconnecting every second forever.
 * - shutdown() rejects when the broker is unreachable (NotifyClientTermination fails) and then skips closing the
 *   channels.
 */
import { EventEmitter } from "node:events";
import { format } from "node:util";
import { BaseClientOptions, Endpoints, ILogger, Producer, SimpleConsumer } from "rocketmq-client-nodejs";
import type { Logger } from "../platform/logger";

export interface RocketMqConnection {
  /** host:port of the instance's gRPC endpoint (the VPC endpoint on Alibaba Cloud). */
  readonly endpoints: string;
  /** The instance id on Alibaba Cloud; empty for an open-source cluster. */
  readonly namespace: string;
  /** Instance username/password; not needed inside the VPC by default. */
  readonly credentials?: { readonly username: string; readonly password: string };
}

export function clientOptions(connection: RocketMqConnection, logger: Logger): BaseClientOptions {
  return {
    endpoints: connection.endpoints,
    namespace: connection.namespace,
    sessionCredentials: connection.credentials && {
      accessKey: connection.credentials.username,
      accessSecret: connection.credentials.password,
    },
    logger: clientLogger(logger),
  };
}

/** The client logs routine events (settings sync, startup) at info; they belong at debug in the service's log. */
function clientLogger(logger: Logger): ILogger {
  return {
    debug: (...args: unknown[]) => logger.debug(format(...args)),
    info: (...args: unknown[]) => logger.debug(format(...args)),
    warn: (...args: unknown[]) => logger.warn(format(...args)),
    error: (...args: unknown[]) => logger.error(format(...args)),
  };
}

type TelemetryStream = ReturnType<Producer["createTelemetryStream"]>;

/** Shared by both client subclasses: after shutdown began, telemetry renewals get a stream that never fires. */
class ShutdownGuard {
  private closing = false;

  stream(open: () => TelemetryStream): TelemetryStream {
    if (this.closing) {
      return Object.assign(new EventEmitter(), { write: () => true, end: () => undefined }) as unknown as TelemetryStream;
    }
    const stream = open();
    const removeAllListeners = stream.removeAllListeners.bind(stream);
    const ignore = () => undefined;
    stream.on("error", ignore);
    stream.removeAllListeners = ((...event: [(string | symbol)?]) => {
      removeAllListeners(...event);
      stream.on("error", ignore);
      return stream;
    }) as typeof stream.removeAllListeners;
    return stream;
  }

  async shutdown(shutdown: () => Promise<void>, closeChannels: () => void, logger: ILogger): Promise<void> {
    this.closing = true;
    try {
      await shutdown();
    } catch (err) {
      logger.warn("RocketMQ client shut down without notifying the broker: %s", err instanceof Error ? err.message : err);
      closeChannels();
    }
  }
}

export class RocketMqProducer extends Producer {
  readonly #guard = new ShutdownGuard();

  createTelemetryStream(endpoints: Endpoints): TelemetryStream {
    return this.#guard.stream(() => super.createTelemetryStream(endpoints));
  }

  /** Never rejects: a broker that cannot be told is logged, and the channels are closed anyway. */
  async shutdown(): Promise<void> {
    await this.#guard.shutdown(
      () => super.shutdown(),
      () => this.rpcClientManager.close(),
      this.logger,
    );
  }
}

export class RocketMqSimpleConsumer extends SimpleConsumer {
  readonly #guard = new ShutdownGuard();

  createTelemetryStream(endpoints: Endpoints): TelemetryStream {
    return this.#guard.stream(() => super.createTelemetryStream(endpoints));
  }

  /** Never rejects: a broker that cannot be told is logged, and the channels are closed anyway. */
  async shutdown(): Promise<void> {
    await this.#guard.shutdown(
      () => super.shutdown(),
      () => this.rpcClientManager.close(),
      this.logger,
    );
  }
}
