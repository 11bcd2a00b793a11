import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Which addresses a webhook may reach: public unicast only. Everything else — private,
 * loopback, link-local, unique-local, multicast, CGNAT, unspecified, documentation,
 * benchmarking, reserved — is refused, in IPv4 and IPv6, including IPv4 addresses carried
 * inside IPv6 (IPv4-mapped, IPv4-compatible, NAT64, 6to4), which are judged as the IPv4
 * address they carry. A pure function of the address, unit-tested as a table.
 */

type Range = [bytes: number[], prefix: number];

const V4_BLOCKED: Range[] = [
  [[0, 0, 0, 0], 8], // "this network", unspecified
  [[10, 0, 0, 0], 8], // private
  [[100, 64, 0, 0], 10], // CGNAT
  [[127, 0, 0, 0], 8], // loopback
  [[169, 254, 0, 0], 16], // link-local (cloud metadata lives here)
  [[172, 16, 0, 0], 12], // private
  [[192, 0, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2, 0], 24], // documentation
  [[192, 88, 99, 0], 24], // 6to4 relay anycast
  [[192, 168, 0, 0], 16], // private
  [[198, 18, 0, 0], 15], // benchmarking
  [[198, 51, 100, 0], 24], // documentation
  [[203, 0, 113, 0], 24], // documentation
  [[224, 0, 0, 0], 4], // multicast
  [[240, 0, 0, 0], 4], // reserved, broadcast
];

const V6_BLOCKED: Range[] = [
  [[0x01, 0x00], 64], // 100::/64 discard
  [[0x20, 0x01, 0x00, 0x00], 23], // 2001::/23 IETF protocol assignments (Teredo among them)
  [[0x20, 0x01, 0x0d, 0xb8], 32], // documentation
  [[0x3f, 0xff], 20], // documentation (3fff::/20)
  [[0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48], // 64:ff9b:1::/48 local-use NAT64
  [[0xfc], 7], // unique-local
  [[0xfe, 0x80], 10], // link-local
  [[0xfe, 0xc0], 10], // site-local (deprecated)
  [[0xff], 8], // multicast
];

function inRange(bytes: number[], [base, prefix]: Range): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((bytes[i] ?? 0) & mask) !== ((base[i] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(address: string): number[] | null {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/** The 16 bytes of an IPv6 address (with `::` and a trailing dotted quad), or null. */
export function v6Bytes(raw: string): number[] | null {
  const address = raw.replace(/^\[|\]$/g, '').split('%')[0] ?? '';
  let head = address;
  const quad = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (quad) {
    // The trailing dotted quad becomes two hex groups, so the rest is plain hex.
    const v4 = v4Bytes(quad[1] ?? '');
    if (!v4) return null;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    head = `${address.slice(0, quad.index + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes: number[] = [];
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

function v4Public(bytes: number[]): boolean {
  return !V4_BLOCKED.some((range) => inRange(bytes, range));
}

/** True when the address (IPv4 or IPv6 literal) is a public unicast address a webhook may reach. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address.replace(/^\[|\]$/g, '').split('%')[0] ?? '');
  if (family === 4) {
    const bytes = v4Bytes(address);
    return bytes !== null && v4Public(bytes);
  }
  if (family !== 6) return false;
  const bytes = v6Bytes(address);
  if (!bytes) return false;
  const zeros = (n: number) => bytes.slice(0, n).every((b) => b === 0);
  // ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped): the IPv4 inside.
  if (zeros(12)) return v4Public(bytes.slice(12));
  if (zeros(10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4Public(bytes.slice(12));
  // 64:ff9b::/96 NAT64: the IPv4 inside.
  if (inRange(bytes, [[0x00, 0x64, 0xff, 0x9b], 96])) return v4Public(bytes.slice(12));
  // 2002::/16 6to4: the IPv4 in bytes 2..5.
  if (inRange(bytes, [[0x20, 0x02], 16])) return v4Public(bytes.slice(2, 6));
  // Only global unicast (2000::/3) is public at all.
  if (!inRange(bytes, [[0x20], 3])) return false;
  return !V6_BLOCKED.some((range) => inRange(bytes, range));
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (injected in tests to play DNS rebinding). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export class AddressRefused extends Error {}

/**
 * The addresses a request to this host may connect to: an IP literal as is, a name resolved.
 * Unless private addresses are allowed, every address must be public (a name with one private
 * address among public ones is refused: the connection could land on either).
 */
export async function checkedAddresses(hostname: string, resolve: Resolver, allowPrivate: boolean): Promise<ResolvedAddress[]> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  let addresses: ResolvedAddress[];
  if (family !== 0) addresses = [{ address: bare, family }];
  else {
    try {
      addresses = await resolve(bare);
    } catch {
      throw new AddressRefused(`The host ${bare} could not be resolved.`);
    }
    if (addresses.length === 0) throw new AddressRefused(`The host ${bare} could not be resolved.`);
  }
  if (!allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) throw new AddressRefused(`The address ${refused.address} is not a public address.`);
  }
  return addresses;
}
