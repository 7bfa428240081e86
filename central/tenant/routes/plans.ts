import {
  Approval,
  ApprovalDecision,
  ApprovalList,
  ApprovalsQuery,
  canonicalJson,
  check,
  checkPlanSteps,
  Failure,
  newPlan,
  PATHS,
  Plan,
  PlanAccepted,
  PlanActionRequest,
  PlanId,
  type PlanInput,
  PlanList,
  PlanRequest,
  PlansQuery,
  redact,
  redactString,
  uuidv7,
} from "../../../contract";
import { body, errors, id, json, READERS, WRITERS } from "../../api/route";
import { digestOf } from "../../auth/keys";
import { readQuery } from "../../http/body";
import { notFound } from "../../http/errors";
import { problemError } from "../../plans/planners/pddl";
import { audited, bodyJson, type TenantContextHono, type TenantRoute, tenantRoute } from "./types";

/**
 * The plan's text kept as its steps' intents keep theirs (newIntent): stored, shown and planned
 * from redacted, since every reader of the tenant sees a plan.
 */
function withoutSecrets(request: PlanRequest): PlanRequest {
  return {
    ...request,
    goal: redactString(request.goal),
    ...(request.context ? { context: redact(request.context) } : {}),
    ...(request.steps
      ? { steps: request.steps.map((step) => ({ ...step, params: redact(step.params) })) }
      : {}),
  };
}

/** A plan request: a goal, and up to 500 steps or a PDDL problem of up to 256 KiB. */
const PLAN_BYTES = 1024 * 1024;

export const planRoutes: TenantRoute[] = [
  tenantRoute(
    WRITERS,
    {
      operationId: "submitPlan",
      method: "post",
      path: PATHS.plans,
      tags: ["plans"],
      summary: "Submit a goal; central plans it (by a model, by PDDL, or as given) and runs it",
      description:
        "Given steps and a PDDL problem are checked against the fleet before anything runs. Answers 201 for a new plan and 200 when `idempotency_key` matched an earlier one.",
      request: body(PlanRequest),
      responses: {
        201: json(PlanAccepted, "Accepted"),
        200: json(PlanAccepted, "Already submitted with this idempotency_key"),
        ...errors(400, 401, 403, 409, 413, 415, 422),
      },
    },
    { action: "plans.submit", bodyLimit: PLAN_BYTES },
    async (c) => {
      const asked = bodyJson(c, PlanRequest);
      const s = c.env;
      // The digest is of what was sent, so a retry of the same request matches.
      const digest = await digestOf(canonicalJson(asked));
      const request = withoutSecrets(asked);
      if (request.idempotency_key !== undefined) {
        const earlier = s.plans.byKey(request.idempotency_key);
        if (earlier) {
          if (earlier.requestDigest !== digest)
            throw new Failure(
              409,
              "conflict",
              `idempotency_key '${request.idempotency_key}' was already used for a different plan (${earlier.planId}); a retry must send the same request`,
            );
          audited(c, earlier.planId, { duplicate: true });
          return c.json({ plan: s.planOwner.view(earlier.planId)!, duplicate: true }, 200);
        }
      }
      if (!s.planOwner.offers(request.planner))
        throw unprocessable("planner", `planner '${request.planner}' is not configured`, [
          "a configured planner",
        ]);
      const fleet = s.planOwner.fleet();
      if (request.steps) {
        const issues = checkPlanSteps(request.steps, fleet);
        if (issues.length > 0)
          throw new Failure(422, "unprocessable", "the plan's steps are refused", { issues });
      }
      if (request.pddl) {
        const error = problemError(fleet, request.pddl);
        if (error)
          throw unprocessable("pddl.problem", error, ["a PDDL problem over the fleet's domain"]);
      }
      const principal = c.get("principal").id;
      const plan = newPlan({
        plan_id: uuidv7(),
        tenant: s.ctx.tenant,
        request,
        principal,
        now: s.ctx.now(),
      });
      s.plans.create(plan, {
        idempotencyKey: request.idempotency_key ?? null,
        requestDigest: digest,
      });
      s.planOwner.start(plan, request.steps ?? null);
      const now = s.planOwner.view(plan.plan_id)!;
      audited(c, plan.plan_id, { planner: plan.planner, status: now.status });
      return c.json({ plan: now, duplicate: false }, 201);
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "listPlans",
      method: "get",
      path: PATHS.plans,
      tags: ["plans"],
      summary: "Plans, newest first",
      request: { query: PlansQuery },
      responses: { 200: json(PlanList, "Plans"), ...errors(400, 401, 403) },
    },
    (c) => c.json(c.env.plans.list(readQuery(new URL(c.req.url), PlansQuery))),
  ),
  tenantRoute(
    READERS,
    {
      operationId: "getPlan",
      method: "get",
      path: `${PATHS.plans}/{id}`,
      tags: ["plans"],
      summary: "One plan: its steps (the graph), their runs and results, its versions",
      request: { params: id(PlanId) },
      responses: { 200: json(Plan, "Plan"), ...errors(401, 403, 404) },
    },
    (c) => c.json(planOf(c)),
  ),
  planAction("cancel", "Cancel a plan: open steps are cancelled and running runs stopped"),
  planAction("pause", "Pause a plan: running steps go on, no new step starts"),
  planAction("resume", "Resume a paused plan"),
  tenantRoute(
    READERS,
    {
      operationId: "listApprovals",
      method: "get",
      path: PATHS.approvals,
      tags: ["approvals"],
      summary: "Approvals plans and steps ask for (the pending ones unless a status is given)",
      request: { query: ApprovalsQuery },
      responses: { 200: json(ApprovalList, "Approvals"), ...errors(400, 401, 403) },
    },
    (c) => c.json(c.env.plans.approvals(readQuery(new URL(c.req.url), ApprovalsQuery))),
  ),
  decision("approve", "Approve a pending approval: the plan or step it holds goes on"),
  decision("reject", "Reject a pending approval: the plan fails, or replans, as its policy says"),
];

function planAction(action: "cancel" | "pause" | "resume", summary: string): TenantRoute {
  return tenantRoute(
    WRITERS,
    {
      operationId: `${action}Plan`,
      method: "post",
      path: `${PATHS.plans}/{id}/${action}`,
      tags: ["plans"],
      summary,
      request: { params: id(PlanId), ...body(PlanActionRequest, false) },
      responses: { 200: json(Plan, "The plan now"), ...errors(400, 401, 403, 404, 409, 413, 415) },
    },
    { action: `plans.${action}` },
    (c) => {
      const plan = planOf(c);
      const { reason } = bodyJson(c, PlanActionRequest, { empty: {} });
      const by = c.get("principal").id;
      const input: PlanInput =
        action === "cancel"
          ? { type: "cancel", by, reason: reason ?? "no reason given" }
          : { type: action, by };
      c.env.planOwner.apply(plan.plan_id, input, true);
      audited(c, plan.plan_id, { reason: reason ?? null });
      return c.json(c.env.planOwner.view(plan.plan_id)!);
    },
  );
}

function decision(on: "approve" | "reject", summary: string): TenantRoute {
  return tenantRoute(
    WRITERS,
    {
      operationId: `${on}Approval`,
      method: "post",
      path: `${PATHS.approvals}/{id}/${on}`,
      tags: ["approvals"],
      summary,
      request: { params: id(Approval.shape.approval_id), ...body(ApprovalDecision, false) },
      responses: {
        200: json(Approval, "The approval, decided"),
        ...errors(400, 401, 403, 404, 409, 413, 415),
      },
    },
    { action: `approvals.${on}` },
    (c) => {
      const approvalId = c.req.param("id")!;
      const s = c.env;
      const approval = s.plans.approval(approvalId);
      if (!approval) throw notFound(`approval ${approvalId}`);
      const { reason } = bodyJson(c, ApprovalDecision, { empty: {} });
      if (approval.status !== "pending")
        throw new Failure(409, "conflict", `approval ${approvalId} is already ${approval.status}`);
      const by = c.get("principal").id;
      const decided = {
        approval_id: approvalId,
        step_id: approval.step_id,
        by,
        reason: reason ?? null,
      };
      // Time passed since the timer last ran: an approval past its deadline is expired first,
      // so the answer says so (409) and the plan goes on as an expiry takes it.
      s.planOwner.apply(approval.plan_id, { type: "tick" });
      const now = s.plans.approval(approvalId)!;
      if (now.status !== "pending")
        throw new Failure(409, "conflict", `approval ${approvalId} is already ${now.status}`);
      s.planOwner.apply(approval.plan_id, { type: on, ...decided }, true);
      audited(c, approvalId, {
        plan_id: approval.plan_id,
        step_id: approval.step_id,
        reason: reason ?? null,
      });
      return c.json(s.plans.approval(approvalId)!);
    },
  );
}

function planOf(c: TenantContextHono): Plan {
  const planId = c.req.param("id")!;
  const plan = check(PlanId, planId).ok ? c.env.planOwner.view(planId) : undefined;
  if (!plan) throw notFound(`plan ${planId}`);
  return plan;
}

function unprocessable(path: string, message: string, [expected]: [string]): Failure {
  return new Failure(422, "unprocessable", message, {
    issues: [{ path, expected, message, code: "invalid_plan" }],
  });
}
