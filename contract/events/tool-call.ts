import { z } from "zod";
import { LIMITS, NonNegInt, ToolName } from "../primitives";

export const ToolType = z.enum(["function", "extension", "datastore"]);

/** Maps onto the OTel `execute_tool` span start. */
export const ToolCallStarted = z.object({
  tool_call_id: z.string().min(1).max(128),
  tool: ToolName,
  tool_type: ToolType.default("function"),
  arguments: z.string().max(LIMITS.toolPayloadChars).describe("JSON-encoded arguments (excerpt)"),
  args_digest: z
    .string()
    .regex(/^[0-9a-f]{16,64}$/)
    .describe("hex digest of the canonical arguments"),
});

export const ToolCallProgress = z.object({
  tool_call_id: z.string().min(1).max(128),
  tool: ToolName,
  partial: z.string().max(LIMITS.toolPayloadChars),
});

/** Maps onto the OTel `execute_tool` span end. `blocked` means a policy refused it. */
export const ToolCallFinished = z.object({
  tool_call_id: z.string().min(1).max(128),
  tool: ToolName,
  status: z.enum(["ok", "error", "blocked"]),
  result: z.string().max(LIMITS.toolPayloadChars).nullable().describe("output excerpt"),
  error_message: z.string().max(4096).nullable(),
  error_type: z.string().max(100).nullable(),
  duration_ms: NonNegInt,
  blocked_by: z.string().max(100).nullable().describe("policy rule id when blocked"),
});
