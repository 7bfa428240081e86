import { z } from "zod";
import { RejectedEvent } from "./api/events";
import { TenantSecretName } from "./api/secrets";
import { AgentStatus } from "./machines/agent";
import {
  AgentId,
  AppName,
  Attempt,
  LIMITS,
  NonNegInt,
  RunId,
  TenantId,
  Timestamp,
} from "./primitives";
import { Skill } from "./skill";

/**
 * The WebSocket protocol between an edge agent and its tenant's central Durable Object.
 * Every frame is one JSON object with a `type`. The edge authenticates with its agent key on
 * the upgrade request; everything after that is these messages.
 */

export const Harness = z
  .object({ name: z.string().min(1).max(64), version: z.string().min(1).max(64) })
  .meta({ id: "Harness" });

export const AgentRegistration = z
  .object({
    agent_id: AgentId,
    app: AppName,
    skills: z.array(Skill).max(256),
    capabilities: z.array(z.string().min(1).max(64)).max(64).default([]),
    harness: Harness,
    agent_version: z.string().min(1).max(64),
    contract_version: z.string().min(1).max(32),
    max_concurrency: z.number().int().min(1).max(64).default(1),
  })
  .meta({ id: "AgentRegistration" });
export type AgentRegistration = z.infer<typeof AgentRegistration>;

const RunAttempt = { run_id: RunId, attempt: Attempt };

// ---- edge -> central ----

export const HelloMessage = z.object({
  type: z.literal("hello"),
  registration: AgentRegistration,
  /** Runs this agent still holds (after a reconnect or restart), so central can renew leases. */
  holding: z.array(z.object(RunAttempt)).max(64).default([]),
});

export const HeartbeatMessage = z.object({
  type: z.literal("heartbeat"),
  status: AgentStatus.extract(["online", "busy", "draining"]),
  running: z.array(z.object(RunAttempt)).max(64),
  outbox_pending: NonNegInt.default(0),
});

export const EventsMessage = z.object({
  type: z.literal("events"),
  batch_id: z.string().min(1).max(128),
  /** Validated one by one on arrival, so one bad event does not sink its batch. */
  events: z.array(z.unknown()).min(1).max(LIMITS.batchEvents),
});

/** The dispatch arrived and the agent will try to run it. */
export const AckMessage = z.object({ type: z.literal("ack"), ...RunAttempt });

/** The agent takes the run; central answers `claimed` with the lease, or `claim_rejected`. */
export const ClaimMessage = z.object({ type: z.literal("claim"), ...RunAttempt });

/** The agent will not run this dispatch (malformed intent, unknown skill, no capacity). */
export const RefuseMessage = z.object({
  type: z.literal("refuse"),
  ...RunAttempt,
  reason: z.enum(["invalid_intent", "no_capacity", "unsupported", "draining"]),
  message: z.string().min(1).max(4096),
});

/**
 * Redeems the handle a `claimed` frame carried, once, for the app's declared secrets. Central
 * answers `secrets` with the values it may hand this agent for this run attempt.
 */
export const RedeemSecretsMessage = z.object({
  type: z.literal("redeem_secrets"),
  ...RunAttempt,
  handle: z.string().min(1).max(128),
  names: z.array(TenantSecretName).min(1).max(64),
});

export const DrainMessage = z.object({ type: z.literal("drain") });
export const GoodbyeMessage = z.object({ type: z.literal("goodbye"), reason: z.string().max(256) });

export const EdgeMessage = z
  .discriminatedUnion("type", [
    HelloMessage,
    HeartbeatMessage,
    EventsMessage,
    AckMessage,
    ClaimMessage,
    RefuseMessage,
    RedeemSecretsMessage,
    DrainMessage,
    GoodbyeMessage,
  ])
  .meta({ id: "EdgeMessage" });
export type EdgeMessage = z.infer<typeof EdgeMessage>;

// ---- central -> edge ----

export const WelcomeMessage = z.object({
  type: z.literal("welcome"),
  tenant: TenantId,
  agent_id: AgentId,
  contract_version: z.string(),
  heartbeat_interval_ms: z.number().int().positive(),
  lease_ms: z.number().int().positive(),
  server_time: Timestamp,
});

/** Run this. The intent is checked again by the edge: a malformed one is refused, not run. */
export const DispatchMessage = z.object({
  type: z.literal("dispatch"),
  ...RunAttempt,
  intent: z.unknown(),
  ack_timeout_ms: z.number().int().positive(),
});

export const ClaimedMessage = z.object({
  type: z.literal("claimed"),
  ...RunAttempt,
  lease_expires_at: Timestamp,
  /**
   * A one-time handle for the tenant secrets the app declares, good for this run attempt on this
   * agent only, for a short time (`redeem_secrets`).
   */
  secrets_handle: z.string().min(1).max(128).optional(),
});

export const ClaimRejectedMessage = z.object({
  type: z.literal("claim_rejected"),
  ...RunAttempt,
  reason: z.string().max(256),
});

/** Lease renewed (events and heartbeats renew it). */
export const LeaseMessage = z.object({
  type: z.literal("lease"),
  ...RunAttempt,
  lease_expires_at: Timestamp,
});

export const EventsAckMessage = z.object({
  type: z.literal("events_ack"),
  batch_id: z.string().min(1).max(128),
  /** Event ids now durably in central's log (newly stored or already there). */
  stored: z.array(z.string()).max(LIMITS.batchEvents),
  duplicates: NonNegInt,
  rejected: z.array(RejectedEvent).max(LIMITS.batchEvents),
});

/**
 * The answer to `redeem_secrets`: the values of the declared secrets this agent may have for the
 * run (`missing` names the rest), or why nothing was handed over. Never logged or stored.
 */
export const SecretsMessage = z.object({
  type: z.literal("secrets"),
  ...RunAttempt,
  values: z.record(TenantSecretName, z.string()),
  missing: z.array(TenantSecretName).max(64),
  refused: z.string().max(256).nullable(),
});

export const CancelMessage = z.object({
  type: z.literal("cancel"),
  run_id: RunId,
  reason: z.string().max(1024),
});

export const ErrorMessage = z.object({
  type: z.literal("error"),
  code: z.string().max(64),
  message: z.string().max(4096),
  fatal: z.boolean(),
});

export const CentralMessage = z
  .discriminatedUnion("type", [
    WelcomeMessage,
    DispatchMessage,
    ClaimedMessage,
    ClaimRejectedMessage,
    LeaseMessage,
    EventsAckMessage,
    SecretsMessage,
    CancelMessage,
    ErrorMessage,
  ])
  .meta({ id: "CentralMessage" });
export type CentralMessage = z.infer<typeof CentralMessage>;
