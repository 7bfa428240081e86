import { fromBase64, toBase64 } from "../../bytes";

/** Shortest key-encryption key accepted. */
export const MIN_KEK_LENGTH = 32;

const aesKeys = new Map<string, Promise<CryptoKey>>();

/** AES-256-GCM key from the Worker secret `AURAISON_GATEWAY_KEK` (SHA-256 of it). */
function aesKey(kek: string): Promise<CryptoKey> {
  let key = aesKeys.get(kek);
  if (!key) {
    key = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(`auraison-gateway-keys\u0000${kek}`))
      .then((raw) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
    aesKeys.set(kek, key);
  }
  return key;
}

/** Binds a sealed key to its tenant and provider slot, so it cannot be moved to another. */
const aad = (tenant: string, slot: string) => new TextEncoder().encode(`${tenant}/${slot}`);

/** base64(IV ‖ AES-GCM ciphertext) of a provider key. */
export async function sealKey(
  kek: string,
  tenant: string,
  slot: string,
  value: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(tenant, slot) },
    await aesKey(kek),
    new TextEncoder().encode(value),
  );
  const out = new Uint8Array(12 + cipher.byteLength);
  out.set(iv);
  out.set(new Uint8Array(cipher), 12);
  return toBase64(out);
}

const opened = new Map<string, string>();
const OPENED_CACHE_LIMIT = 256;

/** The provider key inside a sealed value; throws when the KEK or the slot does not match. */
export async function openKey(
  kek: string,
  tenant: string,
  slot: string,
  sealed: string,
): Promise<string> {
  const cacheKey = `${kek}\u0000${tenant}/${slot}/${sealed}`;
  const hit = opened.get(cacheKey);
  if (hit !== undefined) return hit;
  const bytes = fromBase64(sealed);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: aad(tenant, slot) },
    await aesKey(kek),
    bytes.subarray(12),
  );
  const value = new TextDecoder().decode(plain);
  if (opened.size >= OPENED_CACHE_LIMIT) opened.clear();
  opened.set(cacheKey, value);
  return value;
}
