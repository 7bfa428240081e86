import { z } from "zod";
import { JsonObject, ToolName } from "../../contract";
import { isHttpUrl, withoutReferences } from "./references";

/** The pieces every adapter declaration shares, so each kind reads and fails the same way. */

export const AdapterName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lowercase letters, digits, '_' and '-'");

export const TimeoutMs = z.number().int().positive().max(86_400_000);

export const ToolDescription = z.string().min(1).max(1024);

/** JSON Schema of a tool's arguments. */
export const InputSchema = JsonObject;

/** The fields of one declared tool. */
export const DeclaredTool = {
  tool: ToolName,
  description: ToolDescription,
};

/** Adds an issue for each tool name declared twice in `tools` (the field named `field`). */
export function uniqueTools(
  tools: readonly { tool: string }[],
  ctx: z.RefinementCtx,
  field = "tools",
): void {
  const seen = new Set<string>();
  tools.forEach((t, i) => {
    if (seen.has(t.tool))
      ctx.addIssue({ code: "custom", path: [field, i, "tool"], message: "duplicate tool" });
    seen.add(t.tool);
  });
}

/**
 * An http(s) URL that may hold `${NAME}` references (`http://${VLLM_HOST:-127.0.0.1:8000}/v1`);
 * the adapter resolves them with `resolveUrl`, which checks the result again.
 */
export const HttpUrl = z
  .string()
  .max(2048)
  .refine((v) => isHttpUrl(withoutReferences(v)), "an http:// or https:// URL");
