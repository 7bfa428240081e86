import { z } from "zod";
import { BreakerState } from "../machines/breaker";
import { own } from "../own";
import {
  AgentId,
  AppName,
  NonNegInt,
  NonNegNumber,
  RunId,
  TenantId,
  Timestamp,
} from "../primitives";

/**
 * The model gateway's per-tenant configuration (`GET`/`PUT /v1/gateway/config`, admin; `auraison
 * gateway apply <file>`): providers and their keys, aliases and routing rules, the cost table,
 * rate limits, budgets, resilience and cache settings. `PUT` replaces the whole document;
 * omitted sections take their defaults. Provider keys are write-only.
 */

const slug = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export const ProviderId = z
  .string()
  .regex(slug, "lowercase letters, digits and '-', 1-64 chars")
  .describe("the provider's name in this tenant, e.g. `openai`, `lab-vllm`");

export const ModelName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^\S+$/, "no whitespace")
  .describe(
    "the model id the provider knows, e.g. `gpt-4.1-mini`, `@cf/meta/llama-3.1-8b-instruct`",
  );

export const AliasName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "lowercase letters, digits, '.', '_' and '-', 1-64 chars")
  .describe("a model name clients may ask for that routing resolves, e.g. `auto`, `fast`");

/** `provider/model`: the provider's id, a slash, and one of the models it declares. */
export const Candidate = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\/\S+$/, "provider/model, e.g. openai/gpt-4.1-mini")
  .max(265);

/**
 * A Worker secret holding a provider key. `AURAISON_*` names are the platform's own secrets and
 * settings (the bootstrap key, the key-encryption key, ...): no tenant configuration may name
 * one, and the gateway reads only the secrets the operator offers as provider keys
 * (`AURAISON_PROVIDER_SECRETS`).
 */
export const SecretName = z
  .string()
  .regex(
    /^(?!AURAISON_)[A-Z][A-Z0-9_]{0,63}$/,
    "an upper-case Worker secret name outside the platform's AURAISON_* names, e.g. OPENAI_API_KEY",
  );

const Hostname = z
  .string()
  .regex(
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$|^\[[0-9a-f:.]+\]$/,
    "a lower-case host name or IP address, e.g. api.openai.com",
  );

/**
 * The operator's offer of provider keys to tenants (the Worker var `AURAISON_PROVIDER_SECRETS`,
 * JSON): which Worker secrets a gateway config may name, the hosts each may be sent to, and
 * optionally which tenants may use it. A secret not offered here, or a provider URL on another
 * host, is refused, so no tenant can send a platform-held key to a server of its choosing.
 */
export const ProviderSecretOffers = z
  .record(
    SecretName,
    z.strictObject({
      hosts: z.array(Hostname).min(1).max(64).describe("the only hosts this key is sent to"),
      tenants: z
        .array(TenantId)
        .min(1)
        .max(1000)
        .optional()
        .describe("the tenants that may name it (default: every tenant)"),
    }),
  )
  .meta({ id: "ProviderSecretOffers" });
export type ProviderSecretOffers = z.infer<typeof ProviderSecretOffers>;

/** How a PUT gives a provider key: by Worker secret name, as a value to seal, or keep the stored one. */
export const ProviderKeyInput = z.union([
  z
    .strictObject({ secret: SecretName })
    .describe("read from this Worker secret (`wrangler secret put`) at call time"),
  z
    .strictObject({ value: z.string().min(8).max(8192) })
    .describe("write-only: sealed with AES-GCM under AURAISON_GATEWAY_KEK and stored"),
  z
    .strictObject({ stored: z.literal(true) })
    .describe("keep the key stored earlier for this provider"),
]);
export type ProviderKeyInput = z.infer<typeof ProviderKeyInput>;

/** How a key is shown: its secret's name, or that one is stored (never the key). */
export const ProviderKeyView = z.union([
  z.strictObject({ secret: SecretName }),
  z.strictObject({ stored: z.literal(true), set_at: Timestamp }),
]);
export type ProviderKeyView = z.infer<typeof ProviderKeyView>;

const ms = (max: number) => z.number().int().min(1).max(max);

/** Retries, timeouts and the circuit breaker; per provider, any of them can be overridden. */
export const ResilienceSettings = z
  .strictObject({
    max_retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe("tries after the first on the same provider, on 429, 5xx and timeouts"),
    backoff_base_ms: z.number().int().min(0).max(60_000).default(200),
    backoff_max_ms: z.number().int().min(0).max(300_000).default(5_000),
    max_retry_after_ms: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(10_000)
      .describe("a Retry-After longer than this moves on to the next candidate instead of waiting"),
    timeout_ms: ms(900_000)
      .default(120_000)
      .describe("a non-streamed attempt must complete within this"),
    first_byte_timeout_ms: ms(600_000)
      .default(30_000)
      .describe("a streamed attempt must send its first token within this, else it falls back"),
    idle_timeout_ms: ms(600_000)
      .default(60_000)
      .describe("a stream silent for this long ends with an error event"),
    breaker_failures: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe("consecutive failures (5xx, timeouts, refused keys) that open the circuit"),
    breaker_cooldown_ms: ms(3_600_000)
      .default(30_000)
      .describe("an open circuit lets a probe call through after this"),
  })
  .meta({ id: "ResilienceSettings" });
export type ResilienceSettings = z.output<typeof ResilienceSettings>;

const ResilienceOverride = z
  .strictObject(
    Object.fromEntries(
      Object.entries(ResilienceSettings.shape).map(([k, v]) => [k, v.unwrap().optional()]),
    ) as { [K in keyof typeof ResilienceSettings.shape]: z.ZodOptional<z.ZodNumber> },
  )
  .describe("overrides of the tenant's resilience settings for this provider");

const HeaderName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "an HTTP header name");
const SECRET_HEADERS = /^(authorization|x-api-key|api-key|cf-aig-authorization|cookie)$/i;
const ExtraHeaders = z
  .record(HeaderName, z.string().max(1024))
  .refine((h) => Object.keys(h).every((k) => !SECRET_HEADERS.test(k)), {
    message: "credentials go in `key`, not in headers",
  })
  .describe("extra, non-secret headers sent to the provider");

function providerSchemas<K extends z.ZodType>(key: K) {
  const common = {
    id: ProviderId,
    models: z.array(ModelName).min(1).max(256).describe("the models this provider serves"),
    headers: ExtraHeaders.optional(),
    resilience: ResilienceOverride.optional(),
  };
  return z.discriminatedUnion("kind", [
    z.strictObject({
      ...common,
      kind: z.literal("openai"),
      base_url: z.url().default("https://api.openai.com/v1"),
      key,
    }),
    z.strictObject({
      ...common,
      kind: z.literal("anthropic"),
      base_url: z.url().default("https://api.anthropic.com"),
      version: z.string().max(32).default("2023-06-01").describe("the anthropic-version header"),
      key,
    }),
    z.strictObject({
      ...common,
      kind: z.literal("openai-compatible"),
      base_url: z.url().describe("e.g. http://gpu-1.lab:8000/v1 (vLLM), http://127.0.0.1:11434/v1"),
      key: key.optional(),
      key_header: z
        .enum(["authorization", "api-key"])
        .default("authorization")
        .describe(
          "how the key is sent: `Authorization: Bearer <key>`, or `api-key: <key>` (Azure OpenAI, base_url https://<resource>.openai.azure.com/openai/v1)",
        ),
      usage_in_stream: z
        .boolean()
        .default(true)
        .describe(
          "ask for usage in streams (stream_options.include_usage); off for servers that refuse it",
        ),
    }),
    z.strictObject({
      ...common,
      kind: z.literal("workers-ai"),
    }),
    z
      .strictObject({
        ...common,
        kind: z.literal("scripted"),
        script: z
          .array(
            z.strictObject({
              when: z
                .string()
                .min(1)
                .max(1024)
                .optional()
                .describe(
                  "answer this way when the conversation's text contains this; absent: always",
                ),
              answer: z.string().max(65_536),
            }),
          )
          .min(1)
          .max(64)
          .describe("the first rule whose `when` matches answers (OpenAI dialect, no network)"),
      })
      .describe(
        "A scripted model, labelled as such: canned answers for offline use and tests (central's planner, a demo), never a real model",
      ),
    z.strictObject({
      ...common,
      kind: z.literal("ai-gateway"),
      account_id: z.string().regex(/^[A-Za-z0-9]{1,64}$/),
      gateway_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      upstream: z
        .enum(["openai", "anthropic", "workers-ai", "compat"])
        .describe("which provider endpoint of the AI Gateway to call"),
      base_url: z.url().default("https://gateway.ai.cloudflare.com/v1"),
      key,
      gateway_token: key.optional().describe("for an authenticated gateway (cf-aig-authorization)"),
    }),
  ]);
}

export const ProviderConfig = providerSchemas(ProviderKeyInput).meta({ id: "ProviderConfig" });
export type ProviderConfig = z.output<typeof ProviderConfig>;
export const ProviderView = providerSchemas(ProviderKeyView).meta({ id: "ProviderView" });
export type ProviderView = z.output<typeof ProviderView>;
export type ProviderKind = ProviderConfig["kind"];

export const RouteStrategy = z
  .enum(["ordered", "cost", "latency"])
  .describe(
    "ordered: as listed; cost: cheapest estimate first; latency: fastest observed first. Unhealthy providers go last either way.",
  );
export type RouteStrategy = z.infer<typeof RouteStrategy>;

export const AliasConfig = z
  .strictObject({
    candidates: z.array(Candidate).min(1).max(16),
    strategy: RouteStrategy.default("ordered"),
    description: z.string().max(300).optional(),
  })
  .meta({ id: "AliasConfig" });
export type AliasConfig = z.output<typeof AliasConfig>;

const TAG_TEXT = "[a-z0-9][a-z0-9._:-]{0,63}";
const Tag = z.string().regex(new RegExp(`^${TAG_TEXT}$`), "a lowercase tag");

export const RouteRule = z
  .strictObject({
    id: z.string().regex(slug, "lowercase letters, digits and '-'"),
    when: z
      .strictObject({
        model: z
          .array(z.string().min(1).max(200))
          .min(1)
          .max(64)
          .optional()
          .describe(
            "requested model names; absent: any alias (a concrete model is never rerouted unless named here)",
          ),
        app: z.array(AppName).min(1).max(64).optional(),
        intent_type: z.array(z.string().min(1).max(128)).min(1).max(64).optional(),
        tags_any: z.array(Tag).min(1).max(32).optional(),
        tags_all: z.array(Tag).min(1).max(32).optional(),
      })
      .prefault({}),
    use: z.union([
      z.strictObject({ alias: AliasName }),
      z.strictObject({
        candidates: z.array(Candidate).min(1).max(16),
        strategy: RouteStrategy.default("ordered"),
      }),
    ]),
  })
  .meta({ id: "RouteRule" });
export type RouteRule = z.output<typeof RouteRule>;

const PositiveInt = z.number().int().min(1);

const Rates = {
  input: NonNegNumber,
  output: NonNegNumber,
  cache_read: NonNegNumber.optional(),
  cache_write: NonNegNumber.optional().describe("five-minute cache writes"),
  cache_write_1h: NonNegNumber.optional().describe("one-hour cache writes; default cache_write"),
};

/**
 * USD per million tokens. Cache prices default to the input price (an upper bound). A tier
 * (long-context pricing) applies to every token of a call whose input is above its `above`.
 */
export const ModelPrice = z
  .strictObject({
    ...Rates,
    tiers: z
      .array(z.strictObject({ above: PositiveInt.describe("input tokens"), ...Rates }))
      .max(8)
      .optional()
      .describe("long-context prices: a call's input above `above` tokens is priced so, whole"),
    context_window: PositiveInt.optional().describe("input tokens the model takes at most"),
    max_output_tokens: PositiveInt.optional(),
  })
  .meta({ id: "ModelPrice" });
export type ModelPrice = z.infer<typeof ModelPrice>;

export const PriceTable = z
  .strictObject({
    version: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/)
      .describe("names this table; a version, once stored, cannot change its prices"),
    models: z
      .record(z.string().min(1).max(265), ModelPrice)
      .describe("by `provider/model`, or by bare model id for every provider serving it"),
  })
  .meta({ id: "PriceTable" });
export type PriceTable = z.infer<typeof PriceTable>;

export const RateLimit = z
  .strictObject({
    requests_per_minute: z.number().int().min(1).max(10_000_000).optional(),
    tokens_per_minute: z.number().int().min(1).max(10_000_000_000).optional(),
  })
  .meta({ id: "RateLimit" });
export type RateLimit = z.infer<typeof RateLimit>;

const KeyId = z.string().regex(/^key_[0-9a-f]{16}$/, "a key id, e.g. key_0123456789abcdef");

export const RateLimits = z
  .strictObject({
    tenant: RateLimit.optional(),
    per_app: RateLimit.optional().describe("for every app without its own entry"),
    apps: z.record(AppName, RateLimit).default({}),
    per_key: RateLimit.optional().describe("for every key without its own entry"),
    keys: z.record(KeyId, RateLimit).default({}),
  })
  .meta({ id: "RateLimits" });
export type RateLimits = z.output<typeof RateLimits>;

export const BudgetPeriod = z.enum(["day", "month", "total"]).describe("UTC day or month, or ever");
export type BudgetPeriod = z.infer<typeof BudgetPeriod>;

export const Budget = z
  .strictObject({
    tokens: z.number().int().min(0).optional(),
    usd: NonNegNumber.optional(),
    period: BudgetPeriod.default("month"),
  })
  .meta({ id: "Budget" });
export type Budget = z.output<typeof Budget>;

export const Budgets = z
  .strictObject({
    tenant: Budget.optional(),
    per_app: Budget.optional().describe("for every app without its own entry"),
    apps: z.record(AppName, Budget).default({}),
    run: z
      .strictObject({ tokens: z.number().int().min(0).optional(), usd: NonNegNumber.optional() })
      .optional()
      .describe("per edge run; an intent's own budget lowers it further"),
  })
  .meta({ id: "Budgets" });
export type Budgets = z.output<typeof Budgets>;

export const CacheSettings = z
  .strictObject({
    enabled: z.boolean().default(true),
    embeddings: z
      .boolean()
      .default(false)
      .describe(
        "cache embeddings too: each embeddings call then goes to the tenant object (no lease) and its vectors are kept",
      ),
    ttl_s: z.number().int().min(1).max(604_800).default(3_600),
    max_entry_bytes: z
      .number()
      .int()
      .min(1_024)
      .max(1_572_864)
      .default(524_288)
      .describe("larger responses are not cached"),
  })
  .meta({ id: "CacheSettings" });
export type CacheSettings = z.output<typeof CacheSettings>;

function configSchema<
  P extends z.ZodType<{ id: string; models: string[] }>,
  X extends z.ZodRawShape,
>(provider: P, extra: X) {
  return z
    .strictObject({
      ...extra,
      providers: z.array(provider).max(64).default([]),
      aliases: z.record(AliasName, AliasConfig).default({}),
      rules: z.array(RouteRule).max(256).default([]),
      prices: PriceTable.optional().describe("absent: every model is unpriced"),
      limits: RateLimits.prefault({}),
      budgets: Budgets.prefault({}),
      resilience: ResilienceSettings.prefault({}),
      cache: CacheSettings.prefault({}),
      max_output_tokens: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .default(4_096)
        .describe(
          "output cap when a request sets none and one is needed (Anthropic; a budget or a per-minute token limit)",
        ),
    })
    .superRefine((config, ctx) => crossCheck(config as unknown as CheckedConfig, ctx));
}

interface CheckedConfig {
  providers: { id: string; models: string[] }[];
  aliases: Record<string, { candidates: string[] }>;
  rules: { id: string; use: { alias: string } | { candidates: string[] } }[];
}

/** References between sections must resolve: candidates to declared models, rules to aliases. */
function crossCheck(config: CheckedConfig, ctx: z.RefinementCtx): void {
  const models = new Map<string, Set<string>>();
  config.providers.forEach((p, i) => {
    if (models.has(p.id))
      ctx.addIssue({
        code: "custom",
        path: ["providers", i, "id"],
        message: `duplicate provider id ${p.id}`,
      });
    models.set(p.id, new Set(p.models));
  });
  const candidate = (c: string, path: (string | number)[]) => {
    const slash = c.indexOf("/");
    const provider = c.slice(0, slash);
    const model = c.slice(slash + 1);
    const declared = models.get(provider);
    if (!declared)
      ctx.addIssue({ code: "custom", path, message: `no provider ${provider} is configured` });
    else if (!declared.has(model))
      ctx.addIssue({
        code: "custom",
        path,
        message: `provider ${provider} does not list model ${model}`,
      });
  };
  for (const [name, alias] of Object.entries(config.aliases))
    alias.candidates.forEach((c, i) => {
      candidate(c, ["aliases", name, "candidates", i]);
    });
  const ruleIds = new Set<string>();
  config.rules.forEach((rule, i) => {
    if (ruleIds.has(rule.id))
      ctx.addIssue({
        code: "custom",
        path: ["rules", i, "id"],
        message: `duplicate rule id ${rule.id}`,
      });
    ruleIds.add(rule.id);
    if ("alias" in rule.use) {
      if (!own(config.aliases, rule.use.alias))
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "use", "alias"],
          message: `no alias ${rule.use.alias} is defined`,
        });
    } else
      rule.use.candidates.forEach((c, j) => {
        candidate(c, ["rules", i, "use", "candidates", j]);
      });
  });
}

export const GatewayConfig = configSchema(ProviderConfig, {}).meta({ id: "GatewayConfig" });
export type GatewayConfig = z.output<typeof GatewayConfig>;
export type GatewayConfigInput = z.input<typeof GatewayConfig>;

/** What `GET /v1/gateway/config` answers: the configuration with keys shown only by reference. */
export const GatewayConfigView = configSchema(ProviderView, {
  version: NonNegInt.describe("increments with every PUT"),
  updated_at: Timestamp.nullable(),
}).meta({ id: "GatewayConfigView" });
export type GatewayConfigView = z.output<typeof GatewayConfigView>;

export const ProviderHealth = z
  .object({
    id: ProviderId,
    kind: z.string(),
    circuit: BreakerState,
    circuit_since: Timestamp.nullable(),
    next_probe_at: Timestamp.nullable().describe("when an open circuit lets a probe through"),
    consecutive_failures: NonNegInt,
    latency_ms: NonNegNumber.nullable().describe("moving average of successful attempts"),
    ttft_ms: NonNegNumber.nullable(),
    error_rate: z.number().min(0).max(1).nullable().describe("moving average of failures"),
    calls: NonNegInt,
    failures: NonNegInt,
    last_error: z.string().nullable(),
    last_error_at: Timestamp.nullable(),
  })
  .meta({ id: "ProviderHealth" });
export type ProviderHealth = z.infer<typeof ProviderHealth>;

export const BudgetUsage = z
  .object({
    scope: z.enum(["tenant", "app", "run"]),
    subject: z.string(),
    period: BudgetPeriod,
    period_start: Timestamp.nullable(),
    tokens_used: NonNegInt,
    tokens_reserved: NonNegInt,
    tokens_limit: NonNegInt.nullable(),
    usd_used: NonNegNumber,
    usd_reserved: NonNegNumber,
    usd_limit: NonNegNumber.nullable(),
    unpriced_calls: NonNegInt.describe("calls whose cost is unknown, so not in usd_used"),
  })
  .meta({ id: "BudgetUsage" });
export type BudgetUsage = z.infer<typeof BudgetUsage>;

export const RateUsage = z
  .object({
    scope: z.enum(["tenant", "app", "key"]),
    subject: z.string(),
    requests_last_minute: NonNegNumber,
    requests_per_minute: NonNegInt.nullable(),
    tokens_last_minute: NonNegNumber,
    tokens_per_minute: NonNegInt.nullable(),
  })
  .meta({ id: "RateUsage" });
export type RateUsage = z.infer<typeof RateUsage>;

/** `GET /v1/gateway/status`: provider health, budgets, rate windows, the cache and the prices. */
export const GatewayStatus = z
  .object({
    config_version: NonNegInt,
    providers: z.array(ProviderHealth),
    budgets: z.array(BudgetUsage),
    rates: z.array(RateUsage),
    cache: z.object({ entries: NonNegInt, bytes: NonNegInt, hits: NonNegInt }),
    prices: z.object({
      version: z.string().nullable(),
      versions: z.array(z.object({ version: z.string(), created_at: Timestamp })),
    }),
  })
  .meta({ id: "GatewayStatus" });
export type GatewayStatus = z.infer<typeof GatewayStatus>;

/** Which limit refused a call (in the 429 body, beside the provider-format error). */
/**
 * `GET /v1/models` in OpenAI's list format, with each model's limits from the tenant's price
 * table (edge agents size their context by it).
 */
export const GatewayModelList = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        id: z.string(),
        object: z.literal("model"),
        created: z.number(),
        owned_by: z.string(),
        scripted: z
          .boolean()
          .default(false)
          .describe(
            "answered from a script, not a model (the labelled `scripted` provider kind, for offline use and tests; an alias: every candidate is); absent from centrals before it",
          ),
        context_window: PositiveInt.nullable().describe(
          "input tokens the model takes (an alias: the least of its candidates'); null: not in the price table",
        ),
        max_output_tokens: PositiveInt.nullable(),
      }),
    ),
  })
  .meta({ id: "GatewayModelList" });
export type GatewayModelList = z.infer<typeof GatewayModelList>;

export const LimitRefusal = z
  .object({
    kind: z.enum(["rate", "budget"]),
    scope: z.enum(["tenant", "app", "key", "run"]),
    subject: z.string(),
    dimension: z.enum(["requests_per_minute", "tokens_per_minute", "tokens", "usd"]),
    limit: NonNegNumber,
    used: NonNegNumber,
    requested: NonNegNumber.describe("what this call needed (an upper bound for budgets)"),
    period: BudgetPeriod.nullable(),
    retry_after_ms: NonNegInt.nullable(),
  })
  .meta({ id: "LimitRefusal" });
export type LimitRefusal = z.infer<typeof LimitRefusal>;

/**
 * The headers a model call may carry to attribute and route it (the edge sends them on every
 * run's calls). What central accepts is exactly what is published: a malformed header is a 400.
 */
export const AttributionHeaders = z.object({
  // Agent keys: the edge run this call belongs to, and the agent making it. (Left undescribed,
  // so the document refers to the named schemas with their exact patterns.)
  "x-auraison-run": RunId.optional(),
  "x-auraison-agent": AgentId.optional(),
  /** The app, for routing rules, limits and budgets. */
  "x-auraison-app": AppName.optional(),
  "x-auraison-intent-type": z.string().min(1).max(128).optional(),
  "x-auraison-tags": z
    .string()
    .regex(
      new RegExp(`^${TAG_TEXT}(?:,${TAG_TEXT}){0,31}$`),
      "up to 32 comma-separated lowercase tags",
    )
    .optional()
    .describe("comma-separated routing tags"),
  "x-auraison-cache": z
    .enum(["no-cache", "no-store"])
    .optional()
    .describe(
      "no-cache: do not answer from the cache (the fresh answer is stored); no-store: neither",
    ),
});
