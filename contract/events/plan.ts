import { z } from "zod";
import { ApprovalStatus, PlanStatus, StepStatus } from "../machines/plan";
import { NonNegInt, PlanId, RunId, Timestamp, Usage } from "../primitives";
import { RunError } from "../run-state";

const StepId = z.string().min(1).max(64);

/** A plan changed status (emitted by central; `run_id` is null, the plan is in the payload). */
export const PlanStatusEvent = z.object({
  plan_id: PlanId,
  status: PlanStatus,
  version: NonNegInt,
  reason: z.string().max(1024),
  error: RunError.nullable(),
  usage: Usage.describe("the plan's consumption so far: planning calls and every run"),
});

/** A version of the plan's steps was made: the first, or a repair replacing the steps not done. */
export const PlanVersionEvent = z.object({
  plan_id: PlanId,
  version: z.number().int().min(1),
  round: z.enum(["initial", "repair"]),
  planner: z.enum(["model", "pddl", "given"]),
  solver: z
    .enum(["central", "external"])
    .nullable()
    .optional()
    .describe("a PDDL plan's solver: central's own, or the configured external planner"),
  note: z
    .string()
    .max(2048)
    .nullable()
    .optional()
    .describe("how the plan was made, e.g. why the external planner's plan was not used"),
  steps: z
    .array(
      z.object({
        id: StepId,
        type: z.string().max(128),
        targets: z
          .array(z.string().max(256))
          .describe("each target in words, e.g. `app turtlebot-maze, skill navigate`"),
        depends_on: z.array(StepId),
        action: z.string().max(512).nullable(),
        requires_approval: z.boolean(),
      }),
    )
    .max(500),
});

/** A step changed status. */
export const PlanStepEvent = z.object({
  plan_id: PlanId,
  step_id: StepId,
  version: z.number().int().min(1),
  status: StepStatus,
  attempt: NonNegInt,
  run_id: RunId.nullable(),
  error: RunError.nullable(),
});

export const ApprovalRequested = z.object({
  approval_id: z.string().min(1).max(128),
  plan_id: PlanId,
  step_id: StepId.nullable().describe("null: the plan as a whole"),
  deadline: Timestamp.nullable(),
});

export const ApprovalDecided = z.object({
  approval_id: z.string().min(1).max(128),
  plan_id: PlanId,
  step_id: StepId.nullable(),
  status: ApprovalStatus,
  by: z.string().max(200).nullable().describe("null when it expired or was withdrawn"),
  reason: z.string().max(1024).nullable(),
});
