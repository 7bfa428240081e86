import { z } from "zod";
import {
  AttributionHeaders,
  Failure,
  HEADERS,
  LimitRefusal,
  PATHS,
  type Role,
} from "../../contract";
import { createLogger } from "../log";
import { type WorkerContext, type WorkerRoute, workerRoute } from "../worker/route";
import { handleCall } from "./call/handle-call";
import { callerKey } from "./call/inbound";
import { AnthropicMessagesRequest } from "./dialects/anthropic";
import { type Dialect, errorResponse } from "./dialects/errors";
import { OpenAiChatRequest } from "./dialects/openai";

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
        ...models.aliases.map((a) => ({ id: a.name, owner: "auraison" })),
        ...models.models.map((m) => ({ id: `${m.provider}/${m.model}`, owner: m.provider })),
      ];
      if (anthropic)
        return c.json({
          data: ids.map((m) => ({
            type: "model",
            id: m.id,
            display_name: m.id,
            created_at: "1970-01-01T00:00:00Z",
          })),
          has_more: false,
          first_id: ids[0]?.id ?? null,
          last_id: ids.at(-1)?.id ?? null,
        });
      return c.json({
        object: "list",
        data: ids.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.owner })),
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
  [HEADERS.cache]: { schema: { type: "string" as const }, description: "hit, miss or bypass" },
};

export const GATEWAY_ROUTES: readonly WorkerRoute[] = [
  workerRoute(
    CALLERS,
    {
      operationId: "chatCompletions",
      method: "post",
      path: PATHS.chatCompletions,
      tags: ["models"],
      summary:
        "OpenAI-compatible chat completions through the model gateway (streaming with `stream: true`)",
      description:
        "`model` is an alias (routed by the tenant's rules) or a provider's model. Any provider can answer: Anthropic ones are translated both ways, tool calls and streams included. The key may also come as `x-api-key`.",
      request: {
        headers: AttributionHeaders,
        body: { required: true, content: { "application/json": { schema: OpenAiChatRequest } } },
      },
      responses: {
        200: {
          description: "A chat.completion, or a text/event-stream of chat.completion.chunk events",
          headers: responseHeaders,
          content: {
            "application/json": {
              schema: z.looseObject({
                id: z.string(),
                object: z.string(),
                choices: z.array(z.unknown()),
              }),
            },
            "text/event-stream": { schema: z.string() },
          },
        },
        ...errors(OpenAiError, ...CALL_CODES),
      },
    },
    (c) => guarded("openai", () => handleCall(c, "openai", log), c),
    { refuse: refuseIn("openai") },
  ),
  workerRoute(
    CALLERS,
    {
      operationId: "messages",
      method: "post",
      path: PATHS.messages,
      tags: ["models"],
      summary:
        "Anthropic-compatible Messages through the model gateway (streaming with `stream: true`)",
      description:
        "Any provider can answer: OpenAI-style ones are translated both ways. The key may come as `x-api-key` (what Anthropic clients send) or as a bearer token.",
      request: {
        headers: AttributionHeaders,
        body: {
          required: true,
          content: { "application/json": { schema: AnthropicMessagesRequest } },
        },
      },
      responses: {
        200: {
          description: "A message, or a text/event-stream of Messages stream events",
          headers: responseHeaders,
          content: {
            "application/json": {
              schema: z.looseObject({
                id: z.string(),
                type: z.string(),
                content: z.array(z.unknown()),
              }),
            },
            "text/event-stream": { schema: z.string() },
          },
        },
        ...errors(AnthropicError, ...CALL_CODES),
      },
    },
    (c) => guarded("anthropic", () => handleCall(c, "anthropic", log), c),
    { refuse: refuseIn("anthropic") },
  ),
  workerRoute(
    READERS,
    {
      operationId: "listModels",
      method: "get",
      path: PATHS.models,
      tags: ["models"],
      summary:
        "The aliases and models this tenant may ask for (OpenAI's list format; Anthropic's with `anthropic-version`)",
      responses: {
        200: {
          description: "Models",
          content: {
            "application/json": {
              schema: z.object({
                object: z.literal("list"),
                data: z.array(
                  z.object({
                    id: z.string(),
                    object: z.literal("model"),
                    created: z.number(),
                    owned_by: z.string(),
                  }),
                ),
              }),
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
