/**
 * Where things are on central, and the headers that attribute a request to an edge run.
 * Edge, CLI, memory and the gateway all use these names; nothing spells them out again.
 */
export const PATHS = {
  health: "/health",
  openapi: "/openapi.json",
  /** The caller's tenant in the Prometheus text format (authenticated like the API). */
  metrics: "/metrics",
  tenants: "/v1/tenants",
  keys: "/v1/keys",
  audit: "/v1/audit",
  /** The dashboard's sign-in: a key exchanged for an HttpOnly session cookie. */
  session: "/v1/session",
  /** Tenant secrets for adapters (admin sets and removes; values are never returned). */
  secrets: "/v1/secrets",
  /** Per-tenant timings, retry policy and archive settings (admin). */
  settings: "/v1/settings",
  agents: "/v1/agents",
  /** WebSocket upgrade for edge agents; authenticated with an agent key. */
  agentConnect: "/v1/agents/connect",
  intents: "/v1/intents",
  runs: "/v1/runs",
  /** Plans: goals made into graphs of intents, run and repaired by central. */
  plans: "/v1/plans",
  /** Approvals plans and their steps wait for. */
  approvals: "/v1/approvals",
  events: "/v1/events",
  eventStream: "/v1/events/stream",
  /** The model gateway (OpenAI- and Anthropic-compatible). */
  chatCompletions: "/v1/chat/completions",
  messages: "/v1/messages",
  countTokens: "/v1/messages/count_tokens",
  responses: "/v1/responses",
  embeddings: "/v1/embeddings",
  models: "/v1/models",
  /** The gateway's per-tenant configuration (admin) and its live state. */
  gatewayConfig: "/v1/gateway/config",
  gatewayStatus: "/v1/gateway/status",
} as const;

/** Request headers understood by central. */
export const HEADERS = {
  /** Replaying a mutating call with the same id returns the first result with no second effect. */
  requestId: "x-request-id",
  /** Gateway attribution: which run, agent, app and intent type a model call belongs to. */
  run: "x-auraison-run",
  agent: "x-auraison-agent",
  app: "x-auraison-app",
  intentType: "x-auraison-intent-type",
  /** Comma-separated routing tags, e.g. `vision,long-context`. */
  tags: "x-auraison-tags",
  /** `no-cache` skips the gateway's response cache for this call. */
  cache: "x-auraison-cache",
  /** Response: time the gateway itself added, in ms (Server-Timing style value). */
  gatewayTime: "x-auraison-gateway-ms",
  /** Response: the gateway's id for the call (the model_call event's `call_id`). */
  callId: "x-auraison-call-id",
  /** Response: the provider and model that answered. */
  provider: "x-auraison-provider",
  model: "x-auraison-model",
  /** Response: how the call was admitted: `lease` (in the Worker) or `tenant` (by its object). */
  admission: "x-auraison-admission",
} as const;
