import { z } from "zod";
import { AppName, ToolName } from "./primitives";

/**
 * A platform agent's capability, packaged as a pi Skill (a folder with SKILL.md and scripts).
 * `name` follows pi's skill naming rules so the same value names the folder.
 */
export const Skill = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/,
        "lowercase letters, digits and '-', max 64 chars",
      ),
    description: z.string().min(1).max(1024),
    app: AppName,
    tools: z.array(ToolName).max(128).default([]),
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, "a semantic version, e.g. 1.2.0"),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "JSON Schema of the params an intent for this skill takes; planners are shown it and plans are checked against it",
      ),
  })
  .meta({ id: "Skill" });
export type Skill = z.infer<typeof Skill>;
