import { z } from "zod";
import { AppName, BudgetLimits, TenantSecretName, ToolPattern } from "../../contract";

const RegexSource = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  });

export const ShellDenyRule = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, "a snake_case id"),
  pattern: RegexSource,
  reason: z.string().min(1).max(256),
});

export const LoopSettings = z
  .strictObject({
    /** Identical calls (same tool, arguments and result) before the agent is steered. */
    repeat_threshold: z.number().int().min(2).max(100).default(4),
    /** Identical calls that failed every time before the agent is steered. */
    failing_threshold: z.number().int().min(2).max(100).default(3),
    /** Further identical calls after the steer before the run is stopped. */
    stop_after: z.number().int().min(1).max(100).default(2),
    /** How many recent calls are compared. */
    window: z.number().int().min(4).max(1000).default(30),
  })
  .superRefine((loop, ctx) => {
    // A window too short to hold the steer and the calls after it would never stop a loop.
    const threshold =
      loop.failing_threshold > loop.repeat_threshold ? "failing_threshold" : "repeat_threshold";
    const needed = loop[threshold] + loop.stop_after;
    if (loop.window < needed)
      ctx.addIssue({
        code: "custom",
        path: ["window"],
        message: `window (${loop.window}) must be at least ${threshold} + stop_after (${loop[threshold]} + ${loop.stop_after} = ${needed}), or a steered loop is never stopped`,
      });
  });
export type LoopSettings = z.infer<typeof LoopSettings>;

export const AppPolicy = z.strictObject({
  /** Tools this app may use at all; an intent's allow-list narrows it further. */
  allowed_tools: z.array(ToolPattern).max(256).optional(),
  /** Ceilings per dimension: a run gets the lower of this and its intent's limit. */
  budget: BudgetLimits.default({}),
  /** Extra directories file tools may read (relative to the app folder). */
  read_paths: z.array(z.string().min(1)).max(64).default([]),
  shell: z
    .strictObject({
      builtin_deny: z.boolean().default(true),
      deny: z.array(ShellDenyRule).max(256).default([]),
      /** When set, every shell command must match one of these. */
      allow: z.array(RegexSource).max(256).optional(),
    })
    .default({ builtin_deny: true, deny: [] }),
  /** Shell commands run at most this long; null leaves pi's default (no timeout). */
  max_bash_timeout_s: z.number().int().positive().nullable().default(600),
  loop: LoopSettings.default(LoopSettings.parse({})),
});
export type AppPolicy = z.infer<typeof AppPolicy>;

/** `<app>/app.json`: everything optional; an absent file means all defaults. */
export const AppConfig = z
  .strictObject({
    app: AppName.optional().describe("must match --app when given"),
    description: z.string().max(1024).optional(),
    capabilities: z.array(z.string().min(1).max(64)).max(64).default([]),
    max_concurrency: z.number().int().min(1).max(64).default(1),
    /** provider/model for this app's runs, unless --model says otherwise. */
    model: z
      .string()
      .regex(/^[^/\s]+\/\S+$/, "provider/model")
      .optional(),
    /** A folder (relative to the app folder) copied into a new or empty workdir. */
    workdir_seed: z.string().min(1).max(1024).optional(),
    /** Appended to the system prompt of every run. */
    instructions: z.string().max(32_768).optional(),
    policy: AppPolicy.default(AppPolicy.parse({})),
    /**
     * Tenant secrets (`auraison secrets set`) this app's adapters reference as `${NAME}`: central
     * hands them to the agent for each run it claims, and they resolve before the environment.
     */
    secrets: z.array(TenantSecretName).max(64).default([]),
  })
  .meta({ id: "EdgeAppConfig" });
export type AppConfig = z.infer<typeof AppConfig>;
