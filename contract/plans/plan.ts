import { z } from "zod";
import { BudgetLimits, IntentType, Target } from "../intent";
import { ApprovalStatus, PlanStatus, StepStatus } from "../machines/plan";
import {
  emptyUsage,
  IntentId,
  JsonObject,
  NonNegInt,
  NonNegNumber,
  PlanId,
  RunId,
  TenantId,
  Timestamp,
  Usage,
} from "../primitives";
import { RunError } from "../run-state";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const StepId = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,63}$/,
    "lowercase letters, digits, '_' and '-', starting with a letter",
  )
  .meta({ id: "StepId" });

/** Where a step's param comes from: an earlier step's result, or a part of it. */
export const StepInput = z
  .strictObject({
    step: StepId,
    path: z
      .string()
      .regex(/^(\/[^/]*)*$/, "a JSON pointer such as /summary/0")
      .max(256)
      .optional()
      .describe("a JSON pointer into the step's result read as JSON; absent: the result text"),
  })
  .meta({ id: "StepInput" });
export type StepInput = z.infer<typeof StepInput>;

/**
 * One step as a planner (or a client) writes it: an intent template (type, params, targets by
 * app, skill or capability), the steps it waits for, and the params it takes from their results.
 */
export const PlanStepSpec = z
  .strictObject({
    id: StepId,
    title: z.string().min(1).max(200).optional(),
    type: IntentType.default("task"),
    params: JsonObject.default({}),
    targets: z.array(Target).min(1).max(8),
    depends_on: z.array(StepId).max(64).default([]),
    inputs: z
      .record(z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, "a param name"), StepInput)
      .default({})
      .describe("params filled from earlier steps' results when the step starts"),
    budget: BudgetLimits.optional(),
    max_attempts: z.number().int().min(1).max(10).default(2),
    requires_approval: z.boolean().default(false),
    action: z
      .string()
      .max(512)
      .optional()
      .describe("the PDDL ground action this step performs, e.g. (move r1 a b)"),
  })
  .meta({ id: "PlanStepSpec" });
export type PlanStepSpec = z.output<typeof PlanStepSpec>;

export const PlanSpec = z
  .strictObject({ steps: z.array(PlanStepSpec).min(1).max(500) })
  .meta({ id: "PlanSpec" });
export type PlanSpec = z.output<typeof PlanSpec>;

export const PlanPolicy = z
  .strictObject({
    approve_before_start: z.boolean().default(false),
    approval_timeout_ms: z
      .number()
      .int()
      .min(1_000)
      .max(30 * DAY)
      .nullable()
      .default(null)
      .describe("an approval undecided this long expires (as a rejection); null: no deadline"),
    max_replans: z.number().int().min(0).max(20).default(2),
    on_reject: z
      .enum(["fail", "replan"])
      .default("fail")
      .describe("what a rejected step does to the plan"),
    max_parallel: z.number().int().min(1).max(100).default(8),
    planning_attempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe("tries per planning round; each retry is told why the last plan was refused"),
  })
  .meta({ id: "PlanPolicy" });
export type PlanPolicy = z.output<typeof PlanPolicy>;

/** Limits over the whole plan: its planning calls and every run of its steps. */
export const PlanBudget = z
  .strictObject({
    max_tokens: NonNegInt.optional(),
    max_cost_usd: z.number().nonnegative().optional(),
    max_wall_ms: z
      .number()
      .int()
      .positive()
      .max(30 * DAY)
      .optional(),
  })
  .meta({ id: "PlanBudget" });
export type PlanBudget = z.output<typeof PlanBudget>;

export const PddlProblem = z
  .strictObject({
    problem: z.string().min(1).max(262_144).describe("a PDDL problem over the fleet's domain"),
    optimal: z.boolean().default(false),
  })
  .meta({ id: "PddlProblem" });

/** `POST /v1/plans`. */
export const PlanRequest = z
  .strictObject({
    goal: z.string().min(1).max(8_192),
    context: JsonObject.optional(),
    planner: z
      .enum(["model", "pddl", "given"])
      .default("model")
      .describe(
        "model: central's model plans from the fleet's skills; pddl: the PDDL planner; given: `steps` as written",
      ),
    steps: z.array(PlanStepSpec).min(1).max(500).optional(),
    pddl: PddlProblem.optional(),
    model: z
      .string()
      .min(1)
      .max(200)
      .default("auto")
      .describe("the gateway model central plans with"),
    policy: PlanPolicy.prefault({}),
    budget: PlanBudget.prefault({}),
    idempotency_key: z.string().min(1).max(200).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.planner === "given" && !r.steps)
      ctx.addIssue({ code: "custom", path: ["steps"], message: "planner `given` needs steps" });
    if (r.planner !== "given" && r.steps)
      ctx.addIssue({
        code: "custom",
        path: ["steps"],
        message: "steps are only for planner `given`",
      });
    if (r.planner === "pddl" && !r.pddl)
      ctx.addIssue({ code: "custom", path: ["pddl"], message: "planner `pddl` needs a problem" });
  })
  .meta({ id: "PlanRequest" });
export type PlanRequest = z.output<typeof PlanRequest>;

export const Approval = z
  .object({
    approval_id: z.string().min(1).max(128),
    plan_id: PlanId,
    step_id: StepId.nullable().describe("null: the whole plan, before it starts"),
    status: ApprovalStatus,
    requested_at: Timestamp,
    deadline: Timestamp.nullable(),
    decided_by: z.string().max(200).nullable(),
    decided_at: Timestamp.nullable(),
    reason: z.string().max(1024).nullable(),
  })
  .meta({ id: "Approval" });
export type Approval = z.infer<typeof Approval>;

/** What a plan's USD budget counts of a run or of its planning, whose usage may show no total. */
const PricedUsd = NonNegNumber.optional().describe(
  "the USD of the priced calls alone: a plan's USD budget counts it when some calls had no price (usage.cost_usd is then null)",
);

/** One attempt of a step: the run it became. */
export const StepRun = z.object({
  run_id: RunId,
  intent_id: IntentId,
  attempt: z.number().int().min(1),
  status: z.string().max(32),
  usage: Usage,
  priced_usd: PricedUsd,
});
export type StepRun = z.infer<typeof StepRun>;

export const PlanStep = PlanStepSpec.extend({
  version: z.number().int().min(1).describe("the plan version that made this step"),
  status: StepStatus,
  attempt: NonNegInt,
  runs: z.array(StepRun).max(20),
  result: z.string().max(32_768).nullable(),
  error: RunError.nullable(),
  approval: Approval.nullable(),
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
}).meta({ id: "PlanStep" });
export type PlanStep = z.infer<typeof PlanStep>;

/** A version of the plan's steps a replan replaced, kept as history. */
export const PlanVersion = z
  .object({
    version: z.number().int().min(1),
    reason: z.string().max(4096),
    replaced_at: Timestamp,
    steps: z.array(PlanStep),
  })
  .meta({ id: "PlanVersion" });

/** A plan as central keeps and shows it; its status and every step's are contract machines. */
export const Plan = z
  .object({
    plan_id: PlanId,
    tenant: TenantId,
    goal: z.string(),
    context: JsonObject.nullable(),
    planner: z.enum(["model", "pddl", "given"]),
    model: z.string(),
    pddl: PddlProblem.nullable(),
    status: PlanStatus,
    version: NonNegInt.describe("0 until the first plan is made"),
    steps: z.array(PlanStep),
    history: z.array(PlanVersion),
    policy: PlanPolicy,
    budget: PlanBudget,
    approval: Approval.nullable(),
    planning: z.object({
      round: z.enum(["initial", "repair"]),
      attempts: NonNegInt.describe("tries in the current planning round"),
      replans: NonNegInt,
      feedback: z.string().max(8_192).nullable().describe("why the last plan was refused"),
      usage: Usage.describe("the planning calls' consumption"),
      priced_usd: PricedUsd,
    }),
    usage: Usage.describe("planning calls plus every run of every step"),
    error: RunError.nullable(),
    created_by: z.string(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    deadline: Timestamp.nullable().describe("created_at + budget.max_wall_ms"),
    paused_by: z.string().nullable(),
    event_seq: NonNegInt.describe("events emitted about the plan so far: the seq of the next"),
  })
  .meta({ id: "Plan" });
export type Plan = z.infer<typeof Plan>;

/** A plan central has just accepted: nothing planned yet. */
export function newPlan(input: {
  plan_id: string;
  tenant: string;
  request: PlanRequest;
  principal: string;
  now: number;
}): Plan {
  const { request, now } = input;
  const wall = request.budget.max_wall_ms;
  return {
    plan_id: input.plan_id,
    tenant: input.tenant,
    goal: request.goal,
    context: request.context ?? null,
    planner: request.planner,
    model: request.model,
    pddl: request.pddl ?? null,
    status: "planning",
    version: 0,
    steps: [],
    history: [],
    policy: request.policy,
    budget: request.budget,
    approval: null,
    planning: { round: "initial", attempts: 0, replans: 0, feedback: null, usage: emptyUsage() },
    usage: emptyUsage(),
    error: null,
    created_by: input.principal,
    created_at: new Date(now).toISOString(),
    started_at: null,
    finished_at: null,
    deadline: wall === undefined ? null : new Date(now + wall).toISOString(),
    paused_by: null,
    event_seq: 0,
  };
}
