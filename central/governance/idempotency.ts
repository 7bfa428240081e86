import { and, eq, lt } from "drizzle-orm";
import { Failure } from "../../contract";
import type { Principal } from "../auth/principal";
import { fromBase64, toBase64 } from "../bytes";
import type { Database } from "../db/database";
import { idempotency } from "../db/schema";

/** How long a first response is kept for replays. */
export const REPLAY_WINDOW_MS = 24 * 3_600_000;

export type Begin = { kind: "new" } | { kind: "replay"; response: Response };

/**
 * `x-request-id` on a mutating call: the first response is stored under (principal, request id)
 * and a replay with the same body returns it with no second effect; the same id with another
 * body is refused (409), never answered with the first result. Responses are sealed with AES-GCM under a key
 * derived from the caller's own API key (or session token), so a stored reply (which may hold a
 * new key's secret) is useless to anyone reading the database; the same id from another
 * credential of the key is refused (409) too.
 */
export class IdempotencyStore {
  /**
   * The requests this object's life is answering. A pending row not among them was left by an
   * earlier life (a deploy or crash cut its request short): it will never be finished, and
   * whether its effect was stored is unknown, so a retry is told that rather than "in progress".
   * Test: test/central/governance/idempotency.test.ts "an earlier life".
   */
  private readonly underway = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  async begin(
    principal: Principal,
    requestId: string,
    method: string,
    path: string,
    bodyDigest: string,
  ): Promise<Begin> {
    const where = and(
      eq(idempotency.principal, principal.id),
      eq(idempotency.requestId, requestId),
    );
    const row = this.db.select().from(idempotency).where(where).get();
    if (row && row.expiresAt > this.now()) {
      if (row.method !== method || row.path !== path)
        throw new Failure(
          409,
          "conflict",
          `x-request-id '${requestId}' was already used for ${row.method} ${row.path}`,
        );
      if (row.bodyDigest !== null && row.bodyDigest !== bodyDigest)
        throw new Failure(
          409,
          "conflict",
          `x-request-id '${requestId}' was already used with a different body; a retry must send the same body, a new request a new id`,
        );
      if (row.state === "pending" || !row.sealed) {
        if (this.underway.has(underwayKey(principal, requestId)))
          throw new Failure(409, "conflict", `request '${requestId}' is still in progress`);
        throw new Failure(
          409,
          "conflict",
          `request '${requestId}' was cut short by a restart of central before its answer was kept: it may or may not have taken effect; look at what it changes, then send it again under a new x-request-id if it did not`,
        );
      }
      const opened = await open(principal.secret, requestId, row.sealed);
      // Ids are the key's (so no second effect through another of its credentials), but the
      // answer is sealed for the credential that made it, which may hold what the other may not
      // read (a new key's secret).
      if (opened === null)
        throw new Failure(
          409,
          "conflict",
          `x-request-id '${requestId}' was already used by another credential of this key (the key itself or one of its dashboard sessions), whose answer this one cannot read; a new request needs a new id`,
        );
      const stored = JSON.parse(opened) as {
        status: number;
        type: string | null;
        body: string;
      };
      const headers = new Headers({ "x-idempotent-replay": "true" });
      if (stored.type) headers.set("content-type", stored.type);
      return {
        kind: "replay",
        response: new Response(stored.body, { status: stored.status, headers }),
      };
    }
    const now = this.now();
    const values = {
      principal: principal.id,
      requestId,
      method,
      path,
      state: "pending" as const,
      status: null,
      sealed: null,
      bodyDigest,
      createdAt: now,
      expiresAt: now + REPLAY_WINDOW_MS,
    };
    if (row) this.db.update(idempotency).set(values).where(where).run();
    else this.db.insert(idempotency).values(values).run();
    this.underway.add(underwayKey(principal, requestId));
    return { kind: "new" };
  }

  /** Stores the first response (not a server error: those may be retried) and returns a copy. */
  async finish(principal: Principal, requestId: string, response: Response): Promise<Response> {
    const where = and(
      eq(idempotency.principal, principal.id),
      eq(idempotency.requestId, requestId),
    );
    if (response.status >= 500) {
      this.db.delete(idempotency).where(where).run();
      this.underway.delete(underwayKey(principal, requestId));
      return response;
    }
    const body = await response.text();
    const type = response.headers.get("content-type");
    const sealed = await seal(
      principal.secret,
      requestId,
      JSON.stringify({ status: response.status, type, body }),
    );
    this.db
      .update(idempotency)
      .set({ state: "done", status: response.status, sealed })
      .where(where)
      .run();
    // Only now: while the answer was read and sealed, a retry was still "in progress".
    this.underway.delete(underwayKey(principal, requestId));
    return new Response(body, { status: response.status, headers: response.headers });
  }

  abandon(principal: Principal, requestId: string): void {
    this.underway.delete(underwayKey(principal, requestId));
    this.db
      .delete(idempotency)
      .where(and(eq(idempotency.principal, principal.id), eq(idempotency.requestId, requestId)))
      .run();
  }

  prune(): void {
    this.db.delete(idempotency).where(lt(idempotency.expiresAt, this.now())).run();
  }
}

function underwayKey(principal: Principal, requestId: string): string {
  return `${principal.id}\n${requestId}`;
}

async function sealingKey(secret: string, requestId: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    "HKDF",
    false,
    ["deriveKey"],
  );
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode(requestId),
      info: new TextEncoder().encode("auraison idempotent replay"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function seal(secret: string, requestId: string, plain: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await sealingKey(secret, requestId);
  const cipher = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(plain)),
  );
  const out = new Uint8Array(iv.byteLength + cipher.byteLength);
  out.set(iv);
  out.set(cipher, iv.byteLength);
  return toBase64(out);
}

/** The sealed text, or null when it was sealed under another secret (the tag does not verify). */
async function open(secret: string, requestId: string, text: string): Promise<string | null> {
  const sealed = fromBase64(text);
  const key = await sealingKey(secret, requestId);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.slice(0, 12) },
      key,
      sealed.slice(12),
    );
  } catch (error) {
    if (error instanceof DOMException && error.name === "OperationError") return null;
    throw error;
  }
  return new TextDecoder().decode(plain);
}
