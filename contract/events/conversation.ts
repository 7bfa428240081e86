import { z } from "zod";
import { LIMITS, NonNegInt } from "../primitives";

export const MessageRole = z.enum(["user", "assistant", "system", "tool"]);

/** A message added to the run's session (text excerpt; the full tree stays in the session file). */
export const Message = z.object({
  role: MessageRole,
  text: z.string().max(LIMITS.textChars),
  entry_id: z.string().max(128).nullable().describe("the session tree entry holding it"),
  turn: NonNegInt.nullable(),
});

export const TurnStarted = z.object({ turn: NonNegInt });

export const TurnCompleted = z.object({
  turn: NonNegInt,
  tool_calls: NonNegInt,
  stop_reason: z.string().max(64).nullable(),
});

/** The harness compacted the context window. */
export const Compaction = z.object({
  tokens_before: NonNegInt,
  reason: z.string().max(256),
  entry_id: z.string().max(128).nullable(),
});
