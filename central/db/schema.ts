import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type {
  AgentInfo,
  Approval,
  ApprovalStatus,
  Intent,
  Plan,
  PlanStatus,
  RunLife,
  RunStatus,
  TenantSettings,
} from "../../contract";

/**
 * The tenant Durable Object's relational state. Times are epoch milliseconds (timers compare
 * them); the API renders them as contract Timestamps. Migrations are generated from this file
 * by drizzle-kit into ./migrations (see README "Central").
 */

/** One row: who this Durable Object serves and its settings. */
export const tenant = sqliteTable("tenant", {
  id: integer("id").primaryKey(),
  tenant: text("tenant").notNull(),
  name: text("name"),
  createdAt: integer("created_at").notNull(),
  settings: text("settings", { mode: "json" }).$type<TenantSettings>().notNull(),
});

/** One row: the event log's counters. */
export const logState = sqliteTable("log_state", {
  id: integer("id").primaryKey(),
  nextCursor: integer("next_cursor").notNull(),
  sealedThrough: integer("sealed_through").notNull(),
  prunedThrough: integer("pruned_through").notNull(),
});

/** One row: the single wake-up the tenant has asked the Agent scheduler for. */
export const timer = sqliteTable("timer", {
  id: integer("id").primaryKey(),
  scheduleId: text("schedule_id").notNull(),
  at: integer("at").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    role: text("role", { enum: ["admin", "operator", "viewer", "agent"] }).notNull(),
    name: text("name").notNull(),
    app: text("app"),
    /** The key's first characters: found by these, then its hash is compared in constant time. */
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_prefix").on(t.prefix)],
);

/**
 * Dashboard sessions signed out before their hour is up: a session token is a MAC, valid on its
 * own until it expires, so signing out must be remembered until then. Kept by the token's
 * SHA-256 (never the token), dropped once expired.
 */
export const endedSessions = sqliteTable("ended_sessions", {
  tokenHash: text("token_hash").primaryKey(),
  expiresAt: integer("expires_at").notNull(),
});

export const auditLog = sqliteTable("audit_log", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  at: integer("at").notNull(),
  principal: text("principal").notNull(),
  role: text("role").notNull(),
  action: text("action").notNull(),
  target: text("target"),
  outcome: text("outcome", { enum: ["ok", "denied", "error"] }).notNull(),
  status: integer("status").notNull(),
  requestId: text("request_id"),
  detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
});

/** First responses to mutating calls, by (principal, request id), sealed with the caller's key. */
export const idempotency = sqliteTable(
  "idempotency",
  {
    principal: text("principal").notNull(),
    requestId: text("request_id").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    state: text("state", { enum: ["pending", "done"] }).notNull(),
    status: integer("status"),
    /** base64 of IV + AES-GCM ciphertext of the first response. */
    sealed: text("sealed"),
    /** SHA-256 (hex) of the first request's body: a replay must send the same one. */
    bodyDigest: text("body_digest"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.principal, t.requestId] }),
    index("idempotency_expires").on(t.expiresAt),
  ],
);

export const agents = sqliteTable(
  "agents",
  {
    agentId: text("agent_id").primaryKey(),
    app: text("app").notNull(),
    status: text("status").$type<AgentInfo["status"]>().notNull(),
    statusSince: integer("status_since").notNull(),
    skills: text("skills", { mode: "json" }).$type<AgentInfo["skills"]>().notNull(),
    capabilities: text("capabilities", { mode: "json" }).$type<string[]>().notNull(),
    harness: text("harness", { mode: "json" }).$type<AgentInfo["harness"]>().notNull(),
    agentVersion: text("agent_version").notNull(),
    contractVersion: text("contract_version").notNull(),
    maxConcurrency: integer("max_concurrency").notNull(),
    keyId: text("key_id").notNull(),
    connectionId: text("connection_id"),
    connectedAt: integer("connected_at"),
    disconnectedAt: integer("disconnected_at"),
    lastHeartbeatAt: integer("last_heartbeat_at"),
    lastSeenAt: integer("last_seen_at"),
    outboxPending: integer("outbox_pending").notNull().default(0),
    /**
     * The agent asked for no new work (drain, or a heartbeat saying draining). Its own fact, not
     * only a status: a missed heartbeat and the recovery after it move the status, and only the
     * hello of a restarted agent ends the drain.
     */
    draining: integer("draining", { mode: "boolean" }).notNull().default(false),
    /** Ties between equally loaded agents go to the one dispatched to longest ago. */
    lastDispatchedAt: integer("last_dispatched_at"),
    registeredAt: integer("registered_at").notNull(),
  },
  (t) => [index("agents_app").on(t.app)],
);

export const intents = sqliteTable(
  "intents",
  {
    intentId: text("intent_id").primaryKey(),
    status: text("status").notNull(),
    intent: text("intent", { mode: "json" }).$type<Intent>().notNull(),
    idempotencyKey: text("idempotency_key").unique(),
    /** SHA-256 (hex) of the submitted request: a repeated idempotency_key must repeat it. */
    requestDigest: text("request_digest"),
    principal: text("principal").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("intents_status").on(t.status)],
);

/**
 * One row per run: its whole life (contract/runs, the fold) as JSON, and the columns the queue,
 * the timer, the fleet and the list query select on, written from the life on every save.
 */
export const runs = sqliteTable(
  "runs",
  {
    runId: text("run_id").primaryKey(),
    intentId: text("intent_id"),
    owner: text("owner").$type<RunLife["owner"]>().notNull(),
    status: text("status").$type<RunStatus>().notNull(),
    app: text("app"),
    agentId: text("agent_id"),
    /** The agent holding the current attempt (dispatched to it or claimed), while one does. */
    holder: text("holder"),
    retryAt: integer("retry_at"),
    /** When the owner must look at the run again (contract `nextDue`); null when nothing is due. */
    dueAt: integer("due_at"),
    createdAt: integer("created_at").notNull(),
    life: text("life", { mode: "json" }).$type<RunLife>().notNull(),
  },
  (t) => [
    index("runs_intent").on(t.intentId),
    index("runs_queue").on(t.status, t.createdAt),
    index("runs_holder").on(t.holder),
    index("runs_due").on(t.dueAt),
    index("runs_agent").on(t.agentId, t.status),
    index("runs_app").on(t.app, t.status),
  ],
);

/**
 * One row per plan: the whole plan (contract/plans, the fold) as JSON, and the columns the list,
 * the timer and idempotent submission select on, written from it on every save.
 */
export const plans = sqliteTable(
  "plans",
  {
    planId: text("plan_id").primaryKey(),
    status: text("status").$type<PlanStatus>().notNull(),
    /** When the plan must be looked at again (contract `planDue`); null when nothing is due. */
    dueAt: integer("due_at"),
    idempotencyKey: text("idempotency_key").unique(),
    /** SHA-256 (hex) of the submitted request: a repeated idempotency_key must repeat it. */
    requestDigest: text("request_digest"),
    createdAt: integer("created_at").notNull(),
    plan: text("plan", { mode: "json" }).$type<Plan>().notNull(),
  },
  (t) => [index("plans_status").on(t.status), index("plans_due").on(t.dueAt)],
);

/**
 * Each completed plan step's result, beside its plan's row rather than in it: a Durable Object's
 * SQLite holds at most 2 MB in one value, and a plan's results (up to 32,768 characters a step,
 * hundreds of steps, old versions kept) would pass that and make the plan unsavable.
 */
export const planResults = sqliteTable(
  "plan_results",
  {
    planId: text("plan_id").notNull(),
    version: integer("version").notNull(),
    stepId: text("step_id").notNull(),
    result: text("result").notNull(),
  },
  (t) => [primaryKey({ columns: [t.planId, t.version, t.stepId] })],
);

/** Which plan step each run of a plan belongs to, so a run's change finds its plan. */
export const planRuns = sqliteTable(
  "plan_runs",
  {
    runId: text("run_id").primaryKey(),
    planId: text("plan_id").notNull(),
    stepId: text("step_id").notNull(),
  },
  (t) => [index("plan_runs_plan").on(t.planId)],
);

/** Every approval a plan asked for, written from the plan on each save, for listing them. */
export const approvals = sqliteTable(
  "approvals",
  {
    approvalId: text("approval_id").primaryKey(),
    planId: text("plan_id").notNull(),
    status: text("status").$type<ApprovalStatus>().notNull(),
    requestedAt: text("requested_at").notNull(),
    approval: text("approval", { mode: "json" }).$type<Approval>().notNull(),
  },
  (t) => [
    index("approvals_status").on(t.status, t.approvalId),
    index("approvals_plan").on(t.planId),
  ],
);

/** The live part of the event log; `body` is the StoredEvent JSON, served as is. */
export const events = sqliteTable(
  "events",
  {
    cursor: integer("cursor").primaryKey(),
    eventId: text("event_id").notNull().unique(),
    runId: text("run_id"),
    agentId: text("agent_id").notNull(),
    kind: text("kind").notNull(),
    ingestedAt: integer("ingested_at").notNull(),
    body: text("body").notNull(),
  },
  (t) => [
    index("events_run").on(t.runId, t.cursor),
    index("events_agent").on(t.agentId, t.cursor),
    index("events_kind").on(t.kind, t.cursor),
  ],
);

/** Ids of events pruned from SQLite (their bodies live in R2), kept for dedupe. */
export const prunedEventIds = sqliteTable("pruned_event_ids", {
  eventId: text("event_id").primaryKey(),
  cursor: integer("cursor").notNull(),
  prunedAt: integer("pruned_at").notNull(),
});

/**
 * The cursor of each run's first event, kept when the event is pruned to R2: a read of one run
 * starts there instead of paging through the whole archive from the start of the log. A run
 * without a row has no event yet.
 */
export const runCursors = sqliteTable("run_cursors", {
  runId: text("run_id").primaryKey(),
  firstCursor: integer("first_cursor").notNull(),
});

/** The R2 archive's index: one row per sealed segment. */
export const segments = sqliteTable("segments", {
  fromCursor: integer("from_cursor").primaryKey(),
  toCursor: integer("to_cursor").notNull(),
  key: text("key").notNull(),
  events: integer("events").notNull(),
  bytes: integer("bytes").notNull(),
  sealedAt: integer("sealed_at").notNull(),
});

/** Tenant secrets for adapters: values sealed with AES-GCM under AURAISON_GATEWAY_KEK. */
export const secrets = sqliteTable("secrets", {
  name: text("name").primaryKey(),
  /** base64(IV ‖ AES-GCM ciphertext), bound to the tenant and the name. */
  sealed: text("sealed").notNull(),
  /** Apps whose agents may receive it; null: any app that declares it. */
  apps: text("apps", { mode: "json" }).$type<string[]>(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  updatedBy: text("updated_by"),
});

/**
 * The one outstanding secrets handle of a run: minted when its holder's claim is granted,
 * redeemed once (the row goes) by that agent for that attempt, before it expires. Only the
 * handle's hash is kept.
 */
export const secretHandles = sqliteTable("secret_handles", {
  runId: text("run_id").primaryKey(),
  attempt: integer("attempt").notNull(),
  agentId: text("agent_id").notNull(),
  hash: text("hash").notNull(),
  expiresAt: integer("expires_at").notNull(),
});
