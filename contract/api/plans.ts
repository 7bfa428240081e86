import { z } from "zod";
import { ApprovalStatus, PlanStatus } from "../machines/plan";
import { Approval, Plan } from "../plans/plan";
import { PlanId, queryInt, Timestamp, Usage } from "../primitives";

/** Answer to `POST /v1/plans` (201 new, 200 when the idempotency key matched an earlier one). */
export const PlanAccepted = z
  .object({ plan: Plan, duplicate: z.boolean() })
  .meta({ id: "PlanAccepted" });
export type PlanAccepted = z.infer<typeof PlanAccepted>;

/** One plan in a list: what it is after and how far it got, without its steps. */
export const PlanSummary = z
  .object({
    plan_id: PlanId,
    goal: z.string(),
    planner: Plan.shape.planner,
    status: PlanStatus,
    version: z.number().int().min(0),
    steps: z.number().int().min(0),
    steps_completed: z.number().int().min(0),
    usage: Usage,
    created_by: z.string(),
    created_at: Timestamp,
    finished_at: Timestamp.nullable(),
  })
  .meta({ id: "PlanSummary" });
export type PlanSummary = z.infer<typeof PlanSummary>;

/** `GET /v1/plans`, newest first; pass `next` as `before` for the next page. */
export const PlanList = z
  .object({ plans: z.array(PlanSummary), next: z.string().nullable() })
  .meta({ id: "PlanList" });
export type PlanList = z.infer<typeof PlanList>;

/** Query of `GET /v1/plans`. */
export const PlansQuery = z.strictObject({
  status: PlanStatus.optional(),
  limit: queryInt(1, 500).default(50),
  /** The `next` of the previous page. */
  before: PlanId.optional(),
});
export type PlansQuery = z.output<typeof PlansQuery>;

/** Body of `POST /v1/plans/{id}/cancel|pause|resume` (may be empty). */
export const PlanActionRequest = z
  .strictObject({ reason: z.string().min(1).max(1024).optional() })
  .meta({ id: "PlanActionRequest" });
export type PlanActionRequest = z.infer<typeof PlanActionRequest>;

/** `GET /v1/approvals`: approvals of this tenant's plans, newest first. */
export const ApprovalList = z
  .object({ approvals: z.array(Approval), next: z.string().nullable() })
  .meta({ id: "ApprovalList" });
export type ApprovalList = z.infer<typeof ApprovalList>;

/** Query of `GET /v1/approvals` (default: the pending ones). */
export const ApprovalsQuery = z.strictObject({
  status: ApprovalStatus.default("pending"),
  plan: PlanId.optional(),
  limit: queryInt(1, 500).default(50),
  before: z.string().min(1).max(128).optional(),
});
export type ApprovalsQuery = z.output<typeof ApprovalsQuery>;

/** Body of `POST /v1/approvals/{id}/approve|reject`. */
export const ApprovalDecision = z
  .strictObject({ reason: z.string().min(1).max(1024).optional() })
  .meta({ id: "ApprovalDecision" });
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;
