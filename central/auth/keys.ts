import { API_KEY_PATTERN, ROLE_KEY_PREFIX, type Role } from "../../contract";
import { fromBase64Url, toBase64Url, toHex } from "../bytes";

/** Characters of the secret kept in clear as the key's public prefix (36 bits). */
const PREFIX_SECRET_CHARS = 6;

/** The 32 bytes after the tenant: 24 random bytes, then an 8-byte tag over the rest of the key. */
const RANDOM_BYTES = 24;
const TAG_BYTES = 8;

/** Shortest AURAISON_KEY_SECRET accepted. */
export const MIN_KEY_SECRET_LENGTH = 32;

const signingKeys = new Map<string, Promise<CryptoKey>>();

/** What a MAC under AURAISON_KEY_SECRET authenticates; each purpose gets a key of its own. */
export type SigningPurpose = "auraison-api-keys" | "auraison-sessions";

function signingKey(keySecret: string, purpose: SigningPurpose): Promise<CryptoKey> {
  const id = `${purpose}\u0000${keySecret}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(id),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    signingKeys.set(id, key);
  }
  return key;
}

/** HMAC-SHA-256 of `message` under AURAISON_KEY_SECRET, for one purpose. */
export async function sign(
  keySecret: string,
  purpose: SigningPurpose,
  message: string,
): Promise<Uint8Array> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await signingKey(keySecret, purpose),
    new TextEncoder().encode(message),
  );
  return new Uint8Array(mac);
}

async function tag(
  keySecret: string,
  rolePrefix: string,
  tenant: string,
  random: Uint8Array,
): Promise<Uint8Array> {
  const mac = await sign(
    keySecret,
    "auraison-api-keys",
    `${rolePrefix}\u0000${tenant}\u0000${toBase64Url(random)}`,
  );
  return mac.subarray(0, TAG_BYTES);
}

/**
 * A new API key: `aur_<role>_<tenant>_<secret>`, the secret 24 random bytes and a tag (HMAC
 * under AURAISON_KEY_SECRET) over role, tenant and those bytes, base64url. The Worker checks
 * the tag before it routes a key anywhere, so a forged key never reaches (or creates) a
 * tenant's Durable Object; the tenant object still checks the key against its own records.
 */
export async function mintKey(role: Role, tenant: string, keySecret: string): Promise<string> {
  const random = crypto.getRandomValues(new Uint8Array(RANDOM_BYTES));
  const rolePrefix = ROLE_KEY_PREFIX[role];
  const bytes = new Uint8Array(RANDOM_BYTES + TAG_BYTES);
  bytes.set(random);
  bytes.set(await tag(keySecret, rolePrefix, tenant, random), RANDOM_BYTES);
  return `aur_${rolePrefix}_${tenant}_${toBase64Url(bytes)}`;
}

/**
 * Keys whose tag checked out, per key secret, in this isolate: the tag is a pure function of the
 * key and the secret, so a key that passed once passes again, and a busy key (an agent's, a
 * gateway client's) costs one HMAC per isolate rather than one per request. Only keys that
 * passed are kept (a flood of forged keys cannot grow it), and at most VERIFIED_KEYS of them.
 * Revocation is not this check's business: the tenant object (or a lease it granted) decides.
 */
const verifiedKeys = new Map<string, Map<string, ParsedKey>>();
const VERIFIED_KEYS = 1_024;

/** The parts of a key central minted (its tag checks out under `keySecret`); null for anything else. */
export async function verifyKey(key: string, keySecret: string): Promise<ParsedKey | null> {
  let verified = verifiedKeys.get(keySecret);
  const known = verified?.get(key);
  if (known) return known;
  const parsed = parseKey(key);
  if (!parsed) return null;
  const bytes = fromBase64Url(key.slice(-43));
  const expected = await tag(
    keySecret,
    parsed.rolePrefix,
    parsed.tenant,
    bytes.subarray(0, RANDOM_BYTES),
  );
  if (!crypto.subtle.timingSafeEqual(expected, bytes.subarray(RANDOM_BYTES))) return null;
  if (!verified) {
    verified = new Map();
    verifiedKeys.set(keySecret, verified);
  }
  // Oldest first out: a Map iterates in insertion order.
  if (verified.size >= VERIFIED_KEYS) verified.delete(verified.keys().next().value!);
  verified.set(key, parsed);
  return parsed;
}

/** A short random id for a key record (never derived from the secret). */
export function newKeyId(): string {
  return `key_${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
}

export interface ParsedKey {
  rolePrefix: string;
  tenant: string;
  prefix: string;
}

/** The parts of a well-formed key; null for anything else. */
export function parseKey(key: string): ParsedKey | null {
  const match = API_KEY_PATTERN.exec(key);
  if (!match) return null;
  const [, rolePrefix, tenant, secret] = match;
  return {
    rolePrefix: rolePrefix!,
    tenant: tenant!,
    prefix: `aur_${rolePrefix}_${tenant}_${secret!.slice(0, PREFIX_SECRET_CHARS)}`,
  };
}

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** SHA-256 of a request body, hex: how replays and idempotency keys tell one body from another. */
export async function digestOf(text: string): Promise<string> {
  return toHex(await sha256(text));
}

/** Constant-time equality of two digests (workerd's timingSafeEqual needs equal lengths). */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The bearer token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** AURAISON_KEY_SECRET when it is set and long enough; null means no key can be minted or routed. */
export function configuredKeySecret(env: { AURAISON_KEY_SECRET?: string }): string | null {
  const value = env.AURAISON_KEY_SECRET;
  return value && value.length >= MIN_KEY_SECRET_LENGTH ? value : null;
}

export const KEY_SECRET_MISSING = `no key-signing secret is configured: set the AURAISON_KEY_SECRET secret (at least ${MIN_KEY_SECRET_LENGTH} characters)`;
