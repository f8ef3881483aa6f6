/**
 * Asks ECS (DescribeImages, API version 2014-05-26) for the newest system image whose id matches the family image_id
 * pins, so that `npm run synth` can print it next to the pinned one. The call is signed as Alibaba Cloud's RPC-style
 * APIs require (signature version 1.0, HMAC-SHA1 over the sorted, percent-encoded query); it needs an AccessKey with
 * ecs:DescribeImages and the network, and is left out when there is none.
 */
import { createHmac, randomUUID } from "node:crypto";

export interface AccessKey {
  readonly id: string;
  readonly secret: string;
  /** An STS token, when the key is temporary. */
  readonly securityToken?: string;
}

export interface SystemImage {
  readonly imageId: string;
  /** As ECS gives it, e.g. "2025-10-30T08:12:33Z". */
  readonly creationTime: string;
}

/** The AccessKey in the variables the alicloud provider reads too, or undefined when they are not set. */
export function accessKeyFromEnvironment(env: NodeJS.ProcessEnv = process.env): AccessKey | undefined {
  const id = env.ALICLOUD_ACCESS_KEY;
  const secret = env.ALICLOUD_SECRET_KEY;
  if (!id || !secret) return undefined;
  return { id, secret, securityToken: env.ALICLOUD_SECURITY_TOKEN || undefined };
}

/** The region's ECS endpoint. */
export function ecsEndpoint(region: string): string {
  return `https://ecs.${region}.aliyuncs.com`;
}

/** RFC 3986 encoding as the signature wants it: only A-Z a-z 0-9 - _ . ~ stay as they are. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query of a signed GET request: the parameters, the common ones, and Signature. */
export function signedQuery(parameters: Record<string, string>, accessKey: AccessKey, now = new Date()): string {
  const all: Record<string, string> = {
    ...parameters,
    Format: "JSON",
    Version: "2014-05-26",
    AccessKeyId: accessKey.id,
    SignatureMethod: "HMAC-SHA1",
    SignatureVersion: "1.0",
    SignatureNonce: randomUUID(),
    Timestamp: `${now.toISOString().slice(0, 19)}Z`,
    ...(accessKey.securityToken ? { SecurityToken: accessKey.securityToken } : {}),
  };
  const canonical = Object.keys(all)
    .sort()
    .map((key) => `${percentEncode(key)}=${percentEncode(all[key])}`)
    .join("&");
  const stringToSign = `GET&${percentEncode("/")}&${percentEncode(canonical)}`;
  const signature = createHmac("sha1", `${accessKey.secret}&`).update(stringToSign).digest("base64");
  return `${canonical}&Signature=${percentEncode(signature)}`;
}

interface DescribeImagesPage {
  readonly TotalCount?: number;
  readonly Images?: { readonly Image?: ReadonlyArray<{ ImageId: string; CreationTime: string }> };
  readonly Code?: string;
  readonly Message?: string;
}

/** The newest available x86-64 Linux system image of `region` whose id matches `idPattern`, or undefined when none does. */
export async function newestSystemImage(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKey: AccessKey;
  readonly idPattern: RegExp;
}): Promise<SystemImage | undefined> {
  const images: SystemImage[] = [];
  for (let page = 1; ; page++) {
    const query = signedQuery(
      {
        Action: "DescribeImages",
        RegionId: options.region,
        ImageOwnerAlias: "system",
        OSType: "linux",
        Architecture: "x86_64",
        Status: "Available",
        PageSize: "100",
        PageNumber: String(page),
      },
      options.accessKey,
    );
    const response = await fetch(`${options.endpoint}/?${query}`, { signal: AbortSignal.timeout(15_000) });
    const body = (await response.json()) as DescribeImagesPage;
    if (!response.ok) throw new Error(`ECS DescribeImages answered ${response.status} ${body.Code ?? ""}: ${body.Message ?? ""}`.trim());
    const found = body.Images?.Image ?? [];
    images.push(...found.map((image) => ({ imageId: image.ImageId, creationTime: image.CreationTime })));
    if (found.length === 0 || images.length >= (body.TotalCount ?? 0)) break;
  }
  return images
    .filter((image) => options.idPattern.test(image.imageId))
    .sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
}

/** The build date an Alibaba Cloud Linux system image id carries ("…_alibase_20251030.vhd"), or undefined for other ids. */
export function imageBuildDate(imageId: string): Date | undefined {
  const match = /_(\d{4})(\d{2})(\d{2})\.vhd$/.exec(imageId);
  if (!match) return undefined;
  const date = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
