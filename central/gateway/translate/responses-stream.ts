import type { AnthropicUsage } from "../dialects/anthropic";
import type {
  OpenAiResponse,
  OpenAiResponseEvent,
  OpenAiResponseItem,
  OpenAiResponsesRequest,
} from "../dialects/openai";
import { usageFromAnthropic } from "../dialects/usage";
import { type SseEvent, sseText } from "../sse/reader";
import type { Observation, Relay } from "./relay";
import {
  endOf,
  functionCallId,
  type ResponseIds,
  reasoningItem,
  responseIds,
  responseObject,
} from "./responses-answer";
import type { ThinkingBlock } from "./thinking-items";

type MessageItem = Extract<OpenAiResponseItem, { type: "message" }>;
type CallItem = Extract<OpenAiResponseItem, { type: "function_call" }>;

/** An Anthropic content block being streamed, and the output item it feeds. */
type Open =
  | { kind: "text"; outputIndex: number; item: MessageItem; contentIndex: number; text: string }
  | { kind: "tool"; outputIndex: number; item: CallItem }
  | { kind: "thinking"; outputIndex: number; id: string; block: ThinkingBlock };

/**
 * A Responses event as the API sends it, without its sequence number (the relay assigns them
 * in order).
 */
type Unnumbered = OpenAiResponseEvent extends infer E
  ? E extends { response: unknown }
    ? Omit<E, "sequence_number" | "response"> & { response: OpenAiResponse }
    : Omit<E, "sequence_number">
  : never;

/**
 * Anthropic Messages events → OpenAI Responses events, numbered in order from 0:
 * `response.created` and `response.in_progress` on `message_start`; each run of text blocks as
 * one message item (`output_item.added`, a `content_part` per block with its
 * `output_text.delta`s and `.done`s); each tool_use block as a function_call item with its
 * `function_call_arguments` deltas; each thinking block as a reasoning item (summary text
 * deltas; the block packed whole in `encrypted_content` when done); then `response.completed`,
 * or `response.incomplete` when the answer hit its token cap, carrying every item and the usage.
 */
export class AnthropicToResponses implements Relay {
  private sequence = 0;
  private ids: ResponseIds = responseIds(null);
  private model = "";
  private readonly output: OpenAiResponseItem[] = [];
  private readonly blocks = new Map<number, Open>();
  /** The message item text blocks go into, until another kind of block comes. */
  private message: { outputIndex: number; item: MessageItem } | null = null;
  private stopReason: string | null = null;
  private usage: Partial<AnthropicUsage> = {};

  constructor(
    private readonly request: OpenAiResponsesRequest,
    private readonly now: number,
  ) {}

  private emit(out: string[], event: Unnumbered): void {
    const { type, ...rest } = event;
    out.push(sseText(JSON.stringify({ type, sequence_number: this.sequence++, ...rest }), type));
  }

  private response(final: boolean) {
    const end = final
      ? endOf(this.stopReason)
      : { status: "in_progress" as const, incomplete_details: null };
    return responseObject(
      this.request,
      { id: this.ids.id, model: this.model, createdAt: this.now },
      final ? this.output : [],
      end,
      final ? usageFromAnthropic(this.usage) : null,
    );
  }

  private add(out: string[], item: OpenAiResponseItem): number {
    const outputIndex = this.output.length;
    this.output.push(item);
    this.emit(out, {
      type: "response.output_item.added",
      output_index: outputIndex,
      item: structuredClone(item),
    });
    return outputIndex;
  }

  private done(out: string[], outputIndex: number, item: OpenAiResponseItem): void {
    this.output[outputIndex] = item;
    this.emit(out, { type: "response.output_item.done", output_index: outputIndex, item });
  }

  private closeMessage(out: string[], status: MessageItem["status"]): void {
    if (!this.message) return;
    this.message.item.status = status;
    this.done(out, this.message.outputIndex, this.message.item);
    this.message = null;
  }

  push(_event: SseEvent, seen: Observation): string[] {
    const json = seen.json;
    if (!json) return [];
    const out: string[] = [];
    const index = Number(json.index);
    switch (json.type) {
      case "message_start": {
        const message = json.message as { id?: string; model?: string; usage?: AnthropicUsage };
        this.ids = responseIds(message?.id);
        this.model = message?.model ?? "";
        this.usage = { ...message?.usage };
        const response = this.response(false);
        this.emit(out, { type: "response.created", response });
        this.emit(out, { type: "response.in_progress", response });
        return out;
      }
      case "content_block_start":
        this.start(out, index, json.content_block as Record<string, unknown>);
        return out;
      case "content_block_delta":
        this.delta(out, index, json.delta as Record<string, unknown>);
        return out;
      case "content_block_stop":
        this.stop(out, index);
        return out;
      case "message_delta": {
        const delta = json.delta as { stop_reason?: string | null } | undefined;
        if (delta?.stop_reason) this.stopReason = delta.stop_reason;
        const usage = json.usage as Partial<AnthropicUsage> | undefined;
        for (const [key, value] of Object.entries(usage ?? {}))
          if (typeof value === "number") (this.usage as Record<string, number>)[key] = value;
        return out;
      }
      case "message_stop": {
        const response = this.response(true);
        this.closeMessage(out, response.status === "completed" ? "completed" : "incomplete");
        response.output = this.output;
        this.emit(
          out,
          response.status === "completed"
            ? { type: "response.completed", response }
            : { type: "response.incomplete", response },
        );
        return out;
      }
      default:
        return out;
    }
  }

  private start(out: string[], index: number, block: Record<string, unknown>): void {
    if (block?.type === "text") {
      if (!this.message) {
        const item: MessageItem = {
          type: "message",
          id: this.ids.item("msg", index),
          role: "assistant",
          status: "in_progress",
          content: [],
        };
        this.message = { outputIndex: this.add(out, item), item };
      }
      const { item, outputIndex } = this.message;
      const contentIndex = item.content.length;
      const part = { type: "output_text" as const, text: "", annotations: [] };
      item.content.push(part);
      this.emit(out, {
        type: "response.content_part.added",
        item_id: item.id,
        output_index: outputIndex,
        content_index: contentIndex,
        part: structuredClone(part),
      });
      const open: Open = { kind: "text", outputIndex, item, contentIndex, text: "" };
      this.blocks.set(index, open);
      if (typeof block.text === "string" && block.text) this.text(out, open, block.text);
      return;
    }
    if (block?.type === "tool_use") {
      this.closeMessage(out, "completed");
      const callId = String(block.id ?? "");
      const item: CallItem = {
        type: "function_call",
        id: functionCallId(callId),
        call_id: callId,
        name: String(block.name ?? ""),
        arguments: "",
        status: "in_progress",
      };
      this.blocks.set(index, { kind: "tool", outputIndex: this.add(out, item), item });
      return;
    }
    if (block?.type === "thinking" || block?.type === "redacted_thinking") {
      this.closeMessage(out, "completed");
      const id = this.ids.item("rs", index);
      const thinking: ThinkingBlock =
        block.type === "thinking"
          ? { type: "thinking", thinking: "", signature: "" }
          : { type: "redacted_thinking", data: String(block.data ?? "") };
      const outputIndex = this.add(out, reasoningItem(id, thinking, "in_progress"));
      this.blocks.set(index, { kind: "thinking", outputIndex, id, block: thinking });
      if (thinking.type === "thinking")
        this.emit(out, {
          type: "response.reasoning_summary_part.added",
          item_id: id,
          output_index: outputIndex,
          summary_index: 0,
          part: { type: "summary_text", text: "" },
        });
    }
  }

  private text(out: string[], open: Extract<Open, { kind: "text" }>, delta: string): void {
    open.text += delta;
    this.emit(out, {
      type: "response.output_text.delta",
      item_id: open.item.id,
      output_index: open.outputIndex,
      content_index: open.contentIndex,
      delta,
      logprobs: [],
    });
  }

  private delta(out: string[], index: number, delta: Record<string, unknown>): void {
    const open = this.blocks.get(index);
    if (!open || !delta) return;
    if (open.kind === "text" && delta.type === "text_delta" && typeof delta.text === "string")
      this.text(out, open, delta.text);
    else if (open.kind === "tool" && delta.type === "input_json_delta") {
      const part = String(delta.partial_json ?? "");
      if (!part) return;
      open.item.arguments += part;
      this.emit(out, {
        type: "response.function_call_arguments.delta",
        item_id: open.item.id ?? "",
        output_index: open.outputIndex,
        delta: part,
      });
    } else if (open.kind === "thinking" && open.block.type === "thinking") {
      if (delta.type === "signature_delta") open.block.signature += String(delta.signature ?? "");
      else if (delta.type === "thinking_delta" && typeof delta.thinking === "string") {
        open.block.thinking += delta.thinking;
        this.emit(out, {
          type: "response.reasoning_summary_text.delta",
          item_id: open.id,
          output_index: open.outputIndex,
          summary_index: 0,
          delta: delta.thinking,
        });
      }
    }
  }

  private stop(out: string[], index: number): void {
    const open = this.blocks.get(index);
    if (!open) return;
    this.blocks.delete(index);
    if (open.kind === "text") {
      const part = { type: "output_text" as const, text: open.text, annotations: [] };
      open.item.content[open.contentIndex] = part;
      const at = { item_id: open.item.id, output_index: open.outputIndex };
      this.emit(out, {
        type: "response.output_text.done",
        ...at,
        content_index: open.contentIndex,
        text: open.text,
        logprobs: [],
      });
      this.emit(out, {
        type: "response.content_part.done",
        ...at,
        content_index: open.contentIndex,
        part,
      });
      return;
    }
    if (open.kind === "tool") {
      // A tool called without input streams no arguments at all.
      const item: CallItem = {
        ...open.item,
        arguments: open.item.arguments || "{}",
        status: "completed",
      };
      this.emit(out, {
        type: "response.function_call_arguments.done",
        item_id: item.id ?? "",
        output_index: open.outputIndex,
        arguments: item.arguments,
      });
      this.done(out, open.outputIndex, item);
      return;
    }
    if (open.block.type === "thinking") {
      const at = { item_id: open.id, output_index: open.outputIndex, summary_index: 0 };
      const text = open.block.thinking;
      this.emit(out, { type: "response.reasoning_summary_text.done", ...at, text });
      this.emit(out, {
        type: "response.reasoning_summary_part.done",
        ...at,
        part: { type: "summary_text", text },
      });
    }
    this.done(out, open.outputIndex, reasoningItem(open.id, open.block, "completed"));
  }

  end(): string[] {
    return [];
  }

  fail(message: string, code: string): string[] {
    const out: string[] = [];
    this.emit(out, { type: "error", code, message, param: null });
    return out;
  }
}
