import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

/**
 * Local stand-ins for model providers (none is reachable from here): real HTTP servers that
 * speak OpenAI's Chat Completions or Anthropic's Messages, streaming or not, with tool calls,
 * and misbehave on cue: 429 with Retry-After, 500, a slow first byte, a stream that drops
 * mid-answer, an error event. Each request takes the next scripted behaviour (then the
 * default) and is recorded with everything it carried, and every SSE event sent is kept, so a
 * test can compare what its client got with what the provider sent.
 */

export interface ToolCallScript {
  id: string;
  name: string;
  /** Arguments JSON, sent in pieces of this many characters. */
  arguments: string;
}

export type Behaviour =
  | {
      kind: "answer";
      text?: string;
      toolCalls?: ToolCallScript[];
      /** Input counts cached reads and (Anthropic) cache writes. */
      usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number };
      /** Anthropic: the stop reason (default: tool_use with tool calls, else end_turn). */
      stopReason?: string;
      /** Wait before anything is sent (headers included). */
      delayMs?: number;
      /** Streams: wait after the headers before the first event. */
      firstByteDelayMs?: number;
      /** Streams: wait between events. */
      eventDelayMs?: number;
      /** Streams: drop the connection after this many events. */
      dropAfterEvents?: number;
      /** Streams: send an error event after this many events. */
      errorAfterEvents?: number;
      /** Streams: stop (cleanly closing the socket) after this many events, without a terminator. */
      truncateAfterEvents?: number;
      /** Streams: go silent after this many events, keeping the connection open. */
      stallAfterEvents?: number;
      /** Omit usage entirely (a server that reports none). */
      noUsage?: boolean;
    }
  | { kind: "status"; status: number; retryAfter?: string; message?: string; delayMs?: number }
  /** Accept the connection and never answer. */
  | { kind: "hang" };

export interface RecordedCall {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  at: number;
}

export interface FakeUpstream {
  url: string;
  calls: RecordedCall[];
  /** SSE events sent on each streamed answer, in order, exactly as written. */
  sent: string[][];
  script(...behaviours: Behaviour[]): void;
  setDefault(behaviour: Behaviour): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Splits text into pieces of at most `size` characters. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function openAiEvents(
  body: Record<string, unknown>,
  b: Extract<Behaviour, { kind: "answer" }>,
): string[] {
  const model = String(body.model);
  const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
    `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1700000000, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  const events = [chunk({ role: "assistant", content: "" })];
  for (const part of pieces(b.text ?? "", 4)) events.push(chunk({ content: part }));
  (b.toolCalls ?? []).forEach((call, index) => {
    events.push(
      chunk({
        tool_calls: [
          { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
        ],
      }),
    );
    for (const part of pieces(call.arguments, 7))
      events.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
  });
  events.push(chunk({}, b.toolCalls?.length ? "tool_calls" : "stop"));
  const usage = b.usage ?? { input: 12, output: 5 };
  if (!b.noUsage && (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage)
    events.push(
      `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1700000000, model, choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output, ...(usage.cacheRead ? { prompt_tokens_details: { cached_tokens: usage.cacheRead } } : {}) } })}\n\n`,
    );
  events.push("data: [DONE]\n\n");
  return events;
}

function openAiCompletion(
  body: Record<string, unknown>,
  b: Extract<Behaviour, { kind: "answer" }>,
) {
  const usage = b.usage ?? { input: 12, output: 5 };
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1700000000,
    model: String(body.model),
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: b.text ?? null,
          ...(b.toolCalls?.length
            ? {
                tool_calls: b.toolCalls.map((c) => ({
                  id: c.id,
                  type: "function",
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
        finish_reason: b.toolCalls?.length ? "tool_calls" : "stop",
      },
    ],
    ...(b.noUsage
      ? {}
      : {
          usage: {
            prompt_tokens: usage.input,
            completion_tokens: usage.output,
            total_tokens: usage.input + usage.output,
            ...(usage.cacheRead
              ? { prompt_tokens_details: { cached_tokens: usage.cacheRead } }
              : {}),
          },
        }),
  };
}

function anthropicUsage(usage: {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}) {
  return {
    input_tokens: usage.input - (usage.cacheRead ?? 0) - (usage.cacheWrite ?? 0),
    output_tokens: usage.output,
    ...(usage.cacheRead ? { cache_read_input_tokens: usage.cacheRead } : {}),
    ...(usage.cacheWrite ? { cache_creation_input_tokens: usage.cacheWrite } : {}),
  };
}

const anthropicStop = (b: Extract<Behaviour, { kind: "answer" }>) =>
  b.stopReason ?? (b.toolCalls?.length ? "tool_use" : "end_turn");

function anthropicEvents(
  body: Record<string, unknown>,
  b: Extract<Behaviour, { kind: "answer" }>,
): string[] {
  const usage = b.usage ?? { input: 12, output: 5 };
  const ev = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const events = [
    ev("message_start", {
      message: {
        id: "msg_fake",
        type: "message",
        role: "assistant",
        model: String(body.model),
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...anthropicUsage(usage), output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (b.text) {
    events.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
    events.push(ev("ping", {}));
    for (const part of pieces(b.text, 4))
      events.push(ev("content_block_delta", { index, delta: { type: "text_delta", text: part } }));
    events.push(ev("content_block_stop", { index }));
    index += 1;
  }
  for (const call of b.toolCalls ?? []) {
    events.push(
      ev("content_block_start", {
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      }),
    );
    for (const part of pieces(call.arguments, 7))
      events.push(
        ev("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: part },
        }),
      );
    events.push(ev("content_block_stop", { index }));
    index += 1;
  }
  events.push(
    ev("message_delta", {
      delta: { stop_reason: anthropicStop(b), stop_sequence: null },
      usage: { output_tokens: usage.output },
    }),
  );
  events.push(ev("message_stop", {}));
  return events;
}

function anthropicMessage(
  body: Record<string, unknown>,
  b: Extract<Behaviour, { kind: "answer" }>,
) {
  const usage = b.usage ?? { input: 12, output: 5 };
  return {
    id: "msg_fake",
    type: "message",
    role: "assistant",
    model: String(body.model),
    content: [
      ...(b.text ? [{ type: "text", text: b.text }] : []),
      ...(b.toolCalls ?? []).map((c) => ({
        type: "tool_use",
        id: c.id,
        name: c.name,
        input: JSON.parse(c.arguments),
      })),
    ],
    stop_reason: anthropicStop(b),
    stop_sequence: null,
    usage: anthropicUsage(usage),
  };
}

/** OpenAI Responses events: text deltas, function calls with argument deltas, then the response. */
function responsesEvents(
  body: Record<string, unknown>,
  b: Extract<Behaviour, { kind: "answer" }>,
): string[] {
  const response = responsesObject(body, b);
  let seq = 0;
  const ev = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const events = [
    ev("response.created", { response: { ...response, status: "in_progress", output: [] } }),
  ];
  if (b.text) {
    events.push(
      ev("response.output_item.added", {
        output_index: 0,
        item: { type: "message", id: "msg_fake", role: "assistant", content: [] },
      }),
      ev("response.content_part.added", {
        item_id: "msg_fake",
        output_index: 0,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      }),
    );
    for (const part of pieces(b.text, 4))
      events.push(
        ev("response.output_text.delta", {
          item_id: "msg_fake",
          output_index: 0,
          content_index: 0,
          delta: part,
        }),
      );
  }
  for (const [i, call] of (b.toolCalls ?? []).entries()) {
    const index = (b.text ? 1 : 0) + i;
    events.push(
      ev("response.output_item.added", {
        output_index: index,
        item: {
          type: "function_call",
          id: `fc_${call.id}`,
          call_id: call.id,
          name: call.name,
          arguments: "",
        },
      }),
    );
    for (const part of pieces(call.arguments, 7))
      events.push(
        ev("response.function_call_arguments.delta", {
          item_id: `fc_${call.id}`,
          output_index: index,
          delta: part,
        }),
      );
  }
  events.push(ev("response.completed", { response }));
  return events;
}

function responsesObject(body: Record<string, unknown>, b: Extract<Behaviour, { kind: "answer" }>) {
  const usage = b.usage ?? { input: 12, output: 5 };
  return {
    id: "resp_fake",
    object: "response",
    created_at: 1700000000,
    status: "completed",
    model: String(body.model),
    output: [
      ...(b.text
        ? [
            {
              type: "message",
              id: "msg_fake",
              status: "completed",
              role: "assistant",
              content: [{ type: "output_text", text: b.text, annotations: [] }],
            },
          ]
        : []),
      ...(b.toolCalls ?? []).map((c) => ({
        type: "function_call",
        id: `fc_${c.id}`,
        call_id: c.id,
        name: c.name,
        arguments: c.arguments,
        status: "completed",
      })),
    ],
    usage: {
      input_tokens: usage.input,
      input_tokens_details: { cached_tokens: usage.cacheRead ?? 0 },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.input + usage.output,
    },
  };
}

/** The paths each fake serves: generation, and the endpoints only its own dialect has. */
const PATHS = {
  openai: ["/chat/completions", "/responses", "/embeddings"],
  anthropic: ["/v1/messages", "/v1/messages/count_tokens"],
};

export async function startFakeUpstream(style: "openai" | "anthropic"): Promise<FakeUpstream> {
  const calls: RecordedCall[] = [];
  const sent: string[][] = [];
  const queue: Behaviour[] = [];
  let fallback: Behaviour = { kind: "answer", text: "Hello from the fake provider." };
  const hung: (() => void)[] = [];
  const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
  app.post("*", async (c) => {
    const served = PATHS[style].find((p) => c.req.path.endsWith(p));
    if (!served) return c.json({ error: { message: `no route ${c.req.path}` } }, 404);
    const body = (await c.req.json()) as Record<string, unknown>;
    calls.push({
      path: c.req.path,
      headers: Object.fromEntries(c.req.raw.headers),
      body,
      at: Date.now(),
    });
    const b = queue.shift() ?? fallback;
    if (b.kind === "hang")
      return new Promise<Response>((resolve) =>
        hung.push(() => resolve(new Response(null, { status: 504 }))),
      );
    if (b.delayMs) await sleep(b.delayMs);
    if (b.kind === "status") {
      const message = b.message ?? `scripted ${b.status}`;
      const error =
        style === "openai"
          ? {
              error: {
                message,
                type: b.status === 429 ? "rate_limit_error" : "server_error",
                param: null,
                code: null,
              },
            }
          : {
              type: "error",
              error: { type: b.status === 429 ? "rate_limit_error" : "api_error", message },
            };
      return c.json(error, b.status as 400, b.retryAfter ? { "retry-after": b.retryAfter } : {});
    }
    const usage = b.usage ?? { input: 12, output: 5 };
    if (served === "/embeddings")
      return c.json({
        object: "list",
        model: String(body.model),
        data: [{ object: "embedding", index: 0, embedding: [0.25, -0.5, 0.125] }],
        usage: { prompt_tokens: usage.input, total_tokens: usage.input },
      });
    if (served === "/v1/messages/count_tokens") return c.json({ input_tokens: usage.input });
    if (body.stream !== true)
      return c.json(
        served === "/responses"
          ? responsesObject(body, b)
          : style === "openai"
            ? openAiCompletion(body, b)
            : anthropicMessage(body, b),
      );
    const events =
      served === "/responses"
        ? responsesEvents(body, b)
        : style === "openai"
          ? openAiEvents(body, b)
          : anthropicEvents(body, b);
    const record: string[] = [];
    sent.push(record);
    const socket = c.env.incoming.socket;
    const encoder = new TextEncoder();
    return new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          if (b.firstByteDelayMs) await sleep(b.firstByteDelayMs);
          for (const [i, event] of events.entries()) {
            if (b.dropAfterEvents !== undefined && i === b.dropAfterEvents) {
              // Let what was sent reach the wire, then cut the connection.
              await sleep(100);
              socket.destroy();
              return;
            }
            if (b.errorAfterEvents !== undefined && i === b.errorAfterEvents) {
              const error =
                style === "openai"
                  ? `data: ${JSON.stringify({ error: { message: "scripted overload", type: "server_error", code: null } })}\n\n`
                  : `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "scripted overload" } })}\n\n`;
              record.push(error);
              controller.enqueue(encoder.encode(error));
              controller.close();
              return;
            }
            if (b.truncateAfterEvents !== undefined && i === b.truncateAfterEvents) {
              controller.close();
              return;
            }
            if (b.stallAfterEvents !== undefined && i === b.stallAfterEvents) return;
            if (i > 0 && b.eventDelayMs) await sleep(b.eventDelayMs);
            record.push(event);
            controller.enqueue(encoder.encode(event));
          }
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
    );
  });
  let server!: ReturnType<typeof serve>;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    sent,
    script: (...behaviours) => queue.push(...behaviours),
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const release of hung) release();
        (server as Server).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
