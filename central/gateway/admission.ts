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
 * after the client has its answer.
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
  estimate: { inputTokens: number; outputTokens: number | null };
  cache: { hash: string | null; mode: "default" | "no-cache" | "no-store" };
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
    };

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
  /** For each candidate tried: how its provider fared (feeds health and the circuit breaker). */
  health: ProviderOutcome[];
  errorType: string | null;
  cacheHit: boolean;
  store: { key: string; answer: CachedAnswer } | null;
}
