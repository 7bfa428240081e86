import { z } from "zod";
import { JsonObject, JsonValue, NonNegInt, ToolName } from "./primitives";

export const ToolResult = z
  .discriminatedUnion("status", [
    z.object({ status: z.literal("ok"), output: JsonValue }),
    z.object({ status: z.literal("error"), message: z.string().min(1).max(4096) }),
  ])
  .meta({ id: "ToolResult" });
export type ToolResult = z.infer<typeof ToolResult>;

/** One invocation of a tool, with the schemas it was called against. */
export const ToolCall = z
  .object({
    tool_call_id: z.string().min(1).max(128),
    tool: ToolName,
    input_schema: JsonObject.describe("JSON Schema of the input"),
    output_schema: JsonObject.optional().describe("JSON Schema of `result.output` when known"),
    input: JsonValue,
    result: ToolResult.optional().describe("absent while the call runs"),
    duration_ms: NonNegInt.optional(),
  })
  .meta({ id: "ToolCall" });
export type ToolCall = z.infer<typeof ToolCall>;
