import type { AnthropicUsage } from "../dialects/anthropic";
import { anthropicError } from "../dialects/anthropic";
import type { Wire } from "../dialects/errors";
import type {
  OpenAiChunk,
  OpenAiFinish,
  OpenAiResponsesRequest,
  OpenAiUsage,
} from "../dialects/openai";
import { openAiError } from "../dialects/openai";
import {
  type CallUsage,
  usageFromAnthropic,
  usageFromOpenAi,
  usageFromResponses,
  usageToAnthropic,
  usageToOpenAi,
} from "../dialects/usage";
import { type SseEvent, sseText } from "../sse/reader";
import type { Observation, Relay } from "./relay";
import { toAnthropicStop, toOpenAiFinish } from "./responses";
import { AnthropicToResponses } from "./responses-stream";

export type { Observation, Relay };

/**
 * Follows an upstream stream of one dialect: the first token, usage, finish reasons, the
 * response id and model, and whether it ended with its own terminator (a stream that just
 * stops is a truncation, never a success).
 */
export class StreamObserver {
  usage: CallUsage | null = null;
  finish: string[] = [];
  responseId: string | null = null;
  responseModel: string | null = null;
  ended = false;
  /** Characters of generated text and tool arguments, to estimate usage a provider left out. */
  outputChars = 0;
  private anthropicUsage: Partial<AnthropicUsage> = {};

  constructor(readonly dialect: Wire) {}

  /**
   * What an event means. Never throws: an event whose JSON is not of its dialect's shape is
   * `malformed`, and an error (before the first token the attempt fails and falls back; after
   * it the stream ends with an error event: call/relay-stream.ts).
   */
  observe(event: SseEvent): Observation {
    try {
      return this.read(event);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return {
        json: null,
        token: false,
        terminal: false,
        error: `malformed event: ${detail}`.slice(0, 300),
        malformed: true,
      };
    }
  }

  private read(event: SseEvent): Observation {
    if (!event.hasData) return { json: null, token: false, terminal: false, error: null };
    if (this.dialect === "responses") return this.observeResponses(event);
    if (this.dialect === "openai") {
      if (event.data.trim() === "[DONE]") {
        this.ended = true;
        return { json: null, token: false, terminal: true, error: null };
      }
      const json = parseJson(event.data);
      if (!json) return { json: null, token: false, terminal: false, error: "unparseable chunk" };
      if (json.error) return { json, token: false, terminal: false, error: messageOf(json.error) };
      const chunk = json as unknown as OpenAiChunk;
      this.responseId ??= chunk.id ?? null;
      this.responseModel ??= chunk.model ?? null;
      if (chunk.usage) this.usage = usageFromOpenAi(chunk.usage);
      let token = false;
      for (const choice of chunk.choices ?? []) {
        if (choice.finish_reason) this.finish.push(choice.finish_reason);
        const delta = choice.delta ?? {};
        if (delta.content || delta.tool_calls?.length) token = true;
        this.outputChars += delta.content?.length ?? 0;
        for (const call of delta.tool_calls ?? [])
          this.outputChars += call.function?.arguments?.length ?? 0;
      }
      return { json, token, terminal: false, error: null };
    }
    const json = parseJson(event.data);
    if (!json) return { json: null, token: false, terminal: false, error: "unparseable event" };
    const type = String(json.type ?? event.event ?? "");
    if (type === "error")
      return { json, token: false, terminal: false, error: messageOf(json.error) };
    if (type === "message_start") {
      const message = json.message as { id?: string; model?: string; usage?: AnthropicUsage };
      this.responseId ??= message?.id ?? null;
      this.responseModel ??= message?.model ?? null;
      this.anthropicUsage = { ...message?.usage };
      this.usage = usageFromAnthropic(this.anthropicUsage);
    } else if (type === "message_delta") {
      const delta = json.delta as { stop_reason?: string | null } | undefined;
      if (delta?.stop_reason) this.finish.push(delta.stop_reason);
      const usage = json.usage as Partial<AnthropicUsage> | undefined;
      if (usage) {
        for (const [key, value] of Object.entries(usage))
          if (typeof value === "number")
            (this.anthropicUsage as Record<string, number>)[key] = value;
        this.usage = usageFromAnthropic(this.anthropicUsage);
      }
    } else if (type === "message_stop") {
      this.ended = true;
      return { json, token: false, terminal: true, error: null };
    }
    if (type === "content_block_delta") {
      const delta = json.delta as
        | { text?: string; partial_json?: string; thinking?: string }
        | undefined;
      // Thinking is billed as output, as text is.
      this.outputChars +=
        (delta?.text?.length ?? 0) +
        (delta?.partial_json?.length ?? 0) +
        (delta?.thinking?.length ?? 0);
    }
    // Thinking is output too: a model that thinks past the first-token timeout is working, not
    // stuck (and Responses callers see it, as reasoning summary deltas).
    const token =
      (type === "content_block_delta" &&
        ["text_delta", "input_json_delta", "thinking_delta"].includes(
          String((json.delta as { type?: string } | undefined)?.type),
        )) ||
      (type === "content_block_start" &&
        (json.content_block as { type?: string } | undefined)?.type === "tool_use");
    return { json, token, terminal: false, error: null };
  }

  /** OpenAI Responses events: typed deltas, and a last event that carries the whole response. */
  private observeResponses(event: SseEvent): Observation {
    const json = parseJson(event.data);
    if (!json) return { json: null, token: false, terminal: false, error: "unparseable event" };
    const type = String(json.type ?? event.event ?? "");
    const response = json.response as
      | { id?: string; model?: string; status?: string; usage?: object; error?: unknown }
      | undefined;
    if (response) {
      this.responseId ??= response.id ?? null;
      this.responseModel ??= response.model ?? null;
    }
    if (type === "error") return { json, token: false, terminal: false, error: messageOf(json) };
    if (type === "response.failed") {
      // A failed response still reports what it used, which is billed.
      if (response?.usage) this.usage = usageFromResponses(response.usage);
      return { json, token: false, terminal: false, error: messageOf(response?.error) };
    }
    if (type === "response.completed" || type === "response.incomplete") {
      if (response?.usage) this.usage = usageFromResponses(response.usage);
      if (response?.status) this.finish.push(response.status);
      this.ended = true;
      return { json, token: false, terminal: true, error: null };
    }
    const delta = typeof json.delta === "string" ? json.delta : null;
    if (delta !== null && type.endsWith(".delta")) {
      this.outputChars += delta.length;
      return { json, token: delta.length > 0, terminal: false, error: null };
    }
    const item = json.item as { type?: string } | undefined;
    const token =
      type === "response.output_item.added" &&
      (item?.type === "function_call" || item?.type === "custom_tool_call");
    return { json, token, terminal: false, error: null };
  }
}

export function relayFor(
  upstream: Wire,
  client: Wire,
  options: {
    clientWantsUsage: boolean;
    now: number;
    /** The caller's request, which a translated Responses stream echoes. */
    request?: Record<string, unknown>;
  },
): Relay {
  if (upstream === client) return new Passthrough(client, options.clientWantsUsage);
  // Responses callers get OpenAI providers' streams as they are, Anthropic ones' translated.
  if (client === "responses")
    return new AnthropicToResponses((options.request ?? {}) as OpenAiResponsesRequest, options.now);
  return upstream === "anthropic"
    ? new AnthropicToOpenAi(options.clientWantsUsage, options.now)
    : new OpenAiToAnthropic();
}

export function streamError(wire: Wire, message: string, code: string): string {
  if (wire === "responses")
    return sseText(JSON.stringify({ type: "error", code, message, param: null }), "error");
  return wire === "openai"
    ? sseText(JSON.stringify(openAiError(message, "server_error", code)))
    : sseText(JSON.stringify(anthropicError(message, "api_error", { code })), "error");
}

/**
 * Same dialect: every event goes out byte for byte, except the usage-only chunk the gateway
 * asked an OpenAI-style upstream for when the client did not.
 */
class Passthrough implements Relay {
  constructor(
    private readonly dialect: Wire,
    private readonly clientWantsUsage: boolean,
  ) {}

  push(event: SseEvent, seen: Observation): string[] {
    if (
      this.dialect === "openai" &&
      !this.clientWantsUsage &&
      seen.json?.usage &&
      Array.isArray(seen.json.choices) &&
      seen.json.choices.length === 0
    )
      return [];
    return [event.raw];
  }

  end(): string[] {
    return [];
  }

  fail(message: string, code: string): string[] {
    return [streamError(this.dialect, message, code)];
  }
}

/** Anthropic events → OpenAI chunks: text deltas, tool_use blocks as indexed tool_calls. */
class AnthropicToOpenAi implements Relay {
  private id = "chatcmpl-gateway";
  private model = "";
  private readonly created: number;
  private readonly tools = new Map<number, number>();
  private finish: OpenAiFinish | null = null;
  private usage: Partial<AnthropicUsage> = {};

  constructor(
    private readonly includeUsage: boolean,
    now: number,
  ) {
    this.created = Math.floor(now / 1000);
  }

  private chunk(
    delta: OpenAiChunk["choices"][number]["delta"],
    finish: OpenAiFinish | null = null,
  ): string {
    const chunk: OpenAiChunk = {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
    return sseText(JSON.stringify(chunk));
  }

  push(_event: SseEvent, seen: Observation): string[] {
    const json = seen.json;
    if (!json) return [];
    switch (json.type) {
      case "message_start": {
        const message = json.message as { id?: string; model?: string; usage?: AnthropicUsage };
        if (message?.id) this.id = message.id;
        this.model = message?.model ?? "";
        this.usage = { ...message?.usage };
        return [this.chunk({ role: "assistant", content: "" })];
      }
      case "content_block_start": {
        const block = json.content_block as {
          type?: string;
          id?: string;
          name?: string;
          text?: string;
        };
        if (block?.type === "tool_use") {
          const index = this.tools.size;
          this.tools.set(Number(json.index), index);
          return [
            this.chunk({
              tool_calls: [
                {
                  index,
                  id: block.id ?? "",
                  type: "function",
                  function: { name: block.name ?? "", arguments: "" },
                },
              ],
            }),
          ];
        }
        if (block?.type === "text" && block.text) return [this.chunk({ content: block.text })];
        return [];
      }
      case "content_block_delta": {
        const delta = json.delta as { type?: string; text?: string; partial_json?: string };
        if (delta?.type === "text_delta" && delta.text)
          return [this.chunk({ content: delta.text })];
        if (delta?.type === "input_json_delta" && delta.partial_json) {
          const index = this.tools.get(Number(json.index));
          if (index === undefined) return [];
          return [
            this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }),
          ];
        }
        return [];
      }
      case "message_delta": {
        const delta = json.delta as { stop_reason?: string | null };
        if (delta?.stop_reason) this.finish = toOpenAiFinish(delta.stop_reason);
        const usage = json.usage as Partial<AnthropicUsage> | undefined;
        if (usage)
          for (const [key, value] of Object.entries(usage))
            if (typeof value === "number") (this.usage as Record<string, number>)[key] = value;
        return [];
      }
      case "message_stop":
        return this.close();
      default:
        return [];
    }
  }

  private close(): string[] {
    const out = [this.chunk({}, this.finish ?? "stop")];
    if (this.includeUsage) {
      const usage: OpenAiUsage = usageToOpenAi(usageFromAnthropic(this.usage));
      out.push(
        sseText(
          JSON.stringify({
            id: this.id,
            object: "chat.completion.chunk",
            created: this.created,
            model: this.model,
            choices: [],
            usage,
          }),
        ),
      );
    }
    out.push(sseText("[DONE]"));
    return out;
  }

  end(): string[] {
    return [];
  }

  fail(message: string, code: string): string[] {
    return [streamError("openai", message, code)];
  }
}

/** OpenAI chunks → Anthropic events: a text block, then one tool_use block per tool call. */
class OpenAiToAnthropic implements Relay {
  private started = false;
  private open: { index: number; kind: "text" | "tool"; tool?: number } | null = null;
  private blocks = 0;
  private stop: string | null = null;
  private usage: CallUsage | null = null;

  private event(type: string, body: Record<string, unknown>): string {
    return sseText(JSON.stringify({ type, ...body }), type);
  }

  private start(json: Record<string, unknown>): string[] {
    if (this.started) return [];
    this.started = true;
    const id = String(json.id ?? "gateway");
    return [
      this.event("message_start", {
        message: {
          id: id.startsWith("msg_") ? id : `msg_${id}`,
          type: "message",
          role: "assistant",
          model: String(json.model ?? ""),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }),
    ];
  }

  private closeBlock(): string[] {
    if (!this.open) return [];
    const out = [this.event("content_block_stop", { index: this.open.index })];
    this.open = null;
    return out;
  }

  push(_event: SseEvent, seen: Observation): string[] {
    const json = seen.json;
    if (!json) return [];
    const out = this.start(json);
    const chunk = json as unknown as OpenAiChunk;
    if (chunk.usage) this.usage = usageFromOpenAi(chunk.usage);
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== 0) continue;
      const delta = choice.delta ?? {};
      if (delta.content) {
        if (this.open?.kind !== "text") {
          out.push(...this.closeBlock());
          this.open = { index: this.blocks++, kind: "text" };
          out.push(
            this.event("content_block_start", {
              index: this.open.index,
              content_block: { type: "text", text: "" },
            }),
          );
        }
        out.push(
          this.event("content_block_delta", {
            index: this.open.index,
            delta: { type: "text_delta", text: delta.content },
          }),
        );
      }
      for (const call of delta.tool_calls ?? []) {
        if (this.open?.kind !== "tool" || this.open.tool !== call.index) {
          out.push(...this.closeBlock());
          this.open = { index: this.blocks++, kind: "tool", tool: call.index };
          out.push(
            this.event("content_block_start", {
              index: this.open.index,
              content_block: {
                type: "tool_use",
                id: call.id ?? `toolu_${call.index}`,
                name: call.function?.name ?? "",
                input: {},
              },
            }),
          );
        }
        if (call.function?.arguments)
          out.push(
            this.event("content_block_delta", {
              index: this.open.index,
              delta: { type: "input_json_delta", partial_json: call.function.arguments },
            }),
          );
      }
      if (choice.finish_reason) this.stop = toAnthropicStop(choice.finish_reason);
    }
    return out;
  }

  end(): string[] {
    const out = this.start({});
    out.push(...this.closeBlock());
    const usage = usageToAnthropic(
      this.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    );
    out.push(
      this.event("message_delta", {
        delta: { stop_reason: this.stop ?? "end_turn", stop_sequence: null },
        usage,
      }),
    );
    out.push(this.event("message_stop", {}));
    return out;
  }

  fail(message: string, code: string): string[] {
    return [streamError("anthropic", message, code)];
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function messageOf(error: unknown): string {
  if (error && typeof error === "object" && "message" in error)
    return String((error as { message: unknown }).message);
  return typeof error === "string" ? error : "upstream error";
}
