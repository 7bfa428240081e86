import type { AgentMessage } from "@earendil-works/pi-agent-core";
import type { EventPayload } from "../../contract";

type Role = EventPayload<"message">["role"];

/** The contract role of a pi message, or null for pi-internal kinds the log does not carry. */
export function contractRole(message: AgentMessage): Role | null {
  switch (message.role) {
    case "user":
      return "user";
    case "assistant":
      return "assistant";
    case "toolResult":
      return "tool";
    case "custom":
      return "system";
    default:
      return null;
  }
}

/** The readable text of a message: text blocks joined, no thinking, no images. */
export function messageText(message: AgentMessage): string {
  const content = (message as { content?: unknown }).content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((b): b is { type: "text"; text: string } => b?.type === "text")
    .map((b) => b.text)
    .join("\n");
}
