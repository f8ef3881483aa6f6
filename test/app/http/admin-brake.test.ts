import type { IncomingMessage } from "node:http";
import { AdminBrake, clientAddress } from "../../../app/http/admin-brake";

describe("AdminBrake", () => {
  const T0 = 1_000_000;

  it("lets an address fail up to the limit, then refuses it until the window ends", () => {
    const brake = new AdminBrake(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(brake.retryAfterSeconds("198.51.100.7", T0 + i)).toBe(0);
      brake.recordFailure("198.51.100.7", T0 + i);
    }
    expect(brake.retryAfterSeconds("198.51.100.7", T0 + 10)).toBe(60);
    expect(brake.retryAfterSeconds("198.51.100.7", T0 + 59_500)).toBe(1);
    expect(brake.retryAfterSeconds("198.51.100.7", T0 + 60_000)).toBe(0);
  });

  it("counts each address on its own", () => {
    const brake = new AdminBrake(1, 60_000);
    brake.recordFailure("198.51.100.7", T0);
    expect(brake.retryAfterSeconds("198.51.100.7", T0)).toBeGreaterThan(0);
    expect(brake.retryAfterSeconds("198.51.100.8", T0)).toBe(0);
  });

  it("forgets failures from an earlier window", () => {
    const brake = new AdminBrake(2, 60_000);
    brake.recordFailure("198.51.100.7", T0);
    brake.recordFailure("198.51.100.7", T0 + 60_000);
    expect(brake.retryAfterSeconds("198.51.100.7", T0 + 60_001)).toBe(0);
  });
});

describe("clientAddress", () => {
  const request = (forwardedFor: string | undefined, remoteAddress = "10.0.240.17") =>
    ({ headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }, socket: { remoteAddress } }) as IncomingMessage;

  it("is the last X-Forwarded-For entry: the address the ALB appended, whatever the client sent before it", () => {
    expect(clientAddress(request("203.0.113.5"))).toBe("203.0.113.5");
    expect(clientAddress(request("192.0.2.1, 203.0.113.5"))).toBe("203.0.113.5");
  });

  it("is the connection's address without a proxy in between", () => {
    expect(clientAddress(request(undefined, "127.0.0.1"))).toBe("127.0.0.1");
    expect(clientAddress(request("", "127.0.0.1"))).toBe("127.0.0.1");
  });
});
