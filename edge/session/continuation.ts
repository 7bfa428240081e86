import type { AgentMessage } from "@earendil-works/pi-agent-core";
import type { ToolResultMessage } from "@earendil-works/pi-ai";
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

export const INTERRUPTED_TEXT =
  "interrupted: the edge agent stopped before this tool call finished. It may or may not have taken effect; check before repeating it.";

/**
 * Makes a session restored from disk fit to continue, the way pi's own retry does: a trailing
 * failed or aborted model answer is dropped from the context (it stays in the session file),
 * and tool calls of the last answer that never got a result get an explicit "interrupted"
 * result, so the model is never shown calls without outcomes. Returns the repaired calls.
 */
export function repairTranscript(session: AgentSession): InterruptedCall[] {
  let messages = session.agent.state.messages;
  while (isFailedAnswer(messages.at(-1))) messages = messages.slice(0, -1);
  const lastAssistant = findLastIndex(messages, (m) => m.role === "assistant");
  const repaired: InterruptedCall[] = [];
  if (lastAssistant >= 0) {
    const answer = messages[lastAssistant]!;
    if (answer.role === "assistant") {
      const answered = new Set(
        messages
          .slice(lastAssistant + 1)
          .filter((m): m is ToolResultMessage => m.role === "toolResult")
          .map((m) => m.toolCallId),
      );
      for (const call of answer.content) {
        if (call.type !== "toolCall" || answered.has(call.id)) continue;
        const message: ToolResultMessage = {
          role: "toolResult",
          toolCallId: call.id,
          toolName: call.name,
          content: [{ type: "text", text: INTERRUPTED_TEXT }],
          details: {},
          isError: true,
          timestamp: Date.now(),
        };
        const entryId = session.sessionManager.appendMessage(message);
        messages = [...messages, message];
        repaired.push({ toolCallId: call.id, tool: call.name, entryId, message });
      }
    }
  }
  session.agent.state.messages = messages;
  return repaired;
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
