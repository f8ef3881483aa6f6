import { createHmac, timingSafeEqual } from "node:crypto";

/** The header the payment provider signs its callback in: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const PAYMENT_SIGNATURE_HEADER = "x-seckill-signature";

/** The header value for `body` under `secret` (what the provider, the smoke test and the demo send). */
export function paymentSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Whether `header` is the signature of exactly these bytes, compared in constant time. */
export function verifyPaymentSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(paymentSignature(secret, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
