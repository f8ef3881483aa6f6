import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TerraformStack, TerraformVariable, Testing } from "cdktf";
import { IConstruct } from "constructs";
import { GuardRails } from "../../stacks/guard-rails";
import { AlicloudProvider } from "../../.gen/providers/alicloud/provider";
import { OssBucket } from "../../.gen/providers/alicloud/oss-bucket";
import { OssBucketAcl } from "../../.gen/providers/alicloud/oss-bucket-acl";
import { ASSET_CACHE_CONTROL, HTML_CACHE_CONTROL, StaticSite, StaticSiteProps, pageOrigin } from "../../stacks/static-site";
import { schemaViolations } from "../support/schema-conformance";

const API = "http://alb-example.cn-hangzhou.alb.aliyuncs.com";
const WEB = join(__dirname, "..", "..", "web");
const DOMAIN = { domainName: "example.com", recordName: "sale" };

type Resource = Record<string, any>;
interface Synthesized {
  resource: Record<string, Record<string, Resource>>;
  data: Record<string, Record<string, Resource>>;
}

/**
 * A stack holding just the page, under the project's guard rails like every environment stack (not production: that one
 * also insists on HTTPS, guard-rails.test.ts).
 */
function build(props: Partial<StaticSiteProps> = {}) {
  const stack = new TerraformStack(Testing.app(), "static-site-test");
  new AlicloudProvider(stack, "alicloud", { region: "cn-hangzhou" });
  stack.node.addValidation(
    new GuardRails(stack, {
      vpcCidr: "10.0.0.0/16",
      listenerPorts: [80],
      production: false,
      dataStoreBilling: "PayAsYouGo",
      remoteState: false,
    }),
  );
  const site = new StaticSite(stack, "page", { envName: "dev", apiBaseUrl: API, pageDir: WEB, ...props });
  return { stack, site };
}

function synth(stack: TerraformStack): Synthesized {
  return JSON.parse(Testing.synth(stack, true));
}

const resources = (out: Synthesized, type: string): Resource[] => Object.values(out.resource[type] ?? {});
const objectAt = (out: Synthesized, key: string) => resources(out, "alicloud_oss_bucket_object").find((o) => o.key === key);
/** What OSS serves: Terraform turns `$${` and `%%{` back into `${` and `%{`. */
const served = (content: string) => content.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
const find = <T>(site: StaticSite, type: abstract new (...args: any[]) => T): T =>
  site.node.findAll().find((c: IConstruct) => c instanceof type) as T;

describe("StaticSite bucket", () => {
  const out = synth(build().stack);

  test("is named after the environment and kept unique by the account id", () => {
    const [bucket] = resources(out, "alicloud_oss_bucket");
    expect(bucket.bucket).toMatch(/^seckill-dev-page-\$\{data\.alicloud_account\.\w+\.id\}$/);
    expect(Object.keys(out.data.alicloud_account)).toHaveLength(1);
  });

  test("is private, encrypted at rest and blocks public access", () => {
    const [bucket] = resources(out, "alicloud_oss_bucket");
    expect(bucket.server_side_encryption_rule).toEqual({ sse_algorithm: "AES256" });
    expect(bucket.acl).toBeUndefined();
    expect(bucket.lifecycle).toEqual({ ignore_changes: ["acl"] });
    expect(resources(out, "alicloud_oss_bucket_acl")).toEqual([
      { bucket: expect.stringContaining("alicloud_oss_bucket."), acl: "private" },
    ]);
    expect(resources(out, "alicloud_oss_bucket_public_access_block")).toEqual([
      { bucket: expect.stringContaining("alicloud_oss_bucket."), block_public_access: true },
    ]);
  });

  test("holds the page's objects without any public object ACL", () => {
    const objects = resources(out, "alicloud_oss_bucket_object");
    expect(objects).toHaveLength(3);
    for (const object of objects) expect(object.acl).toBeUndefined();
  });
});

describe("StaticSite page objects", () => {
  const out = synth(build().stack);
  const html = objectAt(out, "index.html")!;

  test("the HTML is cached briefly, so a deploy reaches every shopper within a minute", () => {
    expect(html.cache_control).toBe(HTML_CACHE_CONTROL);
    expect(HTML_CACHE_CONTROL).toBe("public, max-age=60");
    expect(html.content_type).toBe("text/html; charset=utf-8");
  });

  test.each([
    ["sale.js", /^assets\/sale\.[0-9a-f]{12}\.js$/, "text/javascript; charset=utf-8"],
    ["sale.css", /^assets\/sale\.[0-9a-f]{12}\.css$/, "text/css; charset=utf-8"],
  ])("%s is uploaded unchanged under a content-hashed key with a year-long cache", (file, keyPattern, type) => {
    const asset = resources(out, "alicloud_oss_bucket_object").find((o) => keyPattern.test(o.key))!;
    expect(asset).toBeDefined();
    expect(served(asset.content)).toBe(readFileSync(join(WEB, file), "utf8"));
    expect(asset.cache_control).toBe(ASSET_CACHE_CONTROL);
    expect(ASSET_CACHE_CONTROL).toBe("public, max-age=31536000, immutable");
    expect(asset.content_type).toBe(type);
    expect(html.content).toContain(`"${asset.key}"`);
    expect(html.content).not.toContain(`"${file}"`);
  });

  test("JavaScript's ${...} reaches OSS as text, not as a Terraform interpolation", () => {
    const script = resources(out, "alicloud_oss_bucket_object").find((o) => o.key.endsWith(".js"))!;
    expect(script.content).toContain("$${apiBase}");
    expect(script.content).not.toMatch(/(^|[^$])\$\{/);
  });

  test("the API base URL is written into the page's config and its content security policy", () => {
    expect(html.content).toContain(`<meta name="seckill-api-base" content="${API}">`);
    expect(html.content).toContain(`connect-src 'self' ${API};`);
  });

  test("an API URL known only at apply time (the ALB's DNS name) becomes a Terraform interpolation", () => {
    const stack = new TerraformStack(Testing.app(), "token-test");
    new AlicloudProvider(stack, "alicloud", { region: "cn-hangzhou" });
    const albDns = new TerraformVariable(stack, "alb_dns", { type: "string" });
    new StaticSite(stack, "page", { envName: "dev", apiBaseUrl: `http://${albDns.stringValue}`, pageDir: WEB });
    const content = objectAt(synth(stack), "index.html")!.content;
    expect(content).toContain('<meta name="seckill-api-base" content="http://${var.alb_dns}">');
  });
});

describe("StaticSite without a domain", () => {
  const { stack, site } = build();
  const out = synth(stack);

  test("publishes nothing: no CDN domain, no DNS record, no page URL", () => {
    expect(out.resource.alicloud_cdn_domain_new).toBeUndefined();
    expect(out.resource.alicloud_cdn_domain_config).toBeUndefined();
    expect(out.resource.alicloud_alidns_record).toBeUndefined();
    expect(site.cdnCname).toBeUndefined();
    expect(site.pageUrl).toBeUndefined();
    expect(site.bucketName).toBeDefined();
  });
});

describe("StaticSite with a domain", () => {
  const { stack, site } = build({ domain: DOMAIN });
  const out = synth(stack);
  const [cdn] = resources(out, "alicloud_cdn_domain_new");
  const cdnFunction = (name: string) => resources(out, "alicloud_cdn_domain_config").find((c) => c.function_name === name)?.function_args;

  test("puts a CDN domain in front of the bucket as its OSS origin, over HTTPS", () => {
    expect(cdn).toMatchObject({ domain_name: "sale.example.com", cdn_type: "web", scope: "domestic" });
    expect(cdn.sources).toEqual([
      {
        type: "oss",
        content: expect.stringMatching(/^\$\{alicloud_oss_bucket\.\w+\.bucket\}\.\$\{alicloud_oss_bucket\.\w+\.extranet_endpoint\}$/),
        port: 443,
      },
    ]);
  });

  test("the CDN reads the private bucket with its own OSS authorization", () => {
    expect(cdnFunction("l2_oss_key")).toEqual([{ arg_name: "private_oss_auth", arg_value: "on" }]);
  });

  test("one cached page serves every ?sale=, and random query strings cannot reach the bucket", () => {
    expect(cdnFunction("set_hashkey_args")).toEqual([{ arg_name: "disable", arg_value: "on" }]);
  });

  test("`/` is rewritten at the edge to index.html", () => {
    expect(cdnFunction("host_redirect")).toEqual([
      { arg_name: "regex", arg_value: "^/$" },
      { arg_name: "replacement", arg_value: "/index.html" },
      { arg_name: "flag", arg_value: "break" },
    ]);
  });

  test("the edge compresses the page", () => {
    expect(cdnFunction("gzip")).toEqual([{ arg_name: "enable", arg_value: "on" }]);
  });

  test("points a CNAME in the zone at the CDN", () => {
    expect(resources(out, "alicloud_alidns_record")).toEqual([
      {
        domain_name: "example.com",
        rr: "sale",
        type: "CNAME",
        value: expect.stringMatching(/^\$\{alicloud_cdn_domain_new\.\w+\.cname\}$/),
        ttl: 600,
      },
    ]);
    expect(site.cdnCname).toBeDefined();
  });

  test("without a certificate the page is plain HTTP and HTTPS is not forced", () => {
    expect(cdn.certificate_config).toBeUndefined();
    expect(cdnFunction("https_force")).toBeUndefined();
    expect(site.pageUrl).toBe("http://sale.example.com/");
  });

  test("the record @ puts the page on the zone apex", () => {
    const apex = build({ domain: { domainName: "example.com", recordName: "@" } });
    const apexOut = synth(apex.stack);
    expect(resources(apexOut, "alicloud_alidns_record")[0].rr).toBe("@");
    expect(resources(apexOut, "alicloud_cdn_domain_new")[0].domain_name).toBe("example.com");
    expect(apex.site.pageUrl).toBe("http://example.com/");
  });

  test("the bucket and the CDN domain carry the given tags", () => {
    const tagged = synth(build({ domain: DOMAIN, tags: { CostCenter: "shop" } }).stack);
    expect(resources(tagged, "alicloud_oss_bucket")[0].tags).toEqual({ CostCenter: "shop" });
    expect(resources(tagged, "alicloud_cdn_domain_new")[0].tags).toEqual({ CostCenter: "shop" });
  });

  test("with a certificate the CDN serves HTTPS only, TLS 1.2 and later, with HTTP/2", () => {
    const secure = build({
      apiBaseUrl: "https://api.example.com",
      domain: { ...DOMAIN, certificateId: "12345-cn-hangzhou", cdnScope: "global" },
    });
    const secureOut = synth(secure.stack);
    const [secureCdn] = resources(secureOut, "alicloud_cdn_domain_new");
    expect(secureCdn.scope).toBe("global");
    expect(secureCdn.certificate_config).toEqual({ cert_type: "cas", cert_id: "12345-cn-hangzhou", server_certificate_status: "on" });
    const functionArgs = (name: string) =>
      resources(secureOut, "alicloud_cdn_domain_config").find((c) => c.function_name === name)?.function_args;
    expect(functionArgs("https_force")).toEqual([{ arg_name: "enable", arg_value: "on" }]);
    expect(functionArgs("https_tls_version")).toEqual([
      { arg_name: "tls10", arg_value: "off" },
      { arg_name: "tls11", arg_value: "off" },
      { arg_name: "tls12", arg_value: "on" },
      { arg_name: "tls13", arg_value: "on" },
    ]);
    expect(functionArgs("https_option")).toEqual([{ arg_name: "http2", arg_value: "on" }]);
    expect(secure.site.pageUrl).toBe("https://sale.example.com/");
  });
});

test("the page's origin (what the API must allow) is known from its domain alone, and matches its URL", () => {
  expect(pageOrigin(DOMAIN)).toBe("http://sale.example.com");
  expect(pageOrigin({ ...DOMAIN, recordName: "@" })).toBe("http://example.com");
  const secureDomain = { ...DOMAIN, certificateId: "12345-cn-hangzhou" };
  expect(pageOrigin(secureDomain)).toBe("https://sale.example.com");
  expect(build({ apiBaseUrl: "https://api.example.com", domain: secureDomain }).site.pageUrl).toBe(`${pageOrigin(secureDomain)}/`);
});

test("StaticSite synthesizes only what the provider's schema accepts", () => {
  const full = build({ apiBaseUrl: "https://api.example.com", domain: { ...DOMAIN, certificateId: "12345-cn-hangzhou" } });
  expect(schemaViolations(Testing.synth(full.stack))).toEqual([]);
});

describe("the project's guard rails stop a public page bucket", () => {
  test("a public bucket ACL", () => {
    const { stack, site } = build();
    find(site, OssBucketAcl).acl = "public-read";
    expect(() => Testing.synth(stack, true)).toThrow(/acl public-read makes the bucket public; keep it private/);
  });

  test("a public ACL on the bucket itself", () => {
    const { stack, site } = build();
    find(site, OssBucket).acl = "public-read-write";
    expect(() => Testing.synth(stack, true)).toThrow(/acl public-read-write makes the bucket public; keep it private/);
  });

  test("encryption switched off", () => {
    const { stack, site } = build();
    find(site, OssBucket).resetServerSideEncryptionRule();
    expect(() => Testing.synth(stack, true)).toThrow(/no server_side_encryption_rule; encrypt the bucket at rest/);
  });
});

describe("StaticSite refuses bad props", () => {
  test("an API base URL without a scheme", () => {
    expect(() => build({ apiBaseUrl: "alb-example.aliyuncs.com" })).toThrow(
      'apiBaseUrl "alb-example.aliyuncs.com" must start with http:// or https://',
    );
  });

  test("an HTTP API behind an HTTPS page (browsers block mixed content)", () => {
    expect(() => build({ domain: { ...DOMAIN, certificateId: "12345-cn-hangzhou" } })).toThrow(
      /page is served over HTTPS, so apiBaseUrl "http:\/\/alb-example.+" must be https:\/\//,
    );
  });

  test("an empty certificate id", () => {
    expect(() => build({ domain: { ...DOMAIN, certificateId: "" } })).toThrow("domain.certificateId is empty");
  });
});

describe("StaticSite refuses a page directory it cannot deploy", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "static-site-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const page = (html: string, files: Record<string, string> = {}) => {
    writeFileSync(join(dir, "index.html"), html);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  };
  const deployable = `<meta name="seckill-api-base" content="">
<meta http-equiv="Content-Security-Policy" content="connect-src 'self'">`;

  test("without index.html", () => {
    expect(() => build({ pageDir: dir })).toThrow(`no index.html in the page directory ${dir}`);
  });

  test("without the API base placeholder", () => {
    page(`<meta http-equiv="Content-Security-Policy" content="connect-src 'self'">`);
    expect(() => build({ pageDir: dir })).toThrow('must contain <meta name="seckill-api-base" content=""> exactly once');
  });

  test("with an asset the HTML does not name", () => {
    page(deployable, { "extra.js": "" });
    expect(() => build({ pageDir: dir })).toThrow('must contain "extra.js" exactly once');
  });

  test("with a file of unknown type", () => {
    page(deployable, { "logo.png": "" });
    expect(() => build({ pageDir: dir })).toThrow(/logo.png has no known content type/);
  });

  test("a minimal page deploys", () => {
    page(`${deployable}<script type="module" src="app.js"></script>`, { "app.js": "x" });
    const out = synth(build({ pageDir: dir }).stack);
    expect(
      resources(out, "alicloud_oss_bucket_object")
        .map((o) => o.key)
        .sort(),
    ).toEqual([expect.stringMatching(/^assets\/app\.[0-9a-f]{12}\.js$/), "index.html"]);
  });
});
