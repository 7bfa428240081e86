import { and, asc, desc, eq, inArray, lt, lte, min } from "drizzle-orm";
import {
  type Approval,
  type ApprovalList,
  type ApprovalsQuery,
  type Plan,
  type PlanList,
  type PlanSummary,
  type PlansQuery,
  planDue,
  planUsage,
} from "../../contract";
import type { Database } from "../db/database";
import { page } from "../db/page";
import { approvals, planRuns, plans } from "../db/schema";

export type PlanRow = typeof plans.$inferSelect;

/**
 * Plans in SQLite. A plan is one JSON document the fold (contract/plans) produces; the columns
 * beside it, its approvals' rows and nothing else are written from it on every save, so the
 * timer and the lists select on what the fold decided.
 */
export class PlanTable {
  constructor(private readonly db: Database) {}

  create(plan: Plan, options: { idempotencyKey: string | null; requestDigest: string }): void {
    this.db
      .insert(plans)
      .values({
        ...this.columns(plan),
        idempotencyKey: options.idempotencyKey,
        requestDigest: options.requestDigest,
        createdAt: Date.parse(plan.created_at),
      })
      .run();
    this.saveApprovals(plan);
  }

  get(planId: string): Plan | undefined {
    return this.db.select({ plan: plans.plan }).from(plans).where(eq(plans.planId, planId)).get()
      ?.plan;
  }

  byKey(key: string): PlanRow | undefined {
    return this.db.select().from(plans).where(eq(plans.idempotencyKey, key)).get();
  }

  save(plan: Plan): void {
    this.db.update(plans).set(this.columns(plan)).where(eq(plans.planId, plan.plan_id)).run();
    this.saveApprovals(plan);
  }

  /** Records that `runId` is an attempt of `stepId` of `planId`. */
  linkRun(runId: string, planId: string, stepId: string): void {
    this.db.insert(planRuns).values({ runId, planId, stepId }).onConflictDoNothing().run();
  }

  /** The plan a run belongs to, if any. */
  planOfRun(runId: string): string | null {
    return (
      this.db
        .select({ plan: planRuns.planId })
        .from(planRuns)
        .where(eq(planRuns.runId, runId))
        .get()?.plan ?? null
    );
  }

  /** Plans whose timer is at or before `now`. */
  due(now: number): Plan[] {
    return this.db
      .select({ plan: plans.plan })
      .from(plans)
      .where(lte(plans.dueAt, now))
      .orderBy(asc(plans.dueAt))
      .all()
      .map((r) => r.plan);
  }

  nextDue(): number | null {
    return (
      this.db
        .select({ at: min(plans.dueAt) })
        .from(plans)
        .get()?.at ?? null
    );
  }

  /** Plans whose planner was at work (it runs in memory, so a restart must ask it again). */
  planning(): Plan[] {
    return this.db
      .select({ plan: plans.plan })
      .from(plans)
      .where(inArray(plans.status, ["planning", "replanning"]))
      .all()
      .map((r) => r.plan);
  }

  list(query: PlansQuery): PlanList {
    const rows = this.db
      .select({ plan: plans.plan })
      .from(plans)
      .where(
        and(
          query.status ? eq(plans.status, query.status) : undefined,
          query.before ? lt(plans.planId, query.before) : undefined,
        ),
      )
      .orderBy(desc(plans.planId))
      .limit(query.limit + 1)
      .all();
    const shown = page(rows, query.limit, (r) => r.plan.plan_id);
    return { plans: shown.rows.map((r) => summary(r.plan)), next: shown.next };
  }

  approval(approvalId: string): Approval | undefined {
    return this.db
      .select({ approval: approvals.approval })
      .from(approvals)
      .where(eq(approvals.approvalId, approvalId))
      .get()?.approval;
  }

  approvals(query: ApprovalsQuery): ApprovalList {
    const rows = this.db
      .select({ approval: approvals.approval })
      .from(approvals)
      .where(
        and(
          eq(approvals.status, query.status),
          query.plan ? eq(approvals.planId, query.plan) : undefined,
          query.before ? lt(approvals.approvalId, query.before) : undefined,
        ),
      )
      .orderBy(desc(approvals.approvalId))
      .limit(query.limit + 1)
      .all();
    const shown = page(rows, query.limit, (r) => r.approval.approval_id);
    return { approvals: shown.rows.map((r) => r.approval), next: shown.next };
  }

  private columns(plan: Plan) {
    return { planId: plan.plan_id, status: plan.status, dueAt: planDue(plan), plan };
  }

  private saveApprovals(plan: Plan): void {
    const all = [plan.approval, ...plan.steps.map((s) => s.approval)];
    for (const old of plan.history) all.push(...old.steps.map((s) => s.approval));
    for (const a of all) {
      if (!a) continue;
      const row = {
        approvalId: a.approval_id,
        planId: a.plan_id,
        status: a.status,
        requestedAt: a.requested_at,
        approval: a,
      };
      this.db
        .insert(approvals)
        .values(row)
        .onConflictDoUpdate({
          target: approvals.approvalId,
          set: { status: a.status, approval: a },
        })
        .run();
    }
  }
}

export function summary(plan: Plan): PlanSummary {
  return {
    plan_id: plan.plan_id,
    goal: plan.goal,
    planner: plan.planner,
    status: plan.status,
    version: plan.version,
    steps: plan.steps.length,
    steps_completed: plan.steps.filter((s) => s.status === "completed").length,
    usage: planUsage(plan),
    created_by: plan.created_by,
    created_at: plan.created_at,
    finished_at: plan.finished_at,
  };
}
