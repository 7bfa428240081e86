import type {
  LimitRefusal,
  ModelAttempt,
  ModelCall,
  ModelRoute,
  ProviderConfig,
  ResilienceSettings,
} from "../../contract";
import type { Dialect } from "./dialects/errors";
import type { CallUsage } from "./dialects/usage";

/**
 * What the Worker and the tenant's Durable Object tell each other about one model call: the
 * Worker asks to admit it (`admit`), the object answers with the route and a reservation, the
 * Worker calls the providers and reports back (`settle`). Two RPCs per call, the second one
 * after the client has its answer (batched with other calls' settlements).
 *
 * The first RPC leaves the common path through leases (lease/lease.ts): with an admitted call
 * the object may grant the Worker a lease, a bounded number of call slots for calls of the
 * same shape (key, attribution, model, operation) that it has already counted against the
 * rate limits and reserved against the budgets. The Worker admits such calls itself until the
 * slots are spent, the lease expires or the object's epoch moves on, and reports the slots it
 * started when it closes the lease, so the object frees the unused rest. Once half a lease is
 * used the Worker asks for the next one in the background (`gatewayLease`, which admits no call).
 */

/** A provider key as stored: a Worker secret's name, or sealed with AES-GCM. */
export type KeySource = { secret: string } | { sealed: string; set_at: number };

type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A provider as the Worker needs it to make a call: its settings, keys by reference. */
export type ProviderTarget = OmitEach<ProviderConfig, "key" | "gateway_token" | "resilience"> & {
  key?: KeySource;
  gateway_token?: KeySource;
  resilience: ResilienceSettings;
};

export interface UpstreamCandidate {
  provider: ProviderTarget;
  model: string;
  /** This call tests a half-open circuit: one try, and its outcome decides the circuit. */
  probe: boolean;
}

export interface AdmitRequest {
  secret: string;
  dialect: Dialect;
  /** What the call does, for its event: chat (completions, messages, responses), embeddings... */
  operation: ModelCall["operation"];
  /** The model name the caller asked for. */
  requested: string;
  stream: boolean;
  attribution: {
    run: string | null;
    agent: string | null;
    app: string | null;
    intentType: string | null;
    tags: string[];
  };
  /** Upper bounds for budgets and token limits. */
  estimate: CallEstimate;
  cache: { hash: string | null; mode: "default" | "no-cache" | "no-store" };
  /** The Worker would take a lease for further calls of this shape. */
  lease?: boolean;
}

/** A call's size as its request bounds it, before the provider answers. */
export interface CallEstimate {
  /** Each document counted as DOCUMENT_TOKEN_BOUND (call/estimate.ts, `withDocumentBound`). */
  inputTokens: number;
  /** Per document the request names, its inline size (see call/estimate.ts, InputBound). */
  documents: number[];
  /** What each document was counted at in `inputTokens` (call/estimate.ts). */
  documentBound: number;
  /** Output tokens per choice the request allows, or null: the tenant's `max_output_tokens`. */
  outputTokens: number | null;
  /** Choices the request asks for (OpenAI's `n`): each may generate the whole output. */
  choices: number;
}

/**
 * The most output a call can be billed for: every choice it asks for at its own cap, or at the
 * tenant's `max_output_tokens` (which the gateway then sends as the cap, per choice).
 */
export function outputBound(estimate: CallEstimate, maxOutputTokens: number): number {
  return (estimate.outputTokens ?? maxOutputTokens) * estimate.choices;
}

/** Who the call is attributed to, as verified by the tenant object. */
export interface Attribution {
  keyId: string;
  runId: string | null;
  agentId: string;
  attempt: number | null;
  app: string | null;
  intentType: string | null;
  tags: string[];
}

export interface Ticket {
  callId: string;
  operation: ModelCall["operation"];
  admittedAt: number;
  reservationId: string | null;
  /** The lease the Worker admitted the call under (no reservation of its own). */
  lease: string | null;
  attribution: Attribution;
  route: ModelRoute;
  alias: string | null;
  /** The minute window the call's tokens were counted in, to correct them at settle. */
  rateWindow: number;
  estimatedTokens: number;
  /** Providers whose open circuit this call was given the probe of. */
  probes: string[];
}

export interface CachedAnswer {
  body: string;
  provider: string;
  model: string;
  responseModel: string | null;
  usage: CallUsage;
}

export type AdmitResult =
  | {
      kind: "refused";
      status: number;
      code: string;
      message: string;
      limit?: LimitRefusal;
      retryAfterMs?: number;
    }
  | { kind: "cached"; ticket: Ticket; answer: CachedAnswer }
  | {
      kind: "proceed";
      ticket: Ticket;
      chain: UpstreamCandidate[];
      /** Where to store the answer, when it may be cached. */
      cacheKey: string | null;
      /** An output cap the upstream must be held to (a budget applies and the request has none). */
      outputCap: number | null;
      /** Output cap for providers that require one (Anthropic). */
      defaultMaxTokens: number;
      /** Slots for the Worker to admit further calls of this shape itself. */
      lease?: LeaseGrant;
    };

/**
 * A lease as the tenant object grants it: `slots` calls, each reserved at `slotTokens` tokens
 * and `slotUsd` dollars and counted against the rate limits when granted. A call fits a slot
 * when its input bound and its output (or `maxOutputTokens` without one) are within the slot.
 */
export interface LeaseGrant {
  id: string;
  /** The object's epoch when granted: keys, configuration and circuits as they were then. */
  epoch: string;
  ttlMs: number;
  slots: number;
  slotInputTokens: number;
  slotOutputTokens: number;
  slotTokens: number;
  slotUsd: number;
  attribution: Attribution;
  route: ModelRoute;
  alias: string | null;
  rateWindow: number;
  chain: UpstreamCandidate[];
  /**
   * A budget or a per-minute token limit applies: a call that names no output limit is held to
   * `maxOutputTokens`.
   */
  budgeted: boolean;
  maxOutputTokens: number;
  /** The response cache is on: deterministic calls go to the object, which holds it. */
  cacheEnabled: boolean;
}

/** The output cap a call is held to: when its tokens are reserved and the caller named none. */
export function outputCapOf(
  budgeted: boolean,
  requestedOutput: number | null,
  maxOutputTokens: number,
): number | null {
  return budgeted && requestedOutput === null ? maxOutputTokens : null;
}

/** A lease the Worker stopped using: how many of its slots it started calls in. */
export interface LeaseClose {
  id: string;
  started: number;
}

/** Settlements and lease closes the Worker sends together; answered with the current epoch. */
export interface SettleBatch {
  settles: SettleRequest[];
  closes: LeaseClose[];
}

/** How one provider fared on one try (feeds its health and its circuit breaker). */
export interface ProviderOutcome {
  provider: string;
  ok: boolean;
  /** Counts toward opening the circuit: 5xx, timeouts, refused credentials, broken streams. */
  breakerFailure: boolean;
  latencyMs: number;
  ttftMs: number | null;
  error: string | null;
  probe: boolean;
}

/** A try that failed after its provider reported usage, which the provider bills. */
export interface BilledTry {
  /** The try's place in the call's `attempts`. */
  attempt: number;
  usage: CallUsage;
}

export interface SettleRequest {
  ticket: Ticket;
  outcome: "ok" | "error" | "cancelled";
  provider: string | null;
  model: string | null;
  responseModel: string | null;
  responseId: string | null;
  finishReasons: string[];
  stream: boolean;
  usage: CallUsage | null;
  usageEstimated: boolean;
  latencyMs: number;
  ttftMs: number | null;
  gatewayMs: number;
  attempts: ModelAttempt[];
  /**
   * Tries of `attempts` that failed after their provider reported usage: charged with the call.
   * Absent from a Worker that predates it (during a deploy).
   */
  billed?: BilledTry[];
  /**
   * For each try: how its provider fared (feeds health and the circuit breaker); none for a try
   * the request's own fault failed, which says nothing of the provider.
   */
  health: ProviderOutcome[];
  errorType: string | null;
  cacheHit: boolean;
  store: { key: string; answer: CachedAnswer } | null;
}
