import { eq } from "drizzle-orm";
import {
  Failure,
  GatewayConfig,
  type GatewayConfigView,
  type ProviderKeyInput,
  type ProviderKeyView,
  type ValidationIssue,
} from "../../../contract";
import type { Database } from "../../db/database";
import { iso, isoOrNull } from "../../tenant/context";
import type { KeySource } from "../admission";
import { secretRefusal } from "../keys/offers";
import { keySlot } from "../keys/resolve";
import { MIN_KEK_LENGTH, sealKey } from "../keys/sealed-keys";
import type { Prices } from "../pricing/prices";
import { privateUpstreamsAllowed, upstreamUrl } from "../providers/upstream-url";
import {
  gatewayConfig,
  gatewayPrices,
  type StoredGatewayConfig,
  type StoredProvider,
} from "./schema";

export interface ConfigSnapshot {
  config: StoredGatewayConfig;
  version: number;
  updatedAt: number | null;
}

const EMPTY: StoredGatewayConfig = GatewayConfig.parse({}) as StoredGatewayConfig;

/**
 * The tenant's gateway configuration: read on every call (kept in memory), replaced whole by
 * an admin. Keys given as values are sealed before they are stored; cost table versions are
 * kept forever and never change their prices.
 */
export class GatewayConfigStore {
  private cached: ConfigSnapshot | null = null;
  private cachedPrices: Prices | null | undefined;

  constructor(
    private readonly db: Database,
    private readonly tenant: string,
    private readonly now: () => number,
    private readonly env: Env,
  ) {}

  current(): ConfigSnapshot {
    if (!this.cached) {
      const row = this.db.select().from(gatewayConfig).where(eq(gatewayConfig.id, 1)).get();
      this.cached = row
        ? { config: row.config, version: row.version, updatedAt: row.updatedAt }
        : { config: EMPTY, version: 0, updatedAt: null };
    }
    return this.cached;
  }

  /** The active cost table, or null when none is configured (every model unpriced). */
  prices(): Prices | null {
    if (this.cachedPrices === undefined) {
      const version = this.current().config.prices?.version;
      const row = version
        ? this.db.select().from(gatewayPrices).where(eq(gatewayPrices.version, version)).get()
        : undefined;
      this.cachedPrices = row ? { version: row.version, models: row.models } : null;
    }
    return this.cachedPrices;
  }

  priceVersions(): { version: string; created_at: string }[] {
    return this.db
      .select({ version: gatewayPrices.version, createdAt: gatewayPrices.createdAt })
      .from(gatewayPrices)
      .orderBy(gatewayPrices.createdAt)
      .all()
      .map((r) => ({ version: r.version, created_at: iso(r.createdAt) }));
  }

  view(): GatewayConfigView {
    const { config, version, updatedAt } = this.current();
    return {
      ...config,
      providers: config.providers.map((p) => viewOf(p)),
      version,
      updated_at: isoOrNull(updatedAt),
    } as GatewayConfigView;
  }

  /**
   * Replaces the configuration. Returns the ids of providers whose settings changed (their
   * circuits start over). Refuses a `{ stored: true }` key with nothing stored, a key value
   * without a key-encryption key, and a known price version with different prices.
   */
  async replace(next: GatewayConfig): Promise<{ view: GatewayConfigView; changed: string[] }> {
    const before = this.current();
    const previous = new Map(before.config.providers.map((p) => [p.id, p]));
    const issues: ValidationIssue[] = [];
    const providers: StoredProvider[] = [];
    const refuse = (path: string, message: string) =>
      issues.push({
        path,
        expected: "a URL and keys this platform allows",
        message,
        code: "refused",
      });
    for (const [i, provider] of next.providers.entries()) {
      const stored = { ...provider } as StoredProvider & Record<string, unknown>;
      const baseUrl = "base_url" in provider ? provider.base_url : null;
      const url = baseUrl === null ? null : upstreamUrl(baseUrl, privateUpstreamsAllowed(this.env));
      if (url?.problem) refuse(`providers[${i}].base_url`, `base_url ${url.problem}`);
      for (const which of ["key", "gateway_token"] as const) {
        const input = (provider as Record<string, unknown>)[which] as ProviderKeyInput | undefined;
        if (input === undefined) continue;
        if ("secret" in input && url?.problem === null) {
          const refused = secretRefusal(input.secret, this.tenant, url.host, this.env);
          if (refused) {
            refuse(`providers[${i}].${which}`, refused);
            continue;
          }
        }
        const kept = await this.keySource(input, provider, which, previous.get(provider.id));
        if (typeof kept === "string")
          issues.push({
            path: `providers[${i}].${which}`,
            expected: "a key",
            message: kept,
            code: "refused",
          });
        else stored[which] = kept;
      }
      providers.push(stored);
    }
    // Well-formed, but refused by this platform's policy or the tenant's stored keys: 422.
    if (issues.length)
      throw new Failure(
        422,
        "unprocessable",
        `invalid gateway config at ${issues[0]!.path}: ${issues[0]!.message}`,
        { issues },
      );
    const prices = next.prices;
    if (prices) {
      const known = this.db
        .select()
        .from(gatewayPrices)
        .where(eq(gatewayPrices.version, prices.version))
        .get();
      if (known && JSON.stringify(known.models) !== JSON.stringify(prices.models))
        throw new Failure(
          409,
          "conflict",
          `price table version ${prices.version} is already stored with other prices; give changed prices a new version`,
        );
    }
    const config: StoredGatewayConfig = { ...next, providers };
    const now = this.now();
    const version = before.version + 1;
    this.db.transaction((tx) => {
      if (prices)
        tx.insert(gatewayPrices)
          .values({ version: prices.version, models: prices.models, createdAt: now })
          .onConflictDoNothing()
          .run();
      tx.insert(gatewayConfig)
        .values({ id: 1, version, config, updatedAt: now })
        .onConflictDoUpdate({ target: gatewayConfig.id, set: { version, config, updatedAt: now } })
        .run();
    });
    this.cached = { config, version, updatedAt: now };
    this.cachedPrices = undefined;
    const changed = providers
      .filter((p) => JSON.stringify(previous.get(p.id)) !== JSON.stringify(p))
      .map((p) => p.id);
    return { view: this.view(), changed };
  }

  /** The stored form of one key input, or why it cannot be had. */
  private async keySource(
    input: ProviderKeyInput,
    next: GatewayConfig["providers"][number],
    which: "key" | "gateway_token",
    previous: StoredProvider | undefined,
  ): Promise<KeySource | string> {
    const provider = next.id;
    const what = which === "key" ? "key" : "gateway token";
    if ("secret" in input) return { secret: input.secret };
    if ("stored" in input) {
      const old = (previous as Record<string, unknown> | undefined)?.[which] as
        | KeySource
        | undefined;
      if (!old || !("sealed" in old))
        return `no ${what} is stored for provider ${provider}; send { "value": "..." } once`;
      // A stored key is never shown again, to the tenant's admins either: one re-pointed at
      // another host (or another account's AI Gateway) would be sent there and read.
      const from = destination(previous!);
      const to = destination(next);
      if (from !== to)
        return `the ${what} stored for provider ${provider} was given for ${from}, not ${to}; send { "value": "..." } to use a key there`;
      return old;
    }
    const kek = this.env.AURAISON_GATEWAY_KEK;
    if (!kek || kek.length < MIN_KEK_LENGTH)
      throw new Failure(
        503,
        "not_initialized",
        `storing provider keys needs the AURAISON_GATEWAY_KEK secret (at least ${MIN_KEK_LENGTH} characters); or name a Worker secret with { "secret": "NAME" }`,
      );
    return {
      sealed: await sealKey(kek, this.tenant, keySlot(provider, which), input.value),
      set_at: this.now(),
    };
  }
}

/**
 * Where a provider's key is sent: its kind, its base URL (the path too: one host may serve many
 * accounts, as Cloudflare's AI Gateway does under /v1/<account>/...), an AI Gateway's account.
 */
function destination(provider: { kind: string }): string {
  const p = provider as {
    kind: string;
    base_url?: string;
    account_id?: string;
    gateway_id?: string;
  };
  const url = p.base_url === undefined ? null : new URL(p.base_url);
  const base = url === null ? "" : `${url.origin}${url.pathname.replace(/\/+$/, "")}${url.search}`;
  const gateway =
    p.account_id === undefined ? "" : ` (account ${p.account_id}, gateway ${p.gateway_id})`;
  return `${p.kind} at ${base}${gateway}`;
}

function keyView(source: KeySource): ProviderKeyView {
  return "secret" in source
    ? { secret: source.secret }
    : { stored: true, set_at: iso(source.set_at) };
}

function viewOf(provider: StoredProvider): unknown {
  const out: Record<string, unknown> = { ...provider };
  if (provider.key) out.key = keyView(provider.key);
  if (provider.gateway_token) out.gateway_token = keyView(provider.gateway_token);
  return out;
}
