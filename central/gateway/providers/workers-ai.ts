import type { OpenAiChunk, OpenAiCompletion, OpenAiFinish, OpenAiUsage } from "../dialects/openai";
import { SseReader, sseText } from "../sse/reader";

/** The part of the Workers AI binding the gateway uses. */
export interface AiRunner {
  run(
    model: string,
    inputs: Record<string, unknown>,
    options?: { signal?: AbortSignal },
  ): Promise<unknown>;
}

type Json = Record<string, unknown>;

/** Workers AI's text-generation output: `response` text, tool calls (two shapes), usage. */
interface AiOutput {
  response?: unknown;
  tool_calls?: (
    | { name: string; arguments: unknown }
    | { id: string; type: "function"; function: { name: string; arguments: string } }
  )[];
  usage?: Partial<OpenAiUsage>;
  choices?: unknown;
}

const INPUT_FIELDS = [
  "messages",
  "tools",
  "temperature",
  "top_p",
  "top_k",
  "seed",
  "frequency_penalty",
  "presence_penalty",
  "repetition_penalty",
  "response_format",
] as const;

/**
 * Calls a model through the Worker's AI binding with an OpenAI-style chat request and answers
 * like an OpenAI-compatible server would (a chat completion, or an SSE stream of chunks), so the
 * rest of the gateway treats Workers AI as one more OpenAI-style provider.
 */
export async function callWorkersAi(ai: Ai, body: Json, signal: AbortSignal): Promise<Response> {
  const runner = ai as unknown as AiRunner;
  const model = String(body.model);
  const inputs: Json = {};
  for (const field of INPUT_FIELDS) if (body[field] !== undefined) inputs[field] = body[field];
  const maxTokens = body.max_tokens ?? body.max_completion_tokens;
  if (maxTokens !== undefined) inputs.max_tokens = maxTokens;
  const stream = body.stream === true;
  if (stream) inputs.stream = true;
  let result: unknown;
  try {
    result = await runner.run(model, inputs, { signal });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The binding throws for refused inputs ("... 400 ...") and for failures on its side.
    const status = /\b(400|invalid|bad input)\b/i.test(message) ? 400 : 502;
    return Response.json(
      {
        error: {
          message: `Workers AI: ${message}`,
          type: status === 400 ? "invalid_request_error" : "server_error",
          param: null,
          code: null,
        },
      },
      { status },
    );
  }
  const created = Math.floor(Date.now() / 1000);
  const id = `chatcmpl-wai-${crypto.randomUUID()}`;
  if (stream && result instanceof ReadableStream)
    return new Response(openAiStream(result as ReadableStream<Uint8Array>, id, model, created), {
      headers: { "content-type": "text/event-stream" },
    });
  return Response.json(completionOf(result as AiOutput, id, model, created));
}

function toolCallsOf(calls: AiOutput["tool_calls"]) {
  return (calls ?? []).map((call, i) =>
    "function" in call
      ? { id: call.id, type: "function" as const, function: call.function }
      : {
          id: `call_${i}`,
          type: "function" as const,
          function: {
            name: call.name,
            arguments:
              typeof call.arguments === "string"
                ? call.arguments
                : JSON.stringify(call.arguments ?? {}),
          },
        },
  );
}

function usageOf(usage: Partial<OpenAiUsage> | undefined): OpenAiUsage | null {
  if (!usage) return null;
  const prompt = usage.prompt_tokens ?? 0;
  const completion = usage.completion_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.total_tokens ?? prompt + completion,
  };
}

export function completionOf(
  output: AiOutput,
  id: string,
  model: string,
  created: number,
): OpenAiCompletion {
  const usage = usageOf(output.usage);
  if (Array.isArray(output.choices))
    return {
      id,
      object: "chat.completion",
      created,
      model,
      ...(output as object),
    } as OpenAiCompletion;
  const calls = toolCallsOf(output.tool_calls);
  const text =
    output.response === undefined || output.response === null
      ? null
      : typeof output.response === "string"
        ? output.response
        : JSON.stringify(output.response);
  return {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text,
          refusal: null,
          ...(calls.length ? { tool_calls: calls } : {}),
        },
        logprobs: null,
        finish_reason: calls.length ? "tool_calls" : "stop",
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

/** Workers AI's stream (`data: {"response": "..."}`, a last event with usage) as OpenAI chunks. */
function openAiStream(
  source: ReadableStream<Uint8Array>,
  id: string,
  model: string,
  created: number,
): ReadableStream<Uint8Array> {
  const reader = new SseReader(source);
  const encoder = new TextEncoder();
  let started = false;
  let tools = 0;
  let usage: OpenAiUsage | null = null;
  let done = false;
  const frame = (choices: OpenAiChunk["choices"], extra: Partial<OpenAiChunk> = {}) =>
    sseText(
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model,
        choices,
        ...extra,
      } satisfies OpenAiChunk),
    );
  const chunk = (
    delta: OpenAiChunk["choices"][number]["delta"],
    finish: OpenAiFinish | null = null,
  ) => frame([{ index: 0, delta, finish_reason: finish }]);
  return new ReadableStream<Uint8Array>({
    // A pull that enqueues nothing is not called again: read until there is output.
    async pull(controller) {
      while (!done) {
        const event = await reader.next();
        const out: string[] = [];
        if (!event || event.data.trim() === "[DONE]") {
          done = true;
          out.push(chunk({}, tools ? "tool_calls" : "stop"));
          if (usage) out.push(frame([], { usage }));
          out.push(sseText("[DONE]"));
          controller.enqueue(encoder.encode(out.join("")));
          controller.close();
          return;
        }
        if (!event.hasData) continue;
        let json: AiOutput & Json;
        try {
          json = JSON.parse(event.data);
        } catch {
          continue;
        }
        if (Array.isArray(json.choices)) {
          controller.enqueue(encoder.encode(event.raw));
          return;
        }
        if (!started) {
          started = true;
          out.push(chunk({ role: "assistant", content: "" }));
        }
        if (typeof json.response === "string" && json.response)
          out.push(chunk({ content: json.response }));
        for (const call of toolCallsOf(json.tool_calls)) {
          out.push(
            chunk({
              tool_calls: [
                { index: tools, id: call.id, type: "function", function: call.function },
              ],
            }),
          );
          tools += 1;
        }
        const u = usageOf(json.usage);
        if (u) usage = u;
        if (out.length) {
          controller.enqueue(encoder.encode(out.join("")));
          return;
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
