import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";

/**
 * Buyer identity: `Authorization: Bearer <userId>.<sig>`, where sig is the unpadded base64url
 * HMAC-SHA256 of userId keyed with SECKILL_USER_TOKEN_SECRET. The shop's login system mints these;
 * this module has no dependencies so tests and ops scripts can mint them too.
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const BEARER = "bearer ";

function signature(userId: string, key: KeyObject | string): string {
  return createHmac("sha256", key).update(userId).digest("base64url");
}

export function mintUserToken(userId: string, secret: string): string {
  if (!USER_ID_PATTERN.test(userId)) {
    throw new Error(`userId must be 1-64 characters of [A-Za-z0-9_-], got ${JSON.stringify(userId)}`);
  }
  return `${userId}.${signature(userId, secret)}`;
}

function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length <= BEARER.length) return undefined;
  const scheme = authorization.slice(0, BEARER.length);
  if (scheme !== "Bearer " && scheme.toLowerCase() !== BEARER) return undefined;
  return authorization.slice(BEARER.length);
}

/** Returns a function mapping an Authorization header to its verified userId, or undefined. */
export function userTokenVerifier(secret: string): (authorization: string | undefined) => string | undefined {
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  return (authorization) => {
    const token = bearerToken(authorization);
    if (token === undefined) return undefined;
    const dot = token.indexOf(".");
    if (dot < 0) return undefined;
    const userId = token.slice(0, dot);
    const presented = token.slice(dot + 1);
    if (!USER_ID_PATTERN.test(userId) || !SIGNATURE_PATTERN.test(presented)) return undefined;
    const expected = signature(userId, key);
    return timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(presented, "latin1")) ? userId : undefined;
  };
}

/** Returns a constant-time check of an Authorization header against the admin bearer token. */
export function adminTokenVerifier(adminToken: string): (authorization: string | undefined) => boolean {
  // Comparing digests keeps the comparison constant-time even when the lengths differ.
  const expected = createHash("sha256").update(adminToken).digest();
  return (authorization) => {
    const token = bearerToken(authorization);
    if (token === undefined) return false;
    return timingSafeEqual(createHash("sha256").update(token).digest(), expected);
  };
}
