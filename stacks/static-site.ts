import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { Construct } from "constructs";
import { AlidnsRecord } from "../.gen/providers/alicloud/alidns-record";
import { CdnDomainConfig } from "../.gen/providers/alicloud/cdn-domain-config";
import { CdnDomainNew } from "../.gen/providers/alicloud/cdn-domain-new";
import { DataAlicloudAccount } from "../.gen/providers/alicloud/data-alicloud-account";
import { OssBucket } from "../.gen/providers/alicloud/oss-bucket";
import { OssBucketAcl } from "../.gen/providers/alicloud/oss-bucket-acl";
import { OssBucketObject } from "../.gen/providers/alicloud/oss-bucket-object";
import { OssBucketPublicAccessBlock } from "../.gen/providers/alicloud/oss-bucket-public-access-block";

export interface StaticSiteDomain {
  /** The Alibaba Cloud DNS zone, e.g. `example.com`. */
  readonly domainName: string;
  /** The page's host record in it, e.g. `sale` for `sale.example.com`, or `@` for the zone apex. */
  readonly recordName: string;
  /** Where the CDN serves from: `domestic` (Mainland China, the default), `overseas` or `global`. */
  readonly cdnScope?: "domestic" | "overseas" | "global";
  /** A Certificate Management Service certificate id for the page's host: the page is then served over HTTPS only. */
  readonly certificateId?: string;
}

export interface StaticSiteProps {
  /** Environment name; the bucket's name carries it. */
  readonly envName: string;
  /** The API's public URL (the ALB's), written into the page at deploy time, e.g. `http://${alb.dnsName}`. */
  readonly apiBaseUrl: string;
  /** Publish the page through CDN on this domain, with its DNS record. Without it the bucket is filled but not published. */
  readonly domain?: StaticSiteDomain;
  /** Tags of the bucket and the CDN domain (the stack's default tags still apply). */
  readonly tags?: Record<string, string>;
  /** The page's files; defaults to `web/` under the working directory (the repository root when synthesizing). */
  readonly pageDir?: string;
}

/** Assets are named by their content, so browsers and CDN may keep them for a year. */
export const ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable";
/** The HTML names the current assets and the API: short, so a deploy reaches every shopper within a minute. */
export const HTML_CACHE_CONTROL = "public, max-age=60";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

/**
 * The sale page (web/) in a private OSS bucket, published through CDN: the crowd that loads the page
 * never reaches the ECS fleet; only the page's API calls go to the ALB. The CDN reads the private bucket
 * with its back-to-origin OSS authorization (the account must have authorized the
 * AliyunCDNAccessingPrivateOSSRole once).
 */
export class StaticSite extends Construct {
  public readonly bucketName: string;
  /** The CDN's CNAME target; only with a domain. */
  public readonly cdnCname?: string;
  /** Where shoppers open the page (append `?sale=<id>`); only with a domain. */
  public readonly pageUrl?: string;

  constructor(scope: Construct, id: string, props: StaticSiteProps) {
    super(scope, id);
    if (props.domain?.certificateId === "") {
      throw new Error("StaticSite: domain.certificateId is empty; leave it out to serve the page over HTTP");
    }
    const https = props.domain?.certificateId !== undefined;
    checkApiBaseUrl(props.apiBaseUrl, https);
    const namePrefix = `seckill-${props.envName}`;

    // Bucket names are global: the account id keeps them unique without a random suffix.
    const account = new DataAlicloudAccount(this, "account");
    const bucket = new OssBucket(this, "bucket", {
      bucket: `${namePrefix}-page-${account.id}`,
      storageClass: "Standard",
      serverSideEncryptionRule: { sseAlgorithm: "AES256" },
      // The objects are build output: destroying the environment may delete them.
      forceDestroy: true,
      tags: props.tags,
      // The ACL is owned by alicloud_oss_bucket_acl below (the provider's documented pattern).
      lifecycle: { ignoreChanges: ["acl"] },
    });
    this.bucketName = bucket.bucket;
    new OssBucketAcl(this, "acl", { bucket: bucket.bucket, acl: "private" });
    new OssBucketPublicAccessBlock(this, "public-access-block", {
      bucket: bucket.bucket,
      blockPublicAccess: true,
    });

    for (const file of pageFiles(props.pageDir ?? join(process.cwd(), "web"), props.apiBaseUrl)) {
      new OssBucketObject(this, `object-${file.name}`, {
        bucket: bucket.bucket,
        key: file.key,
        content: file.content,
        contentType: file.contentType,
        cacheControl: file.cacheControl,
      });
    }

    if (props.domain) {
      const domain = props.domain;
      const cdn = new CdnDomainNew(this, "cdn", {
        domainName: pageHost(domain),
        cdnType: "web",
        scope: domain.cdnScope ?? "domestic",
        sources: [{ type: "oss", content: `${bucket.bucket}.${bucket.extranetEndpoint}`, port: 443 }],
        certificateConfig: https ? { certType: "cas", certId: domain.certificateId, serverCertificateStatus: "on" } : undefined,
        tags: props.tags,
      });
      const cdnFunction = (name: string, args: Record<string, string>) =>
        new CdnDomainConfig(this, `cdn-${name}`, {
          domainName: cdn.domainName,
          functionName: name,
          functionArgs: Object.entries(args).map(([argName, argValue]) => ({ argName, argValue })),
        });
      // Back-to-origin with the CDN's OSS authorization: the bucket stays private.
      cdnFunction("l2_oss_key", { private_oss_auth: "on" });
      // The page reads ?sale= in the browser: one cached copy for every sale, and random query strings
      // cannot push the crowd through to the bucket.
      cdnFunction("set_hashkey_args", { disable: "on" });
      // `/` is the page; rewritten at the edge so OSS is never asked to list the bucket.
      cdnFunction("host_redirect", { regex: "^/$", replacement: "/index.html", flag: "break" });
      // The script is a third of its size gzipped; the edge compresses, OSS stores it plain.
      cdnFunction("gzip", { enable: "on" });
      if (https) {
        // The page is only ever fetched with GET, so CDN's default redirect code (301) cannot turn a POST into a GET.
        cdnFunction("https_force", { enable: "on" });
        // The same floor as the API's listener: TLS 1.2 and later (CDN admits 1.0 and 1.1 unless told otherwise).
        cdnFunction("https_tls_version", { tls10: "off", tls11: "off", tls12: "on", tls13: "on" });
        cdnFunction("https_option", { http2: "on" });
      }

      new AlidnsRecord(this, "dns", {
        domainName: domain.domainName,
        rr: domain.recordName,
        type: "CNAME",
        value: cdn.cname,
        ttl: 600,
      });
      this.cdnCname = cdn.cname;
      this.pageUrl = `${pageOrigin(domain)}/`;
    }
  }
}

function pageHost(domain: StaticSiteDomain): string {
  return domain.recordName === "@" ? domain.domainName : `${domain.recordName}.${domain.domainName}`;
}

/**
 * `scheme://host` of the page published on this domain: the Origin its API calls carry. Known before the
 * StaticSite exists, so the ALB (whose URL the page needs) can allow it.
 */
export function pageOrigin(domain: StaticSiteDomain): string {
  return `${domain.certificateId !== undefined ? "https" : "http"}://${pageHost(domain)}`;
}

interface PageFile {
  /** The file's name in the page directory. */
  name: string;
  /** Its key in the bucket. */
  key: string;
  /** Terraform-escaped: the text is uploaded as is. */
  content: string;
  contentType: string;
  cacheControl: string;
}

/**
 * index.html plus every other file of the page under a content-hashed key; the HTML is rewritten to
 * name those keys and to carry the API base URL.
 */
function pageFiles(pageDir: string, apiBaseUrl: string): PageFile[] {
  const indexPath = join(pageDir, "index.html");
  if (!existsSync(indexPath)) throw new Error(`StaticSite: no index.html in the page directory ${pageDir}`);
  let html = escapeTemplate(readFileSync(indexPath, "utf8"));
  const assets: PageFile[] = [];
  for (const name of readdirSync(pageDir)
    .filter((n) => n !== "index.html")
    .sort()) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType) throw new Error(`StaticSite: ${join(pageDir, name)} has no known content type`);
    const content = readFileSync(join(pageDir, name), "utf8");
    const hash = createHash("sha256").update(content).digest("hex").slice(0, 12);
    const key = `assets/${name.slice(0, -extname(name).length)}.${hash}${extname(name)}`;
    html = replaceOnce(html, `"${name}"`, `"${key}"`, indexPath);
    assets.push({ name, key, content: escapeTemplate(content), contentType, cacheControl: ASSET_CACHE_CONTROL });
  }
  const api = escapeHtmlAttribute(apiBaseUrl);
  const apiMeta = '<meta name="seckill-api-base" content="">';
  html = replaceOnce(html, apiMeta, apiMeta.replace('content=""', `content="${api}"`), indexPath);
  html = replaceOnce(html, "connect-src 'self'", `connect-src 'self' ${api}`, indexPath);
  const index = { name: "index.html", key: "index.html", content: html };
  return [{ ...index, contentType: CONTENT_TYPES[".html"], cacheControl: HTML_CACHE_CONTROL }, ...assets];
}

/** Terraform reads `${` and `%{` in any string as template syntax; `$${` and `%%{` are the literal text. */
function escapeTemplate(text: string): string {
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

function replaceOnce(text: string, find: string, replacement: string, file: string): string {
  const at = text.indexOf(find);
  if (at < 0 || text.indexOf(find, at + 1) >= 0) {
    throw new Error(`StaticSite: ${file} must contain ${find} exactly once (the deploy rewrites it)`);
  }
  return text.slice(0, at) + replacement + text.slice(at + find.length);
}

function escapeHtmlAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function checkApiBaseUrl(url: string, httpsPage: boolean): void {
  if (!/^https?:\/\//.test(url)) {
    throw new Error(`StaticSite: apiBaseUrl "${url}" must start with http:// or https://`);
  }
  if (httpsPage && url.startsWith("http://")) {
    throw new Error(
      `StaticSite: the page is served over HTTPS, so apiBaseUrl "${url}" must be https:// too (browsers block mixed content)`,
    );
  }
}
