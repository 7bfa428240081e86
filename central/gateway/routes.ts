import type { ModelInfo } from "@anthropic-ai/sdk/resources/models";
import { z } from "zod";
import {
  AttributionHeaders,
  Failure,
  GatewayModelList,
  HEADERS,
  LimitRefusal,
  PATHS,
  type Role,
} from "../../contract";
import { createLogger } from "../log";
import { type WorkerContext, type WorkerRoute, workerRoute } from "../worker/route";
import { ENDPOINTS, type Endpoint } from "./call/endpoints";
import { handleCall } from "./call/handle-call";
import { callerKey } from "./call/inbound";
import { type Dialect, errorResponse } from "./dialects/errors";

/**
 * The model gateway's API, served by the Worker itself: OpenAI's chat completions, Anthropic's
 * messages and the model list. The calls and their streams run here, not in the tenant object,
 * which only admits and settles them; errors come in the caller's own dialect, not ApiError.
 */

const CALLERS = ["admin", "operator", "agent"] as const satisfies readonly Role[];
const READERS = ["admin", "operator", "viewer", "agent"] as const satisfies readonly Role[];

const OpenAiError = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
      limit: LimitRefusal.optional().describe("which rate limit or budget refused the call"),
    }),
  })
  .meta({ id: "OpenAiError" });

const AnthropicError = z
  .object({
    type: z.literal("error"),
    error: z.object({
      type: z.string(),
      message: z.string(),
      code: z.string().optional(),
      limit: LimitRefusal.optional(),
    }),
  })
  .meta({ id: "AnthropicError" });

const ERRORS: Record<number, string> = {
  400: "Invalid request (the message names the field), or one no candidate provider can express",
  401: "Missing, unknown or revoked API key",
  403: "The key may not call models, or may not attribute the call to that agent or run",
  404: "No alias or model of that name in this tenant",
  413: "Request body over the size limit",
  415: "Request body is not JSON",
  422: "Valid headers and body that break a rule together (x-auraison-run without x-auraison-agent)",
  429: "A rate limit or budget refused the call (see `limit`), or every provider rate-limited it",
  502: "Every candidate provider failed (the message lists each attempt)",
  503: "No provider can take the call now (circuits open)",
  504: "Every candidate provider timed out",
};

function errors(schema: z.ZodType, ...codes: number[]) {
  return Object.fromEntries(
    codes.map((code) => [
      code,
      { description: ERRORS[code]!, content: { "application/json": { schema } } },
    ]),
  );
}

const CALL_CODES = [400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504];

/** A model call's route: its endpoint's schema, answered by `handleCall`, errors in its dialect. */
function callRoute(
  endpoint: Endpoint,
  config: {
    operationId: string;
    path: string;
    summary: string;
    description: string;
    ok: { description: string; schema: z.ZodType; streams: boolean };
  },
): WorkerRoute {
  const { dialect, schema } = ENDPOINTS[endpoint];
  const ok = config.ok;
  return workerRoute(
    CALLERS,
    {
      operationId: config.operationId,
      method: "post",
      path: config.path,
      tags: ["models"],
      summary: config.summary,
      description: config.description,
      request: {
        headers: AttributionHeaders,
        body: { required: true, content: { "application/json": { schema } } },
      },
      responses: {
        200: {
          description: ok.description,
          headers: responseHeaders,
          content: {
            "application/json": { schema: ok.schema },
            ...(ok.streams ? { "text/event-stream": { schema: z.string() } } : {}),
          },
        },
        ...errors(dialect === "openai" ? OpenAiError : AnthropicError, ...CALL_CODES),
      },
    },
    (c) => {
      // Workers cancels what a request awaits once its client disconnects, but not what it
      // passed to waitUntil: a call whose caller hangs up while the provider answers (and
      // bills) still gets its answer and settles, so hanging up is no way around a budget.
      // Test: test/central/gateway/call/caller-gone.test.ts.
      const answering = guarded(dialect, () => handleCall(c, endpoint, log), c);
      c.executionCtx.waitUntil(answering);
      return answering;
    },
    { refuse: refuseIn(dialect) },
  );
}

/**
 * The providers' own API namespaces: a path under one that the gateway does not serve is
 * answered 404 in the caller's dialect (an SDK then reports it as NotFoundError), not by the
 * platform's API.
 */
const MODEL_NAMESPACES = [
  "/v1/chat/*",
  "/v1/completions",
  "/v1/complete",
  "/v1/messages/*",
  "/v1/responses/*",
  "/v1/embeddings/*",
  "/v1/models/*",
  "/v1/audio/*",
  "/v1/images/*",
  "/v1/moderations",
  "/v1/files",
  "/v1/files/*",
  "/v1/uploads/*",
  "/v1/batches",
  "/v1/batches/*",
  "/v1/fine_tuning/*",
  "/v1/assistants",
  "/v1/assistants/*",
  "/v1/threads",
  "/v1/threads/*",
  "/v1/vector_stores",
  "/v1/vector_stores/*",
  "/v1/conversations",
  "/v1/conversations/*",
  "/v1/realtime/*",
];

/** Anthropic's paths, or a caller that says it speaks Anthropic's API, get Anthropic's error. */
function callerDialect(c: WorkerContext): Dialect {
  const path = new URL(c.req.url).pathname;
  return c.req.header("anthropic-version") !== undefined ||
    path.startsWith("/v1/messages") ||
    path === "/v1/complete"
    ? "anthropic"
    : "openai";
}

export const unknownModelPath = {
  patterns: MODEL_NAMESPACES,
  handle: (c: WorkerContext) =>
    errorResponse(
      callerDialect(c),
      new Failure(
        404,
        "unknown_url",
        `the gateway serves no ${c.req.method} ${new URL(c.req.url).pathname}`,
      ),
    ),
};

const log = createLogger({ component: "gateway" });

/** Any failure inside a call is still answered in the caller's dialect. */
async function guarded(
  dialect: Dialect,
  run: () => Promise<Response>,
  c: WorkerContext,
): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Failure) return errorResponse(dialect, error);
    log.error("model call failed", { error, path: new URL(c.req.url).pathname });
    return errorResponse(dialect, new Failure(500, "internal", "internal error in the gateway"));
  }
}

/** A method the path does not take, refused in the caller's dialect. */
const refuseIn = (dialect: Dialect) => (c: WorkerContext, allow: string) =>
  errorResponse(
    dialect,
    new Failure(405, "method_not_allowed", `${c.req.method} is not allowed here; use ${allow}`),
    { allow },
  );

/** `GET /v1/models`: OpenAI's list format, or Anthropic's when the caller sends anthropic-version. */
async function listModels(c: WorkerContext): Promise<Response> {
  const anthropic = c.req.header("anthropic-version") !== undefined;
  const dialect: Dialect = anthropic ? "anthropic" : "openai";
  return guarded(
    dialect,
    async () => {
      const { secret, tenant } = await callerKey(c.req.raw.headers, c.env);
      const models = await c.env.TENANT.getByName(tenant).gatewayModels(secret);
      if (!models) throw new Failure(401, "invalid_api_key", "unknown or revoked API key");
      const ids = [
        ...models.aliases.map((a) => ({ ...a, id: a.name, owner: "auraison" })),
        ...models.models.map((m) => ({ ...m, id: `${m.provider}/${m.model}`, owner: m.provider })),
      ];
      if (anthropic)
        return c.json({
          data: ids.map(
            (m): ModelInfo => ({
              type: "model",
              id: m.id,
              display_name: m.id,
              created_at: "1970-01-01T00:00:00Z",
              max_input_tokens: m.contextWindow,
              max_tokens: m.maxOutputTokens,
              capabilities: null,
              deprecated_at: null,
              lifecycle: "active",
              line: null,
              retires_at: null,
            }),
          ),
          has_more: false,
          first_id: ids[0]?.id ?? null,
          last_id: ids.at(-1)?.id ?? null,
        });
      return c.json({
        object: "list",
        data: ids.map((m): GatewayModelList["data"][number] => ({
          id: m.id,
          object: "model",
          created: 0,
          owned_by: m.owner,
          scripted: m.scripted,
          context_window: m.contextWindow,
          max_output_tokens: m.maxOutputTokens,
        })),
      });
    },
    c,
  );
}

const responseHeaders = {
  [HEADERS.gatewayTime]: {
    schema: { type: "string" as const },
    description: "ms the gateway itself added",
  },
  [HEADERS.callId]: {
    schema: { type: "string" as const },
    description: "the call's id in its model_call event",
  },
  [HEADERS.provider]: {
    schema: { type: "string" as const },
    description: "the provider that answered",
  },
  [HEADERS.model]: { schema: { type: "string" as const }, description: "the model that answered" },
  [HEADERS.cache]: {
    schema: { type: "string" as const },
    description:
      "hit; miss (not found, stored if it may be); skip (not a request the cache answers); bypass (the caller said no-cache or no-store)",
  },
};

export const GATEWAY_ROUTES: readonly WorkerRoute[] = [
  callRoute("chat", {
    operationId: "chatCompletions",
    path: PATHS.chatCompletions,
    summary:
      "OpenAI-compatible chat completions through the model gateway (streaming with `stream: true`)",
    description:
      "`model` is an alias (routed by the tenant's rules) or a provider's model. Any provider can answer: Anthropic ones are translated both ways, tool calls, streams, `cache_control` breakpoints, `reasoning_effort` (as a thinking budget) and `json_schema` response formats (as structured output) included; custom tools and `allowed_tools` go to OpenAI providers unchanged. The key may also come as `x-api-key`.",
    ok: {
      description: "A chat.completion, or a text/event-stream of chat.completion.chunk events",
      schema: z.looseObject({ id: z.string(), object: z.string(), choices: z.array(z.unknown()) }),
      streams: true,
    },
  }),
  callRoute("messages", {
    operationId: "messages",
    path: PATHS.messages,
    summary:
      "Anthropic-compatible Messages through the model gateway (streaming with `stream: true`)",
    description:
      "Any provider can answer: OpenAI-style ones are translated both ways (thinking budgets and `output_config` effort as `reasoning_effort`, its format as `response_format`). The key may come as `x-api-key` (what Anthropic clients send) or as a bearer token.",
    ok: {
      description: "A message, or a text/event-stream of Messages stream events",
      schema: z.looseObject({ id: z.string(), type: z.string(), content: z.array(z.unknown()) }),
      streams: true,
    },
  }),
  callRoute("count_tokens", {
    operationId: "countTokens",
    path: PATHS.countTokens,
    summary: "Anthropic's token count for a Messages request (what Claude Code calls)",
    description:
      "Routed like a message to the same model; only Anthropic providers answer (others in the chain are skipped). Admitted, rate-limited and logged like any call (operation `count_tokens`), and costs nothing.",
    ok: {
      description: "The request's input tokens",
      schema: z.looseObject({ input_tokens: z.number().int() }),
      streams: false,
    },
  }),
  callRoute("responses", {
    operationId: "responses",
    path: PATHS.responses,
    summary: "OpenAI's Responses API through the model gateway (streaming with `stream: true`)",
    description:
      "For clients that speak only Responses (Codex). OpenAI-style providers get the request unchanged; Anthropic ones get a stateless request translated to Messages, and answer as Responses objects or events. What only OpenAI keeps or runs (`previous_response_id`, `store: true`, its built-in tools) skips Anthropic candidates, and is a 400 naming the field when none other is left. `background: true` is a 400 naming `background` for every provider: OpenAI would generate the response after the gateway answered, where it could be neither relayed nor billed. A deterministic request of which nothing lives at OpenAI (`temperature: 0`, `store: false`; no `previous_response_id`, `conversation`, `prompt`, `item_reference` items or tools OpenAI runs itself) is answered from the response cache when it can be.",
    ok: {
      description: "A response object, or a text/event-stream of Responses events",
      schema: z.looseObject({ id: z.string(), object: z.string(), output: z.array(z.unknown()) }),
      streams: true,
    },
  }),
  callRoute("embeddings", {
    operationId: "embeddings",
    path: PATHS.embeddings,
    summary: "OpenAI-compatible embeddings through the model gateway",
    description:
      "Only OpenAI-style providers answer (others in the chain are skipped); input tokens are priced at the model's input price and counted against budgets like any call (operation `embeddings`). The same input's vectors are answered from the response cache when the tenant caches embeddings (`cache.embeddings`).",
    ok: {
      description: "A list of embeddings",
      schema: z.looseObject({ object: z.literal("list"), data: z.array(z.unknown()) }),
      streams: false,
    },
  }),
  workerRoute(
    READERS,
    {
      operationId: "listModels",
      method: "get",
      path: PATHS.models,
      tags: ["models"],
      summary:
        "The aliases and models this tenant may ask for, with their context windows and output limits (OpenAI's list format; Anthropic's, with `max_input_tokens` and `max_tokens`, with `anthropic-version`)",
      responses: {
        200: {
          description: "Models",
          content: {
            "application/json": {
              schema: GatewayModelList,
            },
          },
        },
        ...errors(OpenAiError, 401, 403),
      },
    },
    listModels,
    { refuse: refuseIn("openai") },
  ),
];
