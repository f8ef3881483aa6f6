/** IPv4 CIDR arithmetic for config validation and guard rails (literal CIDRs only, no Terraform tokens). */
export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; undefined when malformed or when host bits are set (10.0.0.1/16). */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const match = CIDR.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const network = (address - (address % 2 ** (32 - prefix))) >>> 0;
  return network === address ? { network, prefix } : undefined;
}

export function formatCidr(cidr: Ipv4Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(cidr.network / 2 ** shift) % 256);
  return `${octets.join(".")}/${cidr.prefix}`;
}

function size(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** True when every address of `inner` lies in `outer`. */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.network >= outer.network && inner.network + size(inner) <= outer.network + size(outer);
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** Terraform's cidrsubnet(): the `index`-th block of `newBits` extra prefix bits inside `base`. */
export function cidrSubnet(base: Ipv4Cidr, newBits: number, index: number): Ipv4Cidr {
  const prefix = base.prefix + newBits;
  if (prefix > 32 || index < 0 || index >= 2 ** newBits) {
    throw new Error(`cidrSubnet: no block ${index} of /${prefix} in ${formatCidr(base)}`);
  }
  return { network: base.network + index * 2 ** (32 - prefix), prefix };
}

/** RFC 1918 private ranges: the only VPC CIDRs this project accepts. */
export const PRIVATE_RANGES: readonly Ipv4Cidr[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(
  (text) => parseCidr(text) as Ipv4Cidr,
);
