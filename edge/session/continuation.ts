import type { AgentMessage } from "@earendil-works/pi-agent-core";
import type { ToolCall, ToolResultMessage } from "@earendil-works/pi-ai";
import type { AgentSession } from "@earendil-works/pi-coding-agent";
import { messageText } from "../events/message-text";

/** How a restored session goes on. */
export type Continuation =
  /** Nothing to build on: send the intent's prompt. */
  | { kind: "prompt" }
  /** The transcript ends with input for the model: let it answer. */
  | { kind: "continue" }
  /** The transcript already ends with the final answer (the agent died before reporting it). */
  | { kind: "done"; result: string };

export interface InterruptedCall {
  toolCallId: string;
  tool: string;
  entryId: string;
  message: ToolResultMessage;
}

/** A tool call the model made that never got a result: the agent stopped while it ran. */
export interface PendingCall {
  toolCallId: string;
  tool: string;
  args: Record<string, unknown>;
}

export const INTERRUPTED_TEXT =
  "interrupted: the edge agent stopped before this tool call finished. It may or may not have taken effect; check before repeating it.";

/** The interrupted result's text, with what was done about the call's remote work, if anything. */
export function interruptedText(note?: string): string {
  return note ? `${INTERRUPTED_TEXT} ${note}` : INTERRUPTED_TEXT;
}

/** The tool calls of a restored transcript's last answer that have no result. */
export function pendingCalls(session: AgentSession): PendingCall[] {
  return unanswered(session.agent.state.messages).calls.map((call) => ({
    toolCallId: call.id,
    tool: call.name,
    args: call.arguments,
  }));
}

/**
 * Makes a session restored from disk fit to continue, the way pi's own retry does: a trailing
 * failed or aborted model answer is dropped from the context (it stays in the session file),
 * and tool calls of the last answer that never got a result get an explicit "interrupted"
 * result, so the model is never shown calls without outcomes. `notes` (by tool call id) say
 * what was done about a call's remote work. Returns the repaired calls.
 */
export function repairTranscript(
  session: AgentSession,
  notes: ReadonlyMap<string, string> = new Map(),
): InterruptedCall[] {
  let { messages, calls } = unanswered(session.agent.state.messages);
  const repaired: InterruptedCall[] = [];
  for (const call of calls) {
    const message: ToolResultMessage = {
      role: "toolResult",
      toolCallId: call.id,
      toolName: call.name,
      content: [{ type: "text", text: interruptedText(notes.get(call.id)) }],
      details: {},
      isError: true,
      timestamp: Date.now(),
    };
    const entryId = session.sessionManager.appendMessage(message);
    messages = [...messages, message];
    repaired.push({ toolCallId: call.id, tool: call.name, entryId, message });
  }
  session.agent.state.messages = messages;
  return repaired;
}

/** The transcript without trailing failed answers, and the last answer's calls without results. */
function unanswered(all: AgentMessage[]): { messages: AgentMessage[]; calls: ToolCall[] } {
  let messages = all;
  while (isFailedAnswer(messages.at(-1))) messages = messages.slice(0, -1);
  const lastAssistant = findLastIndex(messages, (m) => m.role === "assistant");
  const answer = lastAssistant >= 0 ? messages[lastAssistant] : undefined;
  if (answer?.role !== "assistant") return { messages, calls: [] };
  const answered = new Set(
    messages
      .slice(lastAssistant + 1)
      .filter((m): m is ToolResultMessage => m.role === "toolResult")
      .map((m) => m.toolCallId),
  );
  const calls = answer.content.filter(
    (c): c is ToolCall => c.type === "toolCall" && !answered.has(c.id),
  );
  return { messages, calls };
}

/** What to do with a repaired transcript. */
export function continuationOf(messages: readonly AgentMessage[]): Continuation {
  const last = messages.at(-1);
  if (!last) return { kind: "prompt" };
  if (last.role === "assistant") {
    if (last.content.some((c) => c.type === "toolCall")) return { kind: "continue" };
    return { kind: "done", result: messageText(last) };
  }
  if (last.role === "user" || last.role === "toolResult" || last.role === "custom")
    return { kind: "continue" };
  return { kind: "prompt" };
}

function isFailedAnswer(message: AgentMessage | undefined): boolean {
  return (
    message?.role === "assistant" &&
    (message.stopReason === "aborted" || message.stopReason === "error")
  );
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}
