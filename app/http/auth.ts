import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";

/**
 * Buyer identity: `Authorization: Bearer <userId>.<expiresAt>.<sig>`, where expiresAt is the token's expiry in epoch
 * seconds and sig is the unpadded base64url HMAC-SHA256 of `<userId>.<expiresAt>` keyed with SECKILL_USER_TOKEN_SECRET.
 * The shop's login system mints these; this module has no dependencies so tests and ops scripts can mint them too.
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Epoch seconds without leading zeros, so that one expiry has one spelling (and one signature). */
const EXPIRES_AT_PATTERN = /^[1-9][0-9]{0,10}$/;
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const BEARER = "bearer ";

/** How long a token minted without an explicit expiry lives: long enough for a sale, short enough to age out of a shared link. */
export const DEFAULT_USER_TOKEN_TTL_SECONDS = 3600;
/** How far ahead a token's expiry may lie by default (SECKILL_USER_TOKEN_MAX_TTL_SECONDS). */
export const DEFAULT_USER_TOKEN_MAX_TTL_SECONDS = 86_400;

/** When a minted token expires: at an absolute time (epoch seconds) or after a lifetime from now. */
export type UserTokenExpiry = { readonly expiresAt: number } | { readonly ttlSeconds: number };

/** What the service verifies buyer tokens with. */
export interface UserTokenKeys {
  /** SECKILL_USER_TOKEN_SECRET: what the shop's login signs with now. */
  readonly userTokenSecret: string;
  /**
   * SECKILL_USER_TOKEN_SECRET_PREVIOUS: still accepted while the login moves to a new secret, until acceptedUntilMs
   * (the rotation time plus SECKILL_USER_TOKEN_ROTATION_OVERLAP_SECONDS).
   */
  readonly userTokenPreviousSecret?: PreviousUserTokenSecret;
  /** SECKILL_USER_TOKEN_MAX_TTL_SECONDS: tokens expiring further ahead are refused (default one day). */
  readonly userTokenMaxTtlSeconds?: number;
}

/** The buyer-token key being rotated out, and the end of the overlap in which its tokens still count. */
export interface PreviousUserTokenSecret {
  readonly secret: string;
  readonly acceptedUntilMs: number;
}

function signature(payload: string, key: KeyObject | string): string {
  return createHmac("sha256", key).update(payload).digest("base64url");
}

export function mintUserToken(
  userId: string,
  secret: string,
  expiry: UserTokenExpiry = { ttlSeconds: DEFAULT_USER_TOKEN_TTL_SECONDS },
): string {
  if (!USER_ID_PATTERN.test(userId)) {
    throw new Error(`userId must be 1-64 characters of [A-Za-z0-9_-], got ${JSON.stringify(userId)}`);
  }
  const expiresAt = "expiresAt" in expiry ? expiry.expiresAt : Math.floor(Date.now() / 1000) + expiry.ttlSeconds;
  if (!Number.isSafeInteger(expiresAt) || !EXPIRES_AT_PATTERN.test(String(expiresAt))) {
    throw new Error(`expiresAt must be a positive whole number of epoch seconds, got ${expiresAt}`);
  }
  const payload = `${userId}.${expiresAt}`;
  return `${payload}.${signature(payload, secret)}`;
}

function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length <= BEARER.length) return undefined;
  const scheme = authorization.slice(0, BEARER.length);
  if (scheme !== "Bearer " && scheme.toLowerCase() !== BEARER) return undefined;
  return authorization.slice(BEARER.length);
}

/**
 * Returns a function mapping an Authorization header to its verified userId, or undefined: for a malformed token
 * (two-part tokens from before expiries included), one that has expired, one expiring more than the maximum lifetime
 * ahead of `nowMs()`, or one signed with neither secret (the previous one counts only until its overlap ends).
 */
export function userTokenVerifier(
  keys: UserTokenKeys,
  nowMs: () => number = Date.now,
): (authorization: string | undefined) => string | undefined {
  const keyOf = (secret: string) => createSecretKey(Buffer.from(secret, "utf8"));
  const currentKey = keyOf(keys.userTokenSecret);
  const previous = keys.userTokenPreviousSecret && {
    key: keyOf(keys.userTokenPreviousSecret.secret),
    until: keys.userTokenPreviousSecret.acceptedUntilMs,
  };
  const maxTtlSeconds = keys.userTokenMaxTtlSeconds ?? DEFAULT_USER_TOKEN_MAX_TTL_SECONDS;
  return (authorization) => {
    const token = bearerToken(authorization);
    if (token === undefined) return undefined;
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [userId, expiresAtText, presented] = parts;
    if (!USER_ID_PATTERN.test(userId) || !EXPIRES_AT_PATTERN.test(expiresAtText) || !SIGNATURE_PATTERN.test(presented)) {
      return undefined;
    }
    const now = nowMs();
    const nowSeconds = Math.floor(now / 1000);
    const expiresAt = Number(expiresAtText);
    if (expiresAt <= nowSeconds || expiresAt > nowSeconds + maxTtlSeconds) return undefined;
    // Every key is compared, in constant time, whichever matches: the answer's timing says nothing about the signature.
    const presentedBytes = Buffer.from(presented, "latin1");
    let signedByAKey = false;
    for (const key of previous && now < previous.until ? [currentKey, previous.key] : [currentKey]) {
      const expected = Buffer.from(signature(`${userId}.${expiresAtText}`, key), "latin1");
      signedByAKey = timingSafeEqual(expected, presentedBytes) || signedByAKey;
    }
    return signedByAKey ? userId : undefined;
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
