import type { AnthropicMessagesRequest } from "../dialects/anthropic";
import type { OpenAiChatRequest, OpenAiMessage } from "../dialects/openai";

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

type Json = Record<string, unknown>;
type Block = Json & { type: string };

/** Which field an OpenAI-style provider takes the output cap in. */
export type MaxTokensField = "max_tokens" | "max_completion_tokens";

function textOf(content: OpenAiMessage["content"], path: string): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content
    .map((part, i) => {
      if (part.type !== "text")
        throw new UnsupportedRequest(`${path}[${i}]`, `a ${part.type} part cannot go here`);
      return (part as { text: string }).text;
    })
    .join("");
}

function imageBlock(url: string, path: string): Block {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data)
    return { type: "image", source: { type: "base64", media_type: data[1], data: data[2] } };
  if (/^https?:\/\//.test(url)) return { type: "image", source: { type: "url", url } };
  throw new UnsupportedRequest(path, "images must be https URLs or base64 data URLs");
}

function parseArguments(text: string, path: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new UnsupportedRequest(path, "tool call arguments are not valid JSON");
  }
}

/**
 * OpenAI Chat Completions → Anthropic Messages. System and developer messages become `system`;
 * tool results become `tool_result` blocks in a user turn; consecutive turns of one role merge.
 */
export function openAiToAnthropic(
  req: OpenAiChatRequest,
  model: string,
  defaultMaxTokens: number,
): AnthropicMessagesRequest {
  if ((req.n ?? 1) > 1) throw new UnsupportedRequest("n", "Anthropic returns one choice per call");
  const system: string[] = [];
  const turns: { role: "user" | "assistant"; content: Block[] }[] = [];
  const push = (role: "user" | "assistant", blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(textOf(message.content, `${path}.content`));
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
              return { type: "text", text: (part as { text: string }).text };
            if (part.type === "image_url")
              return imageBlock(
                (part as { image_url: { url: string } }).image_url.url,
                `${path}.content[${j}]`,
              );
            throw new UnsupportedRequest(
              `${path}.content[${j}]`,
              `Anthropic takes no ${part.type} parts`,
            );
          }),
        );
        return;
      }
      case "assistant": {
        const blocks: Block[] = [];
        const text = textOf(message.content, `${path}.content`);
        if (text) blocks.push({ type: "text", text });
        for (const [j, call] of (message.tool_calls ?? []).entries())
          blocks.push({
            type: "tool_use",
            id: call.id,
            name: call.function.name,
            input: parseArguments(
              call.function.arguments,
              `${path}.tool_calls[${j}].function.arguments`,
            ),
          });
        push("assistant", blocks.length ? blocks : [{ type: "text", text: "" }]);
        return;
      }
      case "tool":
        if (!message.tool_call_id)
          throw new UnsupportedRequest(`${path}.tool_call_id`, "a tool message needs tool_call_id");
        push("user", [
          {
            type: "tool_result",
            tool_use_id: message.tool_call_id,
            content: textOf(message.content, `${path}.content`),
          },
        ]);
        return;
      default:
        throw new UnsupportedRequest(`${path}.role`, `role ${message.role} is not supported`);
    }
  });
  const out: Json = {
    model,
    messages: turns,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? defaultMaxTokens,
  };
  if (system.length) out.system = system.join("\n\n");
  if (req.stream) out.stream = true;
  // Anthropic's temperature tops out at 1.
  if (typeof req.temperature === "number") out.temperature = Math.min(1, req.temperature);
  if (typeof req.top_p === "number") out.top_p = req.top_p;
  if (req.stop !== undefined && req.stop !== null)
    out.stop_sequences = typeof req.stop === "string" ? [req.stop] : req.stop;
  if (req.tools?.length)
    out.tools = req.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: "object", properties: {} },
    }));
  let choice: Json | null = null;
  if (req.tool_choice === "auto") choice = { type: "auto" };
  else if (req.tool_choice === "none") choice = { type: "none" };
  else if (req.tool_choice === "required") choice = { type: "any" };
  else if (req.tool_choice) choice = { type: "tool", name: req.tool_choice.function.name };
  if (req.parallel_tool_calls === false && req.tools?.length)
    choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
  if (choice) out.tool_choice = choice;
  if (req.user) out.metadata = { user_id: req.user };
  if (req.response_format !== undefined && req.response_format !== null) {
    const format = (req.response_format as { type?: string }).type;
    if (format !== "text")
      throw new UnsupportedRequest("response_format", `Anthropic has no ${format} response format`);
  }
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
  if (req.system !== undefined) {
    const system =
      typeof req.system === "string"
        ? req.system
        : req.system
            .map((block, i) => {
              if (block.type !== "text")
                throw new UnsupportedRequest(
                  `system[${i}]`,
                  `a ${block.type} block cannot be a system prompt`,
                );
              return String((block as Block).text ?? "");
            })
            .join("\n\n");
    if (system) messages.push({ role: "system", content: system });
  }
  req.messages.forEach((message, i) => {
    const path = `messages[${i}].content`;
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
    out.tools = req.tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.input_schema ?? { type: "object", properties: {} },
      },
    }));
  const choice = req.tool_choice;
  if (choice) {
    if (choice.type === "auto") out.tool_choice = "auto";
    else if (choice.type === "none") out.tool_choice = "none";
    else if (choice.type === "any") out.tool_choice = "required";
    else if (choice.name) out.tool_choice = { type: "function", function: { name: choice.name } };
    if (choice.disable_parallel_tool_use && req.tools?.length) out.parallel_tool_calls = false;
  }
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  return out as OpenAiChatRequest;
}
