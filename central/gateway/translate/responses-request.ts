import type { AnthropicMessagesRequest } from "../dialects/anthropic";
import type { OpenAiResponsesRequest } from "../dialects/openai";
import {
  anthropicTool,
  anthropicTurns,
  applyEffort,
  type Block,
  cacheOf,
  formatOf,
  imageBlock,
  type Json,
  parseArguments,
  UnsupportedRequest,
} from "./requests";
import { unpackThinking } from "./thinking-items";

type Item = Record<string, unknown> & { type?: string };

/**
 * Tools whose calls the Responses caller carries out itself (Codex applies patches and runs
 * local shells; a computer-use client drives its own screen). Every other kind, and any kind
 * OpenAI adds later, is taken to run at OpenAI (web and file search, code interpreter, MCP...).
 */
const CALLER_TOOLS = new Set([
  "function",
  "custom",
  "local_shell",
  "apply_patch",
  "computer",
  "computer_use_preview",
]);

/** Where a request names what lives only at OpenAI, and why that keeps it there. */
export interface KeptAtOpenAi {
  path: string;
  message: string;
}

/**
 * What in a Responses request lives only at OpenAI, or null (plain data, not an error: the
 * response cache asks this of every deterministic Responses call as a predicate): state kept
 * between calls (a stored response to continue or to keep, a conversation, a stored prompt,
 * items referenced by id) and the tools OpenAI runs itself, whose results depend on more than
 * the request. Such a request cannot go to Anthropic (another candidate of the chain may still
 * take it, unchanged), and its answer is never replayed from the response cache
 * (cache/cache-key.ts). A background run the gateway takes nowhere (call/inbound.ts).
 */
export function keptAtOpenAi(req: OpenAiResponsesRequest): KeptAtOpenAi | null {
  if (req.previous_response_id)
    return {
      path: "previous_response_id",
      message: "a stored response exists only at OpenAI; send the whole conversation in `input`",
    };
  if (req.store === true)
    return { path: "store", message: "Anthropic stores no responses; send `store: false`" };
  for (const field of ["conversation", "prompt"] as const)
    if (req[field] !== undefined && req[field] !== null)
      return { path: field, message: `\`${field}\` is kept by OpenAI; Anthropic has none` };
  const items = Array.isArray(req.input) ? (req.input as Item[]) : [];
  const reference = items.findIndex((item) => item?.type === "item_reference");
  if (reference >= 0)
    return {
      path: `input[${reference}]`,
      message: "an item_reference points at a response stored at OpenAI",
    };
  const tools = (req.tools ?? []) as Item[];
  const hosted = tools.findIndex((tool) => !CALLER_TOOLS.has(String(tool?.type)));
  if (hosted >= 0)
    return {
      path: `tools[${hosted}]`,
      message: `${tools[hosted]!.type} is a tool OpenAI runs itself; Anthropic cannot run it`,
    };
  return null;
}

type Part = Json & { type?: string };

/** A message's content (string or parts) as Anthropic blocks. */
function contentBlocks(content: unknown, role: string, path: string): Block[] {
  if (typeof content === "string") return content ? [{ type: "text", text: content }] : [];
  if (!Array.isArray(content))
    throw new UnsupportedRequest(path, "content must be a string or a list of parts");
  return content.map((part: Part | null, i) => {
    const at = `${path}[${i}]`;
    if (typeof part !== "object" || part === null)
      throw new UnsupportedRequest(at, "a content part must be an object");
    switch (part.type) {
      case "input_text":
      case "output_text":
        return { type: "text", text: String(part.text ?? ""), ...cacheOf(part) };
      case "refusal":
        return { type: "text", text: String(part.refusal ?? "") };
      case "input_image": {
        if (role === "assistant")
          throw new UnsupportedRequest(at, "Anthropic takes no images from the assistant");
        if (typeof part.image_url !== "string")
          throw new UnsupportedRequest(
            at,
            "images must be https URLs or base64 data URLs (file ids live at OpenAI)",
          );
        return { ...imageBlock(part.image_url, at), ...cacheOf(part) };
      }
      default:
        throw new UnsupportedRequest(at, `Anthropic takes no ${part.type} parts`);
    }
  });
}

/** A function call's output: text, or text and images (Anthropic tool results take both). */
function toolResultContent(output: unknown, path: string): string | Block[] {
  if (typeof output === "string") return output;
  return contentBlocks(output, "user", path);
}

/**
 * OpenAI caches a conversation's prefix by itself; Anthropic caches up to a block marked
 * `cache_control`. A Responses client (Codex) sends the whole conversation again every turn,
 * so the last block is marked and each turn reads the one before from the cache (a prefix
 * under Anthropic's minimum is simply not cached). A caller that placed its own marks keeps
 * just those (Anthropic takes at most four).
 */
function markCachePoint(system: Block[], turns: { content: Block[] }[], tools: Item[]): void {
  const blocks = [...system, ...turns.flatMap((turn) => turn.content)];
  if ([...blocks, ...tools].some((block) => block.cache_control != null)) return;
  const last = turns
    .at(-1)!
    .content.findLast((block) => block.type !== "thinking" && block.type !== "redacted_thinking");
  if (last) last.cache_control = { type: "ephemeral" };
}

/** Which Responses tool choices Anthropic can express, and how. */
function toolChoiceOf(
  picked: OpenAiResponsesRequest["tool_choice"],
  tools: Item[],
): { choice: Json | null; tools: Item[] } {
  if (picked === undefined) return { choice: null, tools };
  if (picked === "auto") return { choice: { type: "auto" }, tools };
  if (picked === "none") return { choice: { type: "none" }, tools };
  if (picked === "required") return { choice: { type: "any" }, tools };
  if (typeof picked === "object" && picked.type === "function" && typeof picked.name === "string")
    return { choice: { type: "tool", name: picked.name }, tools };
  if (
    typeof picked === "object" &&
    picked.type === "allowed_tools" &&
    Array.isArray(picked.tools)
  ) {
    // Anthropic has no allow-list beside the tool list: the list itself is narrowed.
    const names = new Set(picked.tools.map((tool: Item | null) => String(tool?.name ?? "")));
    return {
      choice: { type: picked.mode === "required" ? "any" : "auto" },
      tools: tools.filter((tool) => names.has(String(tool.name ?? ""))),
    };
  }
  const type = typeof picked === "string" ? picked : picked.type;
  throw new UnsupportedRequest("tool_choice", `Anthropic cannot be made to pick a ${type} tool`);
}

/**
 * OpenAI Responses → Anthropic Messages, for a stateless request (the whole conversation in
 * `input`). `instructions` and system/developer messages become `system`; `function_call`
 * items become `tool_use` blocks and `function_call_output` items `tool_result` blocks;
 * reasoning items that carry Claude's thinking (thinking-items.ts) become thinking blocks again,
 * others (OpenAI's) are not portable and are left out; consecutive turns of one role merge.
 * Function tools, tool_choice, `max_output_tokens`, sampling, `reasoning.effort` (as chat's
 * `reasoning_effort`) and a `json_schema` text format map as in chat; what Anthropic cannot do
 * (stored state, OpenAI's built-in tools, other item kinds) is refused naming the field.
 */
export function responsesToAnthropic(
  req: OpenAiResponsesRequest,
  model: string,
  defaultMaxTokens: number,
): AnthropicMessagesRequest {
  const kept = keptAtOpenAi(req);
  if (kept) throw new UnsupportedRequest(kept.path, kept.message);
  const system: Block[] = req.instructions ? [{ type: "text", text: req.instructions }] : [];
  const { turns, push } = anthropicTurns();
  const input: Item[] =
    typeof req.input === "string"
      ? [{ type: "message", role: "user", content: req.input }]
      : ((req.input ?? []) as Item[]);
  input.forEach((item, i) => {
    const path = `input[${i}]`;
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    switch (type) {
      case "message": {
        const role = String(item.role);
        const blocks = contentBlocks(item.content, role, `${path}.content`);
        if (role === "system" || role === "developer") system.push(...blocks);
        else if (role === "user" || role === "assistant")
          push(
            role,
            role === "assistant"
              ? blocks.filter((b) => b.type !== "text" || b.text !== "")
              : blocks,
          );
        else throw new UnsupportedRequest(`${path}.role`, `role ${role} is not supported`);
        return;
      }
      case "function_call": {
        if (typeof item.call_id !== "string" || typeof item.name !== "string")
          throw new UnsupportedRequest(path, "a function_call needs call_id and name");
        push("assistant", [
          {
            type: "tool_use",
            id: item.call_id,
            name: item.name,
            input: parseArguments(String(item.arguments ?? ""), `${path}.arguments`),
          },
        ]);
        return;
      }
      case "function_call_output": {
        if (typeof item.call_id !== "string")
          throw new UnsupportedRequest(`${path}.call_id`, "a function_call_output needs call_id");
        push("user", [
          {
            type: "tool_result",
            tool_use_id: item.call_id,
            content: toolResultContent(item.output, `${path}.output`),
          },
        ]);
        return;
      }
      case "reasoning": {
        const thinking = unpackThinking(item.encrypted_content);
        if (thinking) push("assistant", [thinking]);
        return;
      }
      default:
        throw new UnsupportedRequest(path, `Anthropic takes no ${type ?? "untyped"} items`);
    }
  });
  if (turns.length === 0)
    throw new UnsupportedRequest("input", "Anthropic needs at least one user or assistant turn");
  markCachePoint(system, turns, (req.tools ?? []) as Item[]);
  const out: Json = {
    model,
    messages: turns,
    max_tokens: req.max_output_tokens ?? defaultMaxTokens,
  };
  if (system.length) out.system = system;
  if (req.stream) out.stream = true;
  // Anthropic's temperature tops out at 1.
  if (typeof req.temperature === "number") out.temperature = Math.min(1, req.temperature);
  if (typeof req.top_p === "number") out.top_p = req.top_p;
  const offered = (req.tools ?? []) as Item[];
  offered.forEach((tool, i) => {
    if (tool.type !== "function")
      throw new UnsupportedRequest(
        `tools[${i}]`,
        `Anthropic takes function tools, not ${tool.type}`,
      );
    if (typeof tool.name !== "string" || !tool.name)
      throw new UnsupportedRequest(`tools[${i}].name`, "a function tool needs a name");
  });
  const { choice, tools } = toolChoiceOf(req.tool_choice, offered);
  if (tools.length)
    out.tools = tools.map((tool) =>
      anthropicTool(
        tool as { name: string; description?: string | null; parameters?: unknown },
        tool,
      ),
    );
  const chosen =
    req.parallel_tool_calls === false && tools.length
      ? { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true }
      : choice;
  if (chosen) out.tool_choice = chosen;
  const user = req.user ?? req.safety_identifier;
  if (typeof user === "string" && user) out.metadata = { user_id: user };
  applyEffort(out, req.reasoning?.effort, "reasoning.effort");
  const format = formatOf(req.text?.format as { type: string; schema?: unknown }, "text.format");
  if (format) out.output_config = { format };
  return out as AnthropicMessagesRequest;
}
