import { fromBase64Url, toBase64Url } from "../bytes";
import { digestsEqual, sign } from "./keys";

/** The dashboard's session cookie: HttpOnly, SameSite=Strict, the API's own origin. */
export const SESSION_COOKIE = "auraison_session";

/** How long a session lasts; the page asks for the key again after that. */
export const SESSION_TTL_MS = 60 * 60 * 1000;

/**
 * Who may hold a session: people's keys. An agent key (a lab host's) and the bootstrap key are
 * never exchanged for one, and a session whose key is not such a key is not honoured.
 */
export function maySignIn<R extends string>(role: R): role is Exclude<R, "agent" | "bootstrap"> {
  return role !== "agent" && role !== "bootstrap";
}

const TAG_BYTES = 16;
const SESSION_PATTERN =
  /^aurs_([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)_([A-Za-z0-9_-]+)\.(\d+)\.([A-Za-z0-9_-]{22})$/;

/** What a session stands for: one key of one tenant, until a time. */
export interface Session {
  tenant: string;
  keyId: string;
  expiresAt: number;
}

/**
 * A session token for the cookie: `aurs_<tenant>_<key id>.<expiry>.<tag>`, the tag a MAC under
 * AURAISON_KEY_SECRET. It holds no secret of the key: the page is given a session, never keeps the
 * key. Like a key, the Worker routes it to its tenant without a lookup once the tag checks out,
 * and the tenant object then checks the key behind it is still live (revoking the key ends its
 * sessions).
 */
export async function mintSession(session: Session, keySecret: string): Promise<string> {
  const body = `aurs_${session.tenant}_${toBase64Url(new TextEncoder().encode(session.keyId))}.${session.expiresAt}`;
  const mac = await sign(keySecret, "auraison-sessions", body);
  return `${body}.${toBase64Url(mac.subarray(0, TAG_BYTES))}`;
}

/** The session a token stands for, if central minted it and it has not expired; else null. */
export async function verifySession(
  token: string,
  keySecret: string,
  now: number,
): Promise<Session | null> {
  const match = SESSION_PATTERN.exec(token);
  if (!match) return null;
  const [, tenant, keyId, expiry, tag] = match;
  const body = token.slice(0, token.lastIndexOf("."));
  const expected = (await sign(keySecret, "auraison-sessions", body)).subarray(0, TAG_BYTES);
  if (!digestsEqual(expected, fromBase64Url(tag!))) return null;
  const expiresAt = Number(expiry);
  if (!(expiresAt > now)) return null;
  return { tenant: tenant!, keyId: new TextDecoder().decode(fromBase64Url(keyId!)), expiresAt };
}
