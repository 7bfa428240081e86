import type { AnthropicMessagesRequest } from "../dialects/anthropic";
import type { OpenAiChatRequest, OpenAiMessage, ReasoningEffort } from "../dialects/openai";

/** A request one provider's dialect cannot express; another candidate may still take it. */
export class UnsupportedRequest extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = "UnsupportedRequest";
  }
}

export type Json = Record<string, unknown>;
export type Block = Json & { type: string };

/** Anthropic turns, in order: blocks of the role of the turn before join that turn. */
export function anthropicTurns() {
  const turns: { role: "user" | "assistant"; content: Block[] }[] = [];
  const push = (role: "user" | "assistant", blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  return { turns, push };
}

/** Which field an OpenAI-style provider takes the output cap in. */
export type MaxTokensField = "max_tokens" | "max_completion_tokens";

/** A part's `cache_control` (OpenAI-dialect callers of Anthropic models mark cache breakpoints so). */
export function cacheOf(part: object): Json {
  const mark = (part as { cache_control?: unknown }).cache_control;
  return mark === undefined || mark === null ? {} : { cache_control: mark };
}

/** Content as Anthropic text blocks, each part's cache breakpoint kept. */
function textBlocks(content: OpenAiMessage["content"], path: string): Block[] {
  if (content === undefined || content === null) return [];
  if (typeof content === "string") return content ? [{ type: "text", text: content }] : [];
  return content.map((part, i) => {
    if (part.type !== "text")
      throw new UnsupportedRequest(`${path}[${i}]`, `a ${part.type} part cannot go here`);
    return { type: "text", text: (part as { text: string }).text, ...cacheOf(part) };
  });
}

export function imageBlock(url: string, path: string): Block {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data)
    return { type: "image", source: { type: "base64", media_type: data[1], data: data[2] } };
  if (/^https?:\/\//.test(url)) return { type: "image", source: { type: "url", url } };
  throw new UnsupportedRequest(path, "images must be https URLs or base64 data URLs");
}

export function parseArguments(text: string, path: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new UnsupportedRequest(path, "tool call arguments are not valid JSON");
  }
}

/**
 * OpenAI's reasoning effort as an Anthropic thinking budget. Budgeted thinking is what every
 * thinking Claude model takes (adaptive thinking and `output_config.effort` only the newest).
 */
const THINKING_BUDGET: Record<Exclude<ReasoningEffort, "none">, number> = {
  minimal: 1_024,
  low: 2_048,
  medium: 8_192,
  high: 16_384,
  xhigh: 32_768,
  max: 65_536,
};
/** Anthropic's smallest thinking budget. */
const MIN_THINKING = 1_024;

/**
 * Sets a translated request's thinking for OpenAI's reasoning effort (`path` names the caller's
 * field): a budget under `max_tokens`, and no sampling settings, which a thinking Claude refuses
 * (it takes temperature 1 and top_p from 0.95 only).
 */
export function applyEffort(out: Json, effort: ReasoningEffort | null | undefined, path: string) {
  if (!effort) return;
  if (effort === "none") {
    out.thinking = { type: "disabled" };
    return;
  }
  const maxTokens = out.max_tokens as number;
  if (maxTokens <= MIN_THINKING)
    throw new UnsupportedRequest(
      path,
      `Anthropic thinks with at least ${MIN_THINKING} tokens: the output cap must be above that`,
    );
  out.thinking = {
    type: "enabled",
    budget_tokens: Math.min(THINKING_BUDGET[effort], maxTokens - 1),
  };
  delete out.temperature;
  delete out.top_p;
}

/** A JSON output format as Anthropic's structured output (`output_config.format`), if any. */
export function formatOf(
  format: { type: string; schema?: unknown } | null | undefined,
  path: string,
): Json | null {
  if (format?.type === "json_schema")
    return { type: "json_schema", schema: format.schema ?? { type: "object" } };
  if (format?.type === "json_object")
    throw new UnsupportedRequest(
      path,
      "Anthropic has no json_object format; send a json_schema one",
    );
  return null;
}

/** A function tool as an Anthropic tool (its cache breakpoint kept). */
export function anthropicTool(
  fn: { name: string; description?: string | null; parameters?: unknown },
  mark: object,
): Json {
  return {
    name: fn.name,
    ...(fn.description ? { description: fn.description } : {}),
    input_schema: fn.parameters ?? { type: "object", properties: {} },
    ...cacheOf(mark),
  };
}

/** An Anthropic thinking setting as OpenAI's reasoning effort (the nearest budget). */
function effortOf(thinking: { type: string; budget_tokens?: unknown }): ReasoningEffort | null {
  if (thinking.type === "adaptive") return "medium";
  if (thinking.type !== "enabled" || typeof thinking.budget_tokens !== "number") return null;
  const budget = thinking.budget_tokens;
  return budget < 4_096 ? "low" : budget < 16_384 ? "medium" : "high";
}

/** The names of the tools an `allowed_tools` choice lets the model call. */
function allowedNames(tools: Record<string, unknown>[]): Set<string> {
  return new Set(
    tools.map((tool) => {
      const named = (tool.function ?? tool.custom ?? tool) as { name?: unknown };
      return String(named.name ?? "");
    }),
  );
}

/**
 * OpenAI Chat Completions → Anthropic Messages. System and developer messages become `system`
 * blocks and every part's `cache_control` is kept, so prompt caching works for OpenAI-dialect
 * callers (the edge) too; tool results become `tool_result` blocks in a user turn; consecutive
 * turns of one role merge. `reasoning_effort` becomes a thinking budget for that effort and a
 * `json_schema` response format becomes Anthropic's structured output.
 */
export function openAiToAnthropic(
  req: OpenAiChatRequest,
  model: string,
  defaultMaxTokens: number,
): AnthropicMessagesRequest {
  if ((req.n ?? 1) > 1) throw new UnsupportedRequest("n", "Anthropic returns one choice per call");
  const system: Block[] = [];
  const { turns, push } = anthropicTurns();
  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textBlocks(message.content, `${path}.content`));
        return;
      case "user": {
        const content = message.content;
        if (typeof content === "string" || content === null || content === undefined) {
          push("user", [{ type: "text", text: content ?? "" }]);
          return;
        }
        push(
          "user",
          content.map((part, j) => {
            if (part.type === "text")
              return { type: "text", text: (part as { text: string }).text, ...cacheOf(part) };
            if (part.type === "image_url")
              return {
                ...imageBlock(
                  (part as { image_url: { url: string } }).image_url.url,
                  `${path}.content[${j}]`,
                ),
                ...cacheOf(part),
              };
            throw new UnsupportedRequest(
              `${path}.content[${j}]`,
              `Anthropic takes no ${part.type} parts`,
            );
          }),
        );
        return;
      }
      case "assistant": {
        const blocks: Block[] = textBlocks(message.content, `${path}.content`).filter(
          (block) => block.text !== "",
        );
        for (const [j, call] of (message.tool_calls ?? []).entries()) {
          if (call.type !== "function")
            throw new UnsupportedRequest(
              `${path}.tool_calls[${j}]`,
              "Anthropic has no custom (free-form) tools",
            );
          blocks.push({
            type: "tool_use",
            id: call.id,
            name: call.function.name,
            input: parseArguments(
              call.function.arguments,
              `${path}.tool_calls[${j}].function.arguments`,
            ),
          });
        }
        push("assistant", blocks.length ? blocks : [{ type: "text", text: "" }]);
        return;
      }
      case "tool": {
        if (!message.tool_call_id)
          throw new UnsupportedRequest(`${path}.tool_call_id`, "a tool message needs tool_call_id");
        const content = message.content;
        push("user", [
          {
            type: "tool_result",
            tool_use_id: message.tool_call_id,
            content:
              typeof content === "string" || !content
                ? (content ?? "")
                : textBlocks(content, `${path}.content`),
          },
        ]);
        return;
      }
      default:
        throw new UnsupportedRequest(`${path}.role`, `role ${message.role} is not supported`);
    }
  });
  const out: Json = {
    model,
    messages: turns,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? defaultMaxTokens,
  };
  if (system.length) out.system = system;
  if (req.stream) out.stream = true;
  // Anthropic's temperature tops out at 1.
  if (typeof req.temperature === "number") out.temperature = Math.min(1, req.temperature);
  if (typeof req.top_p === "number") out.top_p = req.top_p;
  if (req.stop !== undefined && req.stop !== null)
    out.stop_sequences = typeof req.stop === "string" ? [req.stop] : req.stop;
  let tools = req.tools ?? [];
  let choice: Json | null = null;
  const picked = req.tool_choice;
  if (picked === "auto") choice = { type: "auto" };
  else if (picked === "none") choice = { type: "none" };
  else if (picked === "required") choice = { type: "any" };
  else if (picked?.type === "function") choice = { type: "tool", name: picked.function.name };
  else if (picked?.type === "custom")
    throw new UnsupportedRequest("tool_choice", "Anthropic has no custom (free-form) tools");
  else if (picked?.type === "allowed_tools") {
    // Anthropic has no allow-list beside the tool list: the list itself is narrowed.
    const names = allowedNames(picked.allowed_tools.tools);
    tools = tools.filter((tool) =>
      names.has(tool.type === "function" ? tool.function.name : tool.custom.name),
    );
    choice = { type: picked.allowed_tools.mode === "required" ? "any" : "auto" };
  }
  if (tools.length)
    out.tools = tools.map((tool, i) => {
      if (tool.type !== "function")
        throw new UnsupportedRequest(`tools[${i}]`, "Anthropic has no custom (free-form) tools");
      return anthropicTool(tool.function, tool);
    });
  if (req.parallel_tool_calls === false && tools.length)
    choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
  if (choice) out.tool_choice = choice;
  if (req.user) out.metadata = { user_id: req.user };
  applyEffort(out, req.reasoning_effort, "reasoning_effort");
  const format = req.response_format;
  const structured = formatOf(
    format?.type === "json_schema"
      ? { type: format.type, schema: format.json_schema.schema }
      : format,
    "response_format",
  );
  if (structured) out.output_config = { format: structured };
  return out as AnthropicMessagesRequest;
}

function blocksOf(content: AnthropicMessagesRequest["messages"][number]["content"]): Block[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : (content as Block[]);
}

function resultText(content: unknown, path: string): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw new UnsupportedRequest(path, "unexpected tool_result content");
  return content
    .map((block: Block, i) => {
      if (block.type !== "text")
        throw new UnsupportedRequest(
          `${path}[${i}]`,
          `OpenAI tool results take text only, not ${block.type}`,
        );
      return String(block.text ?? "");
    })
    .join("");
}

function imagePart(block: Block, path: string): Json {
  const source = block.source as {
    type?: string;
    media_type?: string;
    data?: string;
    url?: string;
  };
  if (source?.type === "base64")
    return {
      type: "image_url",
      image_url: { url: `data:${source.media_type};base64,${source.data}` },
    };
  if (source?.type === "url") return { type: "image_url", image_url: { url: source.url } };
  throw new UnsupportedRequest(`${path}.source`, "unsupported image source");
}

/**
 * Anthropic Messages → OpenAI Chat Completions. `tool_result` blocks become `tool` messages
 * (before the rest of their user turn); `tool_use` blocks become `tool_calls`; thinking blocks
 * are not portable and are left out.
 */
export function anthropicToOpenAi(
  req: AnthropicMessagesRequest,
  model: string,
  options: { maxTokensField: MaxTokensField; usageInStream: boolean },
): OpenAiChatRequest {
  const messages: Json[] = [];
  const systemText = (system: string | Block[], path: string) =>
    typeof system === "string"
      ? system
      : system
          .map((block, i) => {
            if (block.type !== "text")
              throw new UnsupportedRequest(
                `${path}[${i}]`,
                `a ${block.type} block cannot be a system prompt`,
              );
            return String(block.text ?? "");
          })
          .join("\n\n");
  if (req.system !== undefined) {
    const system = systemText(req.system as string | Block[], "system");
    if (system) messages.push({ role: "system", content: system });
  }
  req.messages.forEach((message, i) => {
    const path = `messages[${i}].content`;
    if (message.role === "system") {
      messages.push({ role: "system", content: systemText(message.content as Block[], path) });
      return;
    }
    const blocks = blocksOf(message.content);
    if (message.role === "assistant") {
      const text: string[] = [];
      const calls: Json[] = [];
      blocks.forEach((block, j) => {
        if (block.type === "text") text.push(String(block.text ?? ""));
        else if (block.type === "tool_use")
          calls.push({
            id: block.id,
            type: "function",
            function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
          });
        else if (block.type !== "thinking" && block.type !== "redacted_thinking")
          throw new UnsupportedRequest(
            `${path}[${j}]`,
            `OpenAI takes no assistant ${block.type} blocks`,
          );
      });
      messages.push({
        role: "assistant",
        content: text.length ? text.join("") : null,
        ...(calls.length ? { tool_calls: calls } : {}),
      });
      return;
    }
    const parts: Json[] = [];
    blocks.forEach((block, j) => {
      if (block.type === "tool_result")
        messages.push({
          role: "tool",
          tool_call_id: block.tool_use_id,
          content: resultText(block.content, `${path}[${j}].content`),
        });
      else if (block.type === "text") parts.push({ type: "text", text: String(block.text ?? "") });
      else if (block.type === "image") parts.push(imagePart(block, `${path}[${j}]`));
      else throw new UnsupportedRequest(`${path}[${j}]`, `OpenAI takes no ${block.type} blocks`);
    });
    if (parts.length === 0) return;
    const onlyText = parts.every((p) => p.type === "text");
    messages.push({
      role: "user",
      content: onlyText ? parts.map((p) => p.text).join("") : parts,
    });
  });
  const out: Json = { model, messages, [options.maxTokensField]: req.max_tokens };
  if (req.stream) {
    out.stream = true;
    if (options.usageInStream) out.stream_options = { include_usage: true };
  }
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  if (req.tools?.length)
    out.tools = req.tools.map((tool, i) => {
      if (!tool.name || (tool.type != null && tool.type !== "custom"))
        throw new UnsupportedRequest(
          `tools[${i}]`,
          `OpenAI runs no Anthropic ${tool.type ?? "server"} tools`,
        );
      return {
        type: "function",
        function: {
          name: tool.name,
          ...(tool.description ? { description: tool.description } : {}),
          parameters: tool.input_schema ?? { type: "object", properties: {} },
        },
      };
    });
  const choice = req.tool_choice;
  if (choice) {
    if (choice.type === "auto") out.tool_choice = "auto";
    else if (choice.type === "none") out.tool_choice = "none";
    else if (choice.type === "any") out.tool_choice = "required";
    else if (choice.name) out.tool_choice = { type: "function", function: { name: choice.name } };
    if (choice.disable_parallel_tool_use && req.tools?.length) out.parallel_tool_calls = false;
  }
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  const config = req.output_config;
  const effort = config?.effort ?? (req.thinking ? effortOf(req.thinking) : null);
  if (effort) out.reasoning_effort = effort;
  if (config?.format)
    out.response_format = {
      type: "json_schema",
      json_schema: { name: "output", schema: config.format.schema, strict: true },
    };
  return out as OpenAiChatRequest;
}
