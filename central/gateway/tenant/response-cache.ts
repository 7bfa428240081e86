import { eq, lte, sql, sum } from "drizzle-orm";
import type { CacheSettings, ModelCall } from "../../../contract";
import type { Database } from "../../db/database";
import type { CachedAnswer } from "../admission";
import { gatewayCache } from "./schema";

/**
 * Whether the tenant's cache answers calls of this operation. Embeddings only when asked: a call
 * the cache may answer goes to the tenant object rather than using a lease, and bulk indexing,
 * mostly misses, would pay that round trip and store every answer for little gain.
 */
export function cacheServes(settings: CacheSettings, operation: ModelCall["operation"]): boolean {
  // A configuration stored before `embeddings` existed has none: off.
  return settings.enabled && (operation !== "embeddings" || settings.embeddings === true);
}

/**
 * The exact-match response cache, in the tenant object's SQLite: answers to deterministic
 * requests (cache/cache-key.ts says which) by normalised request hash, each with a TTL. A
 * streamed answer is kept as the SSE text the client received and replayed as a stream.
 */
export class ResponseCache {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  get(key: string): CachedAnswer | null {
    const row = this.db.select().from(gatewayCache).where(eq(gatewayCache.key, key)).get();
    if (!row) return null;
    if (row.expiresAt <= this.now()) {
      this.db.delete(gatewayCache).where(eq(gatewayCache.key, key)).run();
      return null;
    }
    this.db
      .update(gatewayCache)
      .set({ hits: sql`${gatewayCache.hits} + 1` })
      .where(eq(gatewayCache.key, key))
      .run();
    return row.answer;
  }

  put(key: string, answer: CachedAnswer, ttlMs: number): void {
    const now = this.now();
    const bytes = answer.body.length;
    this.db
      .insert(gatewayCache)
      .values({ key, answer, bytes, createdAt: now, expiresAt: now + ttlMs, hits: 0 })
      .onConflictDoUpdate({
        target: gatewayCache.key,
        set: { answer, bytes, createdAt: now, expiresAt: now + ttlMs, hits: 0 },
      })
      .run();
  }

  prune(): void {
    this.db.delete(gatewayCache).where(lte(gatewayCache.expiresAt, this.now())).run();
  }

  stats(): { entries: number; bytes: number; hits: number } {
    const row = this.db
      .select({
        entries: sql<number>`count(*)`,
        bytes: sum(gatewayCache.bytes),
        hits: sum(gatewayCache.hits),
      })
      .from(gatewayCache)
      .get();
    return {
      entries: Number(row?.entries ?? 0),
      bytes: Number(row?.bytes ?? 0),
      hits: Number(row?.hits ?? 0),
    };
  }
}
