import { adminTokenVerifier, mintUserToken, userTokenVerifier } from "../../../app/http/auth";

const SECRET = "user-token-secret-0123456789abcdef0123456789";
const verify = userTokenVerifier(SECRET);

describe("user tokens", () => {
  it("verifies a token minted with the same secret and yields its userId", () => {
    expect(verify(`Bearer ${mintUserToken("alice_01-X", SECRET)}`)).toBe("alice_01-X");
  });

  it("signs as documented: base64url HMAC-SHA256 of the userId, without padding", () => {
    const [userId, sig] = mintUserToken("bob", SECRET).split(".");
    const { createHmac } = jest.requireActual<typeof import("node:crypto")>("node:crypto");
    expect(userId).toBe("bob");
    expect(sig).toBe(createHmac("sha256", SECRET).update("bob").digest("base64url"));
    expect(sig).not.toContain("=");
  });

  it("accepts the scheme in any letter case", () => {
    expect(verify(`bearer ${mintUserToken("carol", SECRET)}`)).toBe("carol");
  });

  const good = mintUserToken("dave", SECRET);
  const [, goodSig] = good.split(".");
  it.each([
    ["no header", undefined],
    ["an empty header", ""],
    ["another scheme", `Basic ${good}`],
    ["no scheme", good],
    ["a token for another secret", `Bearer ${mintUserToken("dave", "another-secret-0123456789abcdef012345")}`],
    ["someone else's signature", `Bearer erin.${goodSig}`],
    ["a truncated signature", `Bearer ${good.slice(0, -1)}`],
    ["a padded signature", `Bearer ${good}=`],
    ["no signature", "Bearer dave"],
    ["an empty userId", `Bearer .${goodSig}`],
    ["a userId with a forbidden character", `Bearer da ve.${goodSig}`],
    ["a userId longer than 64", `Bearer ${"x".repeat(65)}.${goodSig}`],
    ["non-ASCII look-alikes in the signature", `Bearer dave.${goodSig.slice(0, -1)}\u0141`],
  ])("rejects %s", (_what, header) => {
    expect(verify(header)).toBeUndefined();
  });

  it("refuses to mint a token for an invalid userId", () => {
    expect(() => mintUserToken("no spaces", SECRET)).toThrow(/userId/);
    expect(() => mintUserToken("", SECRET)).toThrow(/userId/);
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
