import { and, desc, eq, isNull, lte } from "drizzle-orm";
import type { KeyCreated, KeyCreateRequest, KeyInfo } from "../../contract";
import { Failure } from "../../contract";
import {
  digestsEqual,
  KEY_SECRET_MISSING,
  mintKey,
  newKeyId,
  parseKey,
  sha256,
} from "../auth/keys";
import type { Principal } from "../auth/principal";
import { maySignIn, mintSession, SESSION_TTL_MS, verifySession } from "../auth/session";
import { fromHex, toHex } from "../bytes";
import type { Database } from "../db/database";
import { apiKeys, endedSessions } from "../db/schema";
import { iso, isoOrNull } from "../tenant/context";

type KeyRow = typeof apiKeys.$inferSelect;

/** Refresh `last_used_at` at most this often, so reads do not write on every request. */
const LAST_USED_GRANULARITY_MS = 60_000;

/** API keys: stored only as SHA-256 hashes, found by their public prefix, compared in constant time. */
export class KeyStore {
  /**
   * Moves on whenever a key stops being valid, so what was decided from a key elsewhere (the
   * gateway's leases in the Worker) can tell it is out of date.
   */
  revision = 0;

  constructor(
    private readonly db: Database,
    private readonly tenant: string,
    private readonly now: () => number,
    private readonly keySecret: () => string | null,
  ) {}

  async create(request: KeyCreateRequest, createdBy: string | null): Promise<KeyCreated> {
    const keySecret = this.keySecret();
    if (!keySecret) throw new Failure(503, "not_initialized", KEY_SECRET_MISSING);
    const key = await mintKey(request.role, this.tenant, keySecret);
    const parsed = parseKey(key)!;
    const row: KeyRow = {
      id: newKeyId(),
      role: request.role,
      name: request.name,
      app: ("app" in request ? request.app : undefined) ?? null,
      prefix: parsed.prefix,
      hash: toHex(await sha256(key)),
      createdAt: this.now(),
      createdBy,
      lastUsedAt: null,
      revokedAt: null,
    };
    this.db.insert(apiKeys).values(row).run();
    return { ...this.info(row), key };
  }

  list(): KeyInfo[] {
    return this.db
      .select()
      .from(apiKeys)
      .orderBy(desc(apiKeys.createdAt))
      .all()
      .map((row) => this.info(row));
  }

  get(id: string): KeyInfo | null {
    const row = this.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
    return row ? this.info(row) : null;
  }

  /** Revokes a key; revoking an already revoked key answers its record unchanged. */
  revoke(id: string): KeyInfo | null {
    const row = this.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
    if (!row) return null;
    if (row.revokedAt === null) {
      row.revokedAt = this.now();
      this.db.update(apiKeys).set({ revokedAt: row.revokedAt }).where(eq(apiKeys.id, id)).run();
      this.revision += 1;
    }
    return this.info(row);
  }

  /** A dashboard session for the key behind `principal` (the key itself is never handed back). */
  async openSession(principal: Principal): Promise<{ token: string; expiresAt: number }> {
    const keySecret = this.keySecret();
    if (!keySecret) throw new Failure(503, "not_initialized", KEY_SECRET_MISSING);
    const expiresAt = this.now() + SESSION_TTL_MS;
    const token = await mintSession(
      { tenant: this.tenant, keyId: principal.id, expiresAt },
      keySecret,
    );
    return { token, expiresAt };
  }

  /**
   * The principal a session token stands for: minted here, not expired, for this tenant, and its
   * key still live (revoking a key ends its sessions). Agent keys never get one.
   */
  async authenticateSession(token: string): Promise<Principal | null> {
    const keySecret = this.keySecret();
    if (!keySecret) return null;
    const session = await verifySession(token, keySecret, this.now());
    if (!session || session.tenant !== this.tenant) return null;
    const hash = toHex(await sha256(token));
    if (this.db.select().from(endedSessions).where(eq(endedSessions.tokenHash, hash)).get())
      return null;
    const row = this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, session.keyId), isNull(apiKeys.revokedAt)))
      .get();
    if (!row || !maySignIn(row.role)) return null;
    return {
      id: row.id,
      role: row.role,
      app: row.app,
      secret: token,
      session: { expiresAt: session.expiresAt },
    };
  }

  /**
   * Ends the session `principal` signed in with before its hour is up (signing out): its token
   * is refused from now on, in the tenant object and wherever a decision was taken from it.
   */
  async endSession(principal: Principal): Promise<void> {
    if (!principal.session) return;
    const now = this.now();
    this.db.delete(endedSessions).where(lte(endedSessions.expiresAt, now)).run();
    this.db
      .insert(endedSessions)
      .values({
        tokenHash: toHex(await sha256(principal.secret)),
        expiresAt: principal.session.expiresAt,
      })
      .onConflictDoNothing()
      .run();
    this.revision += 1;
  }

  /** The principal a bearer secret stands for, or null (malformed, other tenant, unknown, revoked). */
  async authenticate(secret: string): Promise<Principal | null> {
    const parsed = parseKey(secret);
    if (!parsed || parsed.tenant !== this.tenant) return null;
    const digest = await sha256(secret);
    const candidates = this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.prefix, parsed.prefix), isNull(apiKeys.revokedAt)))
      .all();
    const row = candidates.find((c) => digestsEqual(fromHex(c.hash), digest));
    if (!row) return null;
    const now = this.now();
    if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_GRANULARITY_MS)
      this.db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id)).run();
    return { id: row.id, role: row.role, app: row.app, secret };
  }

  private info(row: KeyRow): KeyInfo {
    return {
      id: row.id,
      tenant: this.tenant,
      role: row.role,
      name: row.name,
      app: row.app,
      prefix: row.prefix,
      created_at: iso(row.createdAt),
      created_by: row.createdBy,
      last_used_at: isoOrNull(row.lastUsedAt),
      revoked_at: isoOrNull(row.revokedAt),
    };
  }
}
