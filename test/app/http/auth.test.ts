import { createHmac } from "node:crypto";
import {
  DEFAULT_USER_TOKEN_MAX_TTL_SECONDS,
  DEFAULT_USER_TOKEN_TTL_SECONDS,
  adminTokenVerifier,
  mintUserToken,
  userTokenVerifier,
} from "../../../app/http/auth";

const SECRET = "user-token-secret-0123456789abcdef0123456789";
const OLD_SECRET = "user-token-secret-rotated-out-0123456789ab";
/** The verifier's clock: tokens are judged against it, not against the machine's. */
const NOW_S = 1_800_000_000;
const clock = () => NOW_S * 1000;
const verify = userTokenVerifier({ userTokenSecret: SECRET }, clock);
const mint = (userId: string, expiresAt = NOW_S + 600, secret = SECRET) => mintUserToken(userId, secret, { expiresAt });

describe("user tokens", () => {
  it("verifies a token minted with the same secret and yields its userId", () => {
    expect(verify(`Bearer ${mint("alice_01-X")}`)).toBe("alice_01-X");
  });

  it("signs as documented: <userId>.<expiresAt>.<base64url HMAC-SHA256 of both>, without padding", () => {
    const [userId, expiresAt, sig] = mintUserToken("bob", SECRET, { expiresAt: 1_900_000_000 }).split(".");
    expect([userId, expiresAt]).toEqual(["bob", "1900000000"]);
    expect(sig).toBe(createHmac("sha256", SECRET).update("bob.1900000000").digest("base64url"));
    expect(sig).not.toContain("=");
  });

  it("mints with a lifetime from now: one hour unless told otherwise", () => {
    const before = Math.floor(Date.now() / 1000);
    const expiresAtOf = (token: string) => Number(token.split(".")[1]);
    const byDefault = expiresAtOf(mintUserToken("carol", SECRET));
    expect(byDefault).toBeGreaterThanOrEqual(before + DEFAULT_USER_TOKEN_TTL_SECONDS);
    expect(byDefault).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + DEFAULT_USER_TOKEN_TTL_SECONDS);
    expect(expiresAtOf(mintUserToken("carol", SECRET, { ttlSeconds: 60 }))).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 60);
    const live = userTokenVerifier({ userTokenSecret: SECRET });
    expect(live(`Bearer ${mintUserToken("carol", SECRET)}`)).toBe("carol");
  });

  it("accepts the scheme in any letter case", () => {
    expect(verify(`bearer ${mint("carol")}`)).toBe("carol");
  });

  describe("expiry and the clock", () => {
    it("accepts a token until its expiry second and refuses it from then on", () => {
      expect(verify(`Bearer ${mint("dave", NOW_S + 1)}`)).toBe("dave");
      expect(verify(`Bearer ${mint("dave", NOW_S)}`)).toBeUndefined();
      expect(verify(`Bearer ${mint("dave", NOW_S - 3600)}`)).toBeUndefined();
    });

    it("refuses a token expiring further ahead than the maximum lifetime (a day unless configured)", () => {
      expect(verify(`Bearer ${mint("dave", NOW_S + DEFAULT_USER_TOKEN_MAX_TTL_SECONDS)}`)).toBe("dave");
      expect(verify(`Bearer ${mint("dave", NOW_S + DEFAULT_USER_TOKEN_MAX_TTL_SECONDS + 1)}`)).toBeUndefined();
      const strict = userTokenVerifier({ userTokenSecret: SECRET, userTokenMaxTtlSeconds: 300 }, clock);
      expect(strict(`Bearer ${mint("dave", NOW_S + 300)}`)).toBe("dave");
      expect(strict(`Bearer ${mint("dave", NOW_S + 301)}`)).toBeUndefined();
    });
  });

  describe("rotation", () => {
    const overlapEndsMs = NOW_S * 1000 + 1;
    const rotating = userTokenVerifier(
      { userTokenSecret: SECRET, userTokenPreviousSecret: { secret: OLD_SECRET, acceptedUntilMs: overlapEndsMs } },
      clock,
    );

    it("accepts tokens signed with the current or the previous secret within the overlap", () => {
      expect(rotating(`Bearer ${mint("erin", NOW_S + 600, SECRET)}`)).toBe("erin");
      expect(rotating(`Bearer ${mint("erin", NOW_S + 600, OLD_SECRET)}`)).toBe("erin");
    });

    it("still refuses an expired token signed with the previous secret, and any other secret", () => {
      expect(rotating(`Bearer ${mint("erin", NOW_S - 1, OLD_SECRET)}`)).toBeUndefined();
      expect(rotating(`Bearer ${mint("erin", NOW_S + 600, "a-third-secret-0123456789abcdef0123")}`)).toBeUndefined();
    });

    it("refuses the previous secret's unexpired tokens once the overlap has ended, and still takes the current one's", () => {
      const ended = userTokenVerifier(
        { userTokenSecret: SECRET, userTokenPreviousSecret: { secret: OLD_SECRET, acceptedUntilMs: NOW_S * 1000 } },
        clock,
      );
      expect(ended(`Bearer ${mint("erin", NOW_S + 600, OLD_SECRET)}`)).toBeUndefined();
      expect(ended(`Bearer ${mint("erin", NOW_S + 600, SECRET)}`)).toBe("erin");
    });

    it("refuses the previous secret's tokens once it is no longer configured", () => {
      expect(verify(`Bearer ${mint("erin", NOW_S + 600, OLD_SECRET)}`)).toBeUndefined();
    });
  });

  const good = mint("dave");
  const [, goodExpiresAt, goodSig] = good.split(".");
  const legacyTwoPart = `dave.${createHmac("sha256", SECRET).update("dave").digest("base64url")}`;
  it.each([
    ["no header", undefined],
    ["an empty header", ""],
    ["another scheme", `Basic ${good}`],
    ["no scheme", good],
    ["a token for another secret", `Bearer ${mint("dave", NOW_S + 600, "another-secret-0123456789abcdef012345")}`],
    ["a two-part token (userId.sig, from before expiries)", `Bearer ${legacyTwoPart}`],
    ["someone else's signature", `Bearer erin.${goodExpiresAt}.${goodSig}`],
    ["a later expiry under the same signature", `Bearer dave.${Number(goodExpiresAt) + 1}.${goodSig}`],
    ["an expiry with a leading zero", `Bearer dave.0${goodExpiresAt}.${goodSig}`],
    ["an expiry that is not a number", `Bearer dave.soon.${goodSig}`],
    ["an empty expiry", `Bearer dave..${goodSig}`],
    ["a fourth part", `Bearer ${good}.x`],
    ["a truncated signature", `Bearer ${good.slice(0, -1)}`],
    ["a padded signature", `Bearer ${good}=`],
    ["no signature", `Bearer dave.${goodExpiresAt}`],
    ["an empty userId", `Bearer .${goodExpiresAt}.${goodSig}`],
    ["a userId with a forbidden character", `Bearer da ve.${goodExpiresAt}.${goodSig}`],
    ["a userId longer than 64", `Bearer ${"x".repeat(65)}.${goodExpiresAt}.${goodSig}`],
    ["non-ASCII look-alikes in the signature", `Bearer dave.${goodExpiresAt}.${goodSig.slice(0, -1)}\u0141`],
  ])("rejects %s", (_what, header) => {
    expect(verify(header)).toBeUndefined();
  });

  it("refuses to mint a token for an invalid userId or expiry", () => {
    expect(() => mintUserToken("no spaces", SECRET)).toThrow(/userId/);
    expect(() => mintUserToken("", SECRET)).toThrow(/userId/);
    expect(() => mintUserToken("frank", SECRET, { expiresAt: 0 })).toThrow(/expiresAt/);
    expect(() => mintUserToken("frank", SECRET, { expiresAt: 1.5 })).toThrow(/expiresAt/);
    expect(() => mintUserToken("frank", SECRET, { ttlSeconds: Number.NaN })).toThrow(/expiresAt/);
  });
});

describe("the admin token", () => {
  const isAdmin = adminTokenVerifier("admin-token-0123456789abcdef0123456789");

  it("accepts exactly the configured bearer token", () => {
    expect(isAdmin("Bearer admin-token-0123456789abcdef0123456789")).toBe(true);
  });

  it.each([
    undefined,
    "",
    "Bearer ",
    "Bearer admin-token",
    "Bearer admin-token-0123456789abcdef01234567890",
    "admin-token-0123456789abcdef0123456789",
  ])("rejects %p", (header) => {
    expect(isAdmin(header)).toBe(false);
  });
});
