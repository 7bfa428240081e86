import { asc, eq, lt } from "drizzle-orm";
import { Failure, type SecretInfo, type SecretSetRequest } from "../../contract";
import { digestsEqual, sha256 } from "../auth/keys";
import { fromHex, toBase64Url, toHex } from "../bytes";
import type { Database } from "../db/database";
import { secretHandles, secrets } from "../db/schema";
import { MIN_KEK_LENGTH, openKey, sealKey } from "../gateway/keys/sealed-keys";
import { iso } from "../tenant/context";

type SecretRow = typeof secrets.$inferSelect;

/** How long a claim's secrets handle may wait to be redeemed. */
export const SECRETS_HANDLE_TTL_MS = 60_000;

/** A run attempt's claim, as the agent redeeming its handle presents it. */
export interface Redemption {
  run_id: string;
  attempt: number;
  agent_id: string;
  /** The redeeming agent's app: a secret restricted to other apps is not handed over. */
  app: string;
  handle: string;
  names: readonly string[];
}

export type Redeemed =
  | { ok: true; values: Record<string, string>; missing: string[] }
  | { ok: false; reason: string };

/**
 * The tenant's secrets for adapters. Values are sealed with AES-GCM under the Worker secret
 * AURAISON_GATEWAY_KEK (the gateway's sealing, bound to tenant and name) and leave only through
 * a claim's one-time handle, to the agent holding that run attempt: no route returns a value,
 * and nothing here logs one.
 */
export class SecretStore {
  constructor(
    private readonly db: Database,
    private readonly tenant: string,
    private readonly now: () => number,
    private readonly kek: () => string | undefined,
  ) {}

  /** Creates or replaces a secret. */
  async set(name: string, request: SecretSetRequest, by: string | null): Promise<SecretInfo> {
    const sealed = await sealKey(this.key(), this.tenant, slot(name), request.value);
    const now = this.now();
    const existing = this.row(name);
    const row: SecretRow = {
      name,
      sealed,
      apps: request.apps ?? null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      updatedBy: by,
    };
    this.db
      .insert(secrets)
      .values(row)
      .onConflictDoUpdate({
        target: secrets.name,
        set: { sealed, apps: row.apps, updatedAt: now, updatedBy: by },
      })
      .run();
    return info(row);
  }

  list(): SecretInfo[] {
    return this.db.select().from(secrets).orderBy(asc(secrets.name)).all().map(info);
  }

  get(name: string): SecretInfo | null {
    const row = this.row(name);
    return row ? info(row) : null;
  }

  remove(name: string): SecretInfo | null {
    const row = this.row(name);
    if (!row) return null;
    this.db.delete(secrets).where(eq(secrets.name, name)).run();
    return info(row);
  }

  /** Handles minted whose row is still being written (the digest is asynchronous). */
  private readonly minting = new Map<string, Promise<void>>();

  /**
   * Mints the handle a granted claim carries, replacing any earlier one of the run. The claim is
   * granted in one synchronous step, so the handle is returned at once and its hash stored as
   * soon as WebCrypto has it; a redemption waits for that write.
   */
  mint(runId: string, attempt: number, agentId: string): string {
    const handle = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    const expiresAt = this.now() + SECRETS_HANDLE_TTL_MS;
    const write = sha256(handle).then((hash) => {
      this.db.delete(secretHandles).where(lt(secretHandles.expiresAt, this.now())).run();
      const row = { runId, attempt, agentId, hash: toHex(hash), expiresAt };
      this.db
        .insert(secretHandles)
        .values(row)
        .onConflictDoUpdate({ target: secretHandles.runId, set: row })
        .run();
    });
    this.minting.set(runId, write);
    // A failed write surfaces to a redemption waiting on it; once settled, no row means no handle.
    const settled = () => {
      if (this.minting.get(runId) === write) this.minting.delete(runId);
    };
    write.then(settled, settled);
    return handle;
  }

  /**
   * Redeems a handle once: the values of the names asked for that exist and may go to this app.
   * A wrong, expired, reused or foreign handle gets nothing, and consumes the run's handle.
   */
  async redeem(r: Redemption): Promise<Redeemed> {
    await this.minting.get(r.run_id);
    const presented = await sha256(r.handle);
    const row = this.db.select().from(secretHandles).where(eq(secretHandles.runId, r.run_id)).get();
    if (!row) return { ok: false, reason: "no unredeemed secrets handle for this run" };
    this.db.delete(secretHandles).where(eq(secretHandles.runId, r.run_id)).run();
    if (
      row.attempt !== r.attempt ||
      row.agentId !== r.agent_id ||
      !digestsEqual(presented, fromHex(row.hash))
    )
      return { ok: false, reason: "the handle does not belong to this agent and run attempt" };
    if (row.expiresAt < this.now()) return { ok: false, reason: "the handle expired" };
    const values: Record<string, string> = {};
    const missing: string[] = [];
    const kek = this.kek();
    for (const name of new Set(r.names)) {
      const secret = this.row(name);
      if (!secret || (secret.apps !== null && !secret.apps.includes(r.app)) || !usable(kek)) {
        missing.push(name);
        continue;
      }
      try {
        values[name] = await openKey(kek, this.tenant, slot(name), secret.sealed);
      } catch {
        // Sealed under another KEK (it was rotated): as good as absent until set again.
        missing.push(name);
      }
    }
    return { ok: true, values, missing };
  }

  private row(name: string): SecretRow | undefined {
    return this.db.select().from(secrets).where(eq(secrets.name, name)).get();
  }

  private key(): string {
    const kek = this.kek();
    if (!usable(kek))
      throw new Failure(
        503,
        "not_initialized",
        `storing secrets needs the AURAISON_GATEWAY_KEK secret (at least ${MIN_KEK_LENGTH} characters)`,
      );
    return kek;
  }
}

const usable = (kek: string | undefined): kek is string =>
  kek !== undefined && kek.length >= MIN_KEK_LENGTH;

/** The sealing slot of a secret: distinct from the gateway's provider key slots (`id#key`). */
const slot = (name: string) => `secret:${name}`;

function info(row: SecretRow): SecretInfo {
  return {
    name: row.name,
    apps: row.apps,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    updated_by: row.updatedBy,
  };
}
