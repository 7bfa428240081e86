import { API_KEY_PATTERN, ROLE_KEY_PREFIX, type Role } from "../../contract";
import { toBase64Url, toHex } from "../bytes";

/** Characters of the secret kept in clear as the key's public prefix (36 bits). */
const PREFIX_SECRET_CHARS = 6;

function randomSecret(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** A new API key: `aur_<role>_<tenant>_<32 random bytes, base64url>`. */
export function mintKey(role: Role, tenant: string): string {
  return `aur_${ROLE_KEY_PREFIX[role]}_${tenant}_${randomSecret()}`;
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
