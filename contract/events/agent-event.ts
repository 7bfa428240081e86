import { z } from "zod";
import { AgentId, Attempt, EventId, NonNegInt, RunId, TenantId, Timestamp } from "../primitives";
import { ErrorEvent, Heartbeat } from "./agent";
import { Compaction, Message, TurnCompleted, TurnStarted } from "./conversation";
import { BudgetEvent, LoopDetected, PolicyDecisionEvent } from "./governance";
import { ModelCall } from "./model-call";
import {
  ApprovalDecided,
  ApprovalRequested,
  PlanStatusEvent,
  PlanStepEvent,
  PlanVersionEvent,
} from "./plan";
import {
  LeaseExpired,
  RunCancelled,
  RunCompleted,
  RunDispatched,
  RunFailed,
  RunRetrying,
  RunStarted,
} from "./run";
import { ToolCallFinished, ToolCallProgress, ToolCallStarted } from "./tool-call";

/** Every event kind and its payload schema. Adding a kind is a minor contract change. */
export const EVENT_PAYLOADS = {
  run_dispatched: RunDispatched,
  run_started: RunStarted,
  run_completed: RunCompleted,
  run_failed: RunFailed,
  run_cancelled: RunCancelled,
  run_retrying: RunRetrying,
  lease_expired: LeaseExpired,
  message: Message,
  turn_started: TurnStarted,
  turn_completed: TurnCompleted,
  compaction: Compaction,
  model_call: ModelCall,
  tool_call_started: ToolCallStarted,
  tool_call_progress: ToolCallProgress,
  tool_call_finished: ToolCallFinished,
  policy_decision: PolicyDecisionEvent,
  budget: BudgetEvent,
  loop_detected: LoopDetected,
  heartbeat: Heartbeat,
  error: ErrorEvent,
  plan_status: PlanStatusEvent,
  plan_version: PlanVersionEvent,
  plan_step: PlanStepEvent,
  approval_requested: ApprovalRequested,
  approval_decided: ApprovalDecided,
} as const;

export type EventKind = keyof typeof EVENT_PAYLOADS;
export const EVENT_KINDS = Object.keys(EVENT_PAYLOADS) as EventKind[];
export const EventKindSchema = z
  .enum(EVENT_KINDS as [EventKind, ...EventKind[]])
  .meta({ id: "EventKind" });

/**
 * Kinds only central emits: its rulings on runs (dispatch, retry, a lapsed lease) and its plans
 * and approvals. Central refuses them from an agent (central/events/ingest.ts), and a run's fold
 * ignores one an edge sent: an agent that could dispatch a run to itself could claim it and
 * redeem the tenant's secrets.
 */
export const CENTRAL_KINDS = [
  "run_dispatched",
  "run_retrying",
  "lease_expired",
  "plan_status",
  "plan_version",
  "plan_step",
  "approval_requested",
  "approval_decided",
] as const satisfies readonly EventKind[];

export function isCentralKind(kind: EventKind): boolean {
  return (CENTRAL_KINDS as readonly string[]).includes(kind);
}

/** Kinds that end a run; after one of them the run's status is final. */
export const TERMINAL_RUN_KINDS = ["run_completed", "run_failed", "run_cancelled"] as const;

export const EventSource = z.enum(["edge", "central"]);

/**
 * Fields every event carries. `seq` orders the events one emitter produced for one run
 * (an edge agent's attempt, or central); across emitters the tenant-wide cursor central
 * assigns at ingest is the order.
 */
const envelope = {
  event_id: EventId,
  tenant: TenantId,
  run_id: RunId.nullable().describe("null for agent-level events such as heartbeats"),
  agent_id: AgentId,
  source: EventSource,
  seq: NonNegInt,
  attempt: Attempt.nullable().default(null).describe("the run attempt that emitted it"),
  ts: Timestamp,
};

function variant<K extends EventKind>(kind: K) {
  return z.object({ ...envelope, kind: z.literal(kind), payload: EVENT_PAYLOADS[kind] });
}

type VariantSchema<K extends EventKind> = ReturnType<typeof variant<K>>;

/** An AgentEvent of any kind; narrow on `kind` to get its typed payload. */
export type AgentEvent = { [K in EventKind]: z.output<VariantSchema<K>> }[EventKind];
export type AgentEventOf<K extends EventKind> = z.output<VariantSchema<K>>;
export type EventPayload<K extends EventKind> = z.output<(typeof EVENT_PAYLOADS)[K]>;
/** What an emitter supplies; defaulted fields may be left out. */
export type AgentEventInput = { [K in EventKind]: z.input<VariantSchema<K>> }[EventKind];

const variants = EVENT_KINDS.map((kind) => variant(kind)) as unknown as [
  VariantSchema<EventKind>,
  ...VariantSchema<EventKind>[],
];

export const AgentEvent = z
  .discriminatedUnion("kind", variants)
  .meta({ id: "AgentEvent" }) as unknown as z.ZodType<AgentEvent, AgentEventInput>;

/** An event as central's log returns it: with its tenant-wide cursor. */
export type StoredEvent = AgentEvent & { cursor: number };
export const StoredEvent = z
  .intersection(AgentEvent, z.object({ cursor: z.number().int().positive() }))
  .meta({ id: "StoredEvent" }) as unknown as z.ZodType<StoredEvent>;

export function isRunTerminalKind(kind: EventKind): boolean {
  return (TERMINAL_RUN_KINDS as readonly string[]).includes(kind);
}
