import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { BreakerState, GatewayConfig, ModelPrice, ProviderConfig } from "../../../contract";
import type { CachedAnswer, KeySource } from "../admission";

/**
 * The model gateway's state in the tenant Durable Object (migrations with central's, see
 * central/db/drizzle.config.ts). Times are epoch milliseconds.
 */

type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A provider as stored: keys by Worker secret name, or sealed. */
export type StoredProvider = OmitEach<ProviderConfig, "key" | "gateway_token"> & {
  key?: KeySource;
  gateway_token?: KeySource;
};

export type StoredGatewayConfig = Omit<GatewayConfig, "providers"> & {
  providers: StoredProvider[];
};

/** One row: the configuration, its version and when it changed. */
export const gatewayConfig = sqliteTable("gateway_config", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull(),
  config: text("config", { mode: "json" }).$type<StoredGatewayConfig>().notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Every cost table version ever stored; a version's prices never change. */
export const gatewayPrices = sqliteTable("gateway_prices", {
  version: text("version").primaryKey(),
  models: text("models", { mode: "json" }).$type<Record<string, ModelPrice>>().notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Spend per budget scope and UTC day; a month or a run's whole life is a sum of days. */
export const gatewaySpend = sqliteTable(
  "gateway_spend",
  {
    scope: text("scope", { enum: ["tenant", "app", "run"] }).notNull(),
    subject: text("subject").notNull(),
    day: integer("day").notNull(),
    tokens: integer("tokens").notNull(),
    usd: real("usd").notNull(),
    unpricedCalls: integer("unpriced_calls").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.subject, t.day] })],
);

/** Each provider's circuit and moving averages. */
export const gatewayHealth = sqliteTable("gateway_health", {
  provider: text("provider").primaryKey(),
  circuit: text("circuit").$type<BreakerState>().notNull(),
  since: integer("since").notNull(),
  consecutiveFailures: integer("consecutive_failures").notNull(),
  until: integer("until"),
  latencyMs: real("latency_ms"),
  ttftMs: real("ttft_ms"),
  errorRate: real("error_rate"),
  calls: integer("calls").notNull(),
  failures: integer("failures").notNull(),
  lastError: text("last_error"),
  lastErrorAt: integer("last_error_at"),
});

/** Exact-match response cache: answers to deterministic requests, by normalised request hash. */
export const gatewayCache = sqliteTable(
  "gateway_cache",
  {
    key: text("key").primaryKey(),
    answer: text("answer", { mode: "json" }).$type<CachedAnswer>().notNull(),
    bytes: integer("bytes").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    hits: integer("hits").notNull(),
  },
  (t) => [index("gateway_cache_expires").on(t.expiresAt)],
);

/** Next `seq` of the gateway's events, per run (or `-` for calls outside a run). */
export const gatewaySeq = sqliteTable("gateway_seq", {
  stream: text("stream").primaryKey(),
  next: integer("next").notNull(),
});

/**
 * Calls already settled, for a while: a Worker sends a settlement batch again when its RPC
 * failed, which it may have done after the object applied it (settled-calls.ts).
 */
export const gatewaySettled = sqliteTable(
  "gateway_settled",
  {
    callId: text("call_id").primaryKey(),
    settledAt: integer("settled_at").notNull(),
  },
  (t) => [index("gateway_settled_at").on(t.settledAt)],
);
