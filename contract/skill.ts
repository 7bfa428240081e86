import { z } from "zod";
import { PddlError, readDomain } from "./pddl";
import { AppName, ToolName } from "./primitives";

/** Longest PDDL domain one skill may declare (it travels in the agent's `hello`). */
export const SKILL_PDDL_MAX_CHARS = 16_384;

/**
 * The PDDL actions a skill offers to central's planner: a whole PDDL domain (the app folder's
 * `skills/<name>/domain.pddl`), so it can be tried alone with any planner. Checked here with
 * the same reader the planner uses: unsupported requirements and bad PDDL are refused at the
 * boundary with their line and column.
 */
export const SkillPddl = z
  .string()
  .min(1)
  .max(SKILL_PDDL_MAX_CHARS)
  .superRefine((text, ctx) => {
    try {
      readDomain(text);
    } catch (error) {
      if (!(error instanceof PddlError)) throw error;
      ctx.addIssue({ code: "custom", message: `PDDL domain: ${error.message}` });
    }
  })
  .meta({
    id: "SkillPddl",
    description:
      "A PDDL domain (STRIPS, :typing, :negative-preconditions, :equality, :action-costs) whose actions this skill performs.",
  });

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
    pddl: SkillPddl.optional(),
  })
  .meta({ id: "Skill" });
export type Skill = z.infer<typeof Skill>;
