/** A provider URL the platform will not call (refused when configured, and again at call time). */
export class UpstreamRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamRefused";
  }
}

/** Whether the operator lets providers live on loopback and private addresses, over plain http. */
export const privateUpstreamsAllowed = (env: Env) => env.AURAISON_PRIVATE_UPSTREAMS === "allow";

/** Host names that name cloud metadata services: never reachable from a tenant's config. */
const METADATA_HOSTS = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.azure.com",
  "instance-data",
  "instance-data.ec2.internal",
]);

type Range = "public" | "private" | "loopback" | "never";

/** What `upstreamUrl` says of a URL: the host it would call, or why the platform will not. */
export type UpstreamUrlVerdict = { problem: null; host: string } | { problem: string };

/**
 * Verdicts by URL, per isolate. A provider's base URL is checked on every call: parsing it
 * twice per call took 0.089 ms of a leased call's 1.9 ms in central's isolate, the remembered
 * verdict 0.009 (bench/gateway-profile.ts, bench/results/gateway-comparison.md). A verdict is a
 * pure function of the URL and the operator's setting, so it never goes stale. Tenants' configs
 * name the URLs: only short ones are kept, at most `MAX_VERDICTS`, so no tenant can fill an
 * isolate's memory it shares with others.
 */
const verdicts = new Map<string, UpstreamUrlVerdict>();
const MAX_VERDICTS = 1_024;
const MAX_KEPT_URL = 2_048;

/** `upstreamUrlProblem` with the URL's host, remembered for the next call to the same URL. */
export function upstreamUrl(url: string, allowPrivate: boolean): UpstreamUrlVerdict {
  if (url.length > MAX_KEPT_URL) return judge(url, allowPrivate);
  const key = `${allowPrivate ? "private" : "public"} ${url}`;
  let verdict = verdicts.get(key);
  if (!verdict) {
    verdict = judge(url, allowPrivate);
    if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(key, verdict);
  }
  return verdict;
}

/**
 * Why `url` may not be a provider's base URL, or null. Always refused: link-local and cloud
 * metadata addresses, the unspecified, multicast and broadcast ranges, credentials in the URL.
 * Unless the operator allows private upstreams (`AURAISON_PRIVATE_UPSTREAMS=allow`, as the local
 * stack does): plain http, loopback, private and shared (CGNAT) ranges, single-label and
 * `.local`/`.internal` names. Names are judged as written: Workers cannot reach private
 * networks by DNS on Cloudflare, and the address literals an attacker would use are refused.
 */
export function upstreamUrlProblem(url: string, allowPrivate: boolean): string | null {
  return upstreamUrl(url, allowPrivate).problem;
}

function judge(url: string, allowPrivate: boolean): UpstreamUrlVerdict {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: "not a URL" };
  }
  const host = parsed.hostname;
  if (parsed.protocol !== "https:" && !(allowPrivate && parsed.protocol === "http:"))
    return { problem: allowPrivate ? "must be http or https" : "must be https" };
  if (parsed.username || parsed.password)
    return { problem: "must not carry credentials; give the provider a key instead" };
  const range = hostRange(host);
  if (range === "never")
    return { problem: `${host} is a link-local, metadata or reserved address` };
  if (range !== "public" && !allowPrivate)
    return { problem: `${host} is a ${range} address, which this platform does not call` };
  return { problem: null, host };
}

function hostRange(host: string): Range {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (name.startsWith("[")) return ipv6Range(name.slice(1, -1));
  const v4 = ipv4(name);
  if (v4) return ipv4Range(v4);
  if (METADATA_HOSTS.has(name)) return "never";
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  if (!name.includes(".") || /\.(?:local|internal|lan|home\.arpa|intranet|corp)$/.test(name))
    return "private";
  return "public";
}

function ipv4(host: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return null;
  const parts = match.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function ipv4Range([a, b, c, d]: number[]): Range {
  if (a === 169 && b === 254) return "never"; // link-local, cloud metadata (169.254.169.254)
  if (a === 100 && b === 100 && c === 100 && d === 200) return "never"; // Alibaba metadata
  if (a === 0 || a! >= 224) return "never"; // unspecified, multicast, reserved, broadcast
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 100 && b! >= 64 && b! <= 127) return "private"; // shared address space (CGNAT)
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return "never"; // IETF, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return "private"; // benchmarking
  return "public";
}

function ipv6Range(address: string): Range {
  const a = address.toLowerCase();
  if (a === "::1") return "loopback";
  if (a === "::") return "never";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return ipv4Range(ipv4(mapped[1]!) ?? [0, 0, 0, 0]);
  // The WHATWG parser writes an IPv4-mapped address in hex: ::ffff:a9fe:a9fe.
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hexMapped) {
    const hi = Number.parseInt(hexMapped[1]!, 16);
    const lo = Number.parseInt(hexMapped[2]!, 16);
    return ipv4Range([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  if (/^fe[89ab]/.test(a)) return "never"; // link-local
  if (a === "fd00:ec2::254") return "never"; // AWS metadata over IPv6
  if (/^f[cd]/.test(a)) return "private"; // unique local
  if (/^ff/.test(a)) return "never"; // multicast
  return "public";
}
