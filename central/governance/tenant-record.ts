import { eq } from "drizzle-orm";
import { DEFAULT_TENANT_SETTINGS, TenantSettings } from "../../contract";
import type { Database } from "../db/database";
import { logState, tenant } from "../db/schema";

/** The tenant's own row: whether it exists, its name, and its settings (cached in memory). */
export class TenantRecord {
  private cachedSettings: TenantSettings | null = null;
  private initialized: boolean | null = null;

  constructor(private readonly db: Database) {}

  exists(): boolean {
    this.initialized ??= this.db.select({ id: tenant.id }).from(tenant).get() !== undefined;
    return this.initialized;
  }

  create(slug: string, name: string | null, now: number): void {
    this.db
      .insert(tenant)
      .values({ id: 1, tenant: slug, name, createdAt: now, settings: DEFAULT_TENANT_SETTINGS })
      .run();
    this.db
      .insert(logState)
      .values({ id: 1, nextCursor: 1, sealedThrough: 0, prunedThrough: 0 })
      .onConflictDoNothing()
      .run();
    this.initialized = true;
  }

  settings(): TenantSettings {
    if (this.cachedSettings) return this.cachedSettings;
    // Read through the schema: a document stored before a section existed gets its defaults.
    const stored = this.db.select({ settings: tenant.settings }).from(tenant).get()?.settings;
    this.cachedSettings = stored ? TenantSettings.parse(stored) : DEFAULT_TENANT_SETTINGS;
    return this.cachedSettings;
  }

  putSettings(next: TenantSettings): void {
    this.db.update(tenant).set({ settings: next }).where(eq(tenant.id, 1)).run();
    this.cachedSettings = next;
  }
}
