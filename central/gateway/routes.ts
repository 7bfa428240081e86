import { z } from "zod";
import { AttributionHeaders, HEADERS, LimitRefusal, PATHS, type Role } from "../../contract";
import type { RouteSpec } from "../api/spec";
import { AnthropicMessagesRequest } from "./dialects/anthropic";
import { OpenAiChatRequest } from "./dialects/openai";

/**
 * The model API's routes, for central's route table and /openapi.json. They are served by the
 * Worker (central/gateway/app.ts); errors come in the provider's own format, not ApiError.
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

export const GATEWAY_ROUTES: Pick<RouteSpec, "route" | "access" | "served">[] = [
  {
    served: "worker",
    access: CALLERS,
    route: {
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
  },
  {
    served: "worker",
    access: CALLERS,
    route: {
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
  },
  {
    served: "worker",
    access: READERS,
    route: {
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
  },
];
